"""Saving a chat task on SQLite, done whole in the store's writer thread (`SqliteWriter`).

The same rules as `save_task_in` through the repositories, in one transaction and one hop: the
caller's session is created or moved on, someone else's session or task id is refused with nothing
written, and a task saved again is merged as the domain says (`resaved`).
"""

from __future__ import annotations

import sqlite3

from domain.gateway.model import ChatTask
from domain.gateway.service import resaved

_TASK_COLUMNS = "id, session_id, user_id, user_message, message_bubbles, task_metadata, created_time, updated_time"


def save_task(db: sqlite3.Connection, user_id: str, task: ChatTask) -> tuple[ChatTask, bool] | None:
    now = task.updated_time
    session = db.execute("SELECT user_id, updated_time FROM sessions WHERE id = ?", (task.session_id,)).fetchone()
    if session is not None and session[0] != user_id:
        return None
    row = db.execute(f"SELECT {_TASK_COLUMNS} FROM chat_tasks WHERE id = ?", (task.id,)).fetchone()
    existing = None if row is None else ChatTask(*row)
    if existing is not None and (existing.user_id != user_id or existing.session_id != task.session_id):
        return None
    if session is None:
        db.execute(
            "INSERT INTO sessions (id, user_id, created_time, updated_time) VALUES (?, ?, ?, ?)",
            (task.session_id, user_id, now, now),
        )
    elif session[1] < now:
        db.execute("UPDATE sessions SET updated_time = ? WHERE id = ?", (now, task.session_id))
    if existing is None:
        db.execute(
            f"INSERT INTO chat_tasks ({_TASK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (task.id, task.session_id, user_id, task.user_message, task.message_bubbles, task.task_metadata, now, now),
        )
        return task, True
    saved = resaved(existing, task)
    db.execute(
        "UPDATE chat_tasks SET user_message = ?, message_bubbles = ?, task_metadata = ?, updated_time = ? WHERE id = ?",
        (saved.user_message, saved.message_bubbles, saved.task_metadata, saved.updated_time, saved.id),
    )
    return saved, False
