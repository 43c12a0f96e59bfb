"""The gateway store on SQL."""

from __future__ import annotations

from typing import Any

from domain.gateway.model import ChatTask
from domain.gateway.service import save_task_in
from infrastructure.sql.driver import Database
from infrastructure.sql.gateway.repositories import (
    SqlChatTaskRepository,
    SqlFeedbackRepository,
    SqlSessionRepository,
)
from infrastructure.sql.gateway.sqlite_save import save_task as sqlite_save_task
from infrastructure.sql.unit_of_work import SqlStore, SqlUnitOfWork, translate

# Saving a chat task on PostgreSQL as one statement in autocommit, so one round trip: upsert the
# caller's session (the upsert locks it, so writers of one session take turns; someone else's
# session makes it return nothing), then upsert the task unless its id is another user's or
# session's, keeping the stored user message when none is sent and stored feedback unless the new
# metadata has its own. A task id that is already someone else's leaves the session alone (the NOT
# EXISTS), so a refused save writes nothing; only a clash with a save committing at that very
# moment gets past it, and _UNDO_CREATED_SESSION takes back the session it created.
_PG_SAVE_TASK = """
WITH s AS (
    INSERT INTO sessions (id, user_id, created_time, updated_time)
    SELECT CAST(%(sid)s AS VARCHAR), CAST(%(user)s AS VARCHAR), %(now)s, %(now)s
    WHERE NOT EXISTS (
        SELECT 1 FROM chat_tasks WHERE id = %(tid)s AND (user_id <> %(user)s OR session_id <> %(sid)s)
    )
    ON CONFLICT (id) DO UPDATE SET updated_time = GREATEST(sessions.updated_time, EXCLUDED.updated_time)
    WHERE sessions.user_id = EXCLUDED.user_id
    RETURNING id, (xmax = 0) AS created
), t AS (
    INSERT INTO chat_tasks AS c
        (id, session_id, user_id, user_message, message_bubbles, task_metadata, created_time, updated_time)
    SELECT CAST(%(tid)s AS VARCHAR), s.id, CAST(%(user)s AS VARCHAR),
        %(message)s, %(bubbles)s, %(metadata)s, %(now)s, %(now)s
    FROM s
    ON CONFLICT (id) DO UPDATE SET
        user_message = COALESCE(EXCLUDED.user_message, c.user_message),
        message_bubbles = EXCLUDED.message_bubbles,
        task_metadata = CASE
            WHEN c.task_metadata IS NULL OR NOT (CAST(c.task_metadata AS JSONB) ? 'feedback')
            THEN EXCLUDED.task_metadata
            ELSE CAST(
                jsonb_build_object('feedback', CAST(c.task_metadata AS JSONB) -> 'feedback')
                || COALESCE(CAST(EXCLUDED.task_metadata AS JSONB), CAST('{}' AS JSONB))
            AS TEXT)
        END,
        updated_time = GREATEST(c.updated_time, EXCLUDED.updated_time)
    WHERE c.user_id = EXCLUDED.user_id AND c.session_id = EXCLUDED.session_id
    RETURNING c.id, c.session_id, c.user_id, c.user_message, c.message_bubbles, c.task_metadata,
              c.created_time, c.updated_time, (c.xmax = 0) AS inserted
)
SELECT t.*, s.created AS session_created FROM s LEFT JOIN t ON true
"""
_UNDO_CREATED_SESSION = """
DELETE FROM sessions WHERE id = %(sid)s AND user_id = %(user)s AND created_time = %(now)s
    AND NOT EXISTS (SELECT 1 FROM chat_tasks WHERE session_id = %(sid)s)
"""


class SqlGatewayUnitOfWork(SqlUnitOfWork):
    def bind(self, connection: Database) -> None:
        self.sessions = SqlSessionRepository(connection)
        self.tasks = SqlChatTaskRepository(connection)
        self.feedback = SqlFeedbackRepository(connection)


class SqlGatewayStore(SqlStore):
    def unit_of_work(self, *, read_only: bool = False) -> SqlGatewayUnitOfWork:
        return SqlGatewayUnitOfWork(self, read_only)

    async def save_task(self, user_id: str, task: ChatTask) -> tuple[ChatTask, bool] | None:
        if self.engine.dialect.name == "postgresql":
            return await self._save_task_in_one_statement(user_id, task)
        if self.sqlite_writer is not None:
            try:
                return await self.sqlite_writer.run(sqlite_save_task, user_id, task)
            except Exception as exc:
                raise translate(exc) from exc
        async with self.unit_of_work() as uow:
            saved = await save_task_in(uow, user_id, task)
            if saved is not None:
                await uow.commit()
            return saved

    async def _save_task_in_one_statement(self, user_id: str, task: ChatTask) -> tuple[ChatTask, bool] | None:
        params: dict[str, Any] = {
            "sid": task.session_id,
            "user": user_id,
            "now": task.updated_time,
            "tid": task.id,
            "message": task.user_message,
            "bubbles": task.message_bubbles,
            "metadata": task.task_metadata,
        }
        try:
            async with self.driver() as raw:
                row = await (await raw.execute(_PG_SAVE_TASK, params)).fetchone()
                if row is not None and row[0] is None and row[-1]:
                    await raw.execute(_UNDO_CREATED_SESSION, params)  # the clash raced past the guard
        except Exception as exc:
            raise translate(exc) from exc
        if row is None or row[0] is None:
            return None
        *fields, inserted, _ = row
        return ChatTask(*fields), bool(inserted)
