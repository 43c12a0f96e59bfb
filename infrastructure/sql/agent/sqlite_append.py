"""The append on SQLite, done whole in the store's writer thread (`SqliteWriter`): claim the sequence
and merge the session's state, insert the event unless stored, merge the shared scopes, in one
transaction and one hop. All values, JSON paths included, are bound parameters.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from domain.agent.model import AgentSession, Event, StateDelta
from infrastructure.sql.agent.repositories import body_text, session_of

_encode = msgspec.json.encode
_SESSION_COLUMNS = "app_name, user_id, id, state, version, last_sequence, created_time, last_update_time"
_INSERT_EVENT = (
    "INSERT INTO agent_events (app_name, user_id, session_id, sequence, id, invocation_id, author, timestamp, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (app_name, user_id, session_id, id) DO NOTHING RETURNING sequence"
)


def can_append(delta: StateDelta) -> bool:
    """JSON paths cannot quote every key; the few appends with such keys take the general path."""
    return not any('"' in k or "\\" in k for scope in (delta.session, delta.app, delta.user) for k in scope)


def _json_set(column: str, delta: dict[str, Any]) -> tuple[str, list[Any]]:
    """`json_set(column, path, value, ...)`: a shallow merge (json_patch would merge nested objects
    and drop nulls)."""
    params: list[Any] = []
    for key, value in delta.items():
        params += [f'$."{key}"', _encode(value).decode()]
    return f"json_set({column}{', ?, json(?)' * len(delta)})", params


def _advance(
    db: sqlite3.Connection, key: list[Any], delta: dict[str, Any], now: int, expected: int | None
) -> tuple[Any, ...] | None:
    sets, params = "version = version + 1, last_sequence = last_sequence + 1, last_update_time = ?", [now]
    if delta:
        merge, merge_params = _json_set("state", delta)
        sets, params = f"{sets}, state = {merge}", params + merge_params
    where = "app_name = ? AND user_id = ? AND id = ?" + ("" if expected is None else " AND version = ?")
    params += key + ([] if expected is None else [expected])
    row: tuple[Any, ...] | None = db.execute(
        f"UPDATE agent_sessions SET {sets} WHERE {where} RETURNING {_SESSION_COLUMNS}", params
    ).fetchone()
    return row


def _merge_shared(db: sqlite3.Connection, table: str, key: dict[str, Any], delta: dict[str, Any], now: int) -> None:
    merge, merge_params = _json_set("state", delta)
    columns = ", ".join(key)
    db.execute(
        f"INSERT INTO {table} ({columns}, state, update_time) VALUES ({'?, ' * len(key)}?, ?)"
        f" ON CONFLICT ({columns}) DO UPDATE SET state = {merge}, update_time = excluded.update_time",
        [*key.values(), _encode(delta).decode(), now, *merge_params],
    )


def append(
    db: sqlite3.Connection,
    app_name: str,
    user_id: str,
    session_id: str,
    event: Event,
    delta: StateDelta,
    now: int,
    expected_version: int | None,
) -> AgentSession | None:
    """The append, in the writer thread's transaction (SqliteWriter.run): nothing written on None."""
    row = _advance(db, [app_name, user_id, session_id], delta.session, now, expected_version)
    if row is None:
        db.execute("ROLLBACK")
        return None
    session = session_of(_Row(*row))
    body = body_text(event.body)
    values = [app_name, user_id, session_id, session.last_sequence, event.id, event.invocation_id]
    if db.execute(_INSERT_EVENT, [*values, event.author, event.timestamp, body]).fetchone() is None:
        db.execute("ROLLBACK")
        return None
    if delta.app:
        _merge_shared(db, "agent_app_states", {"app_name": app_name}, delta.app, now)
    if delta.user:
        _merge_shared(db, "agent_user_states", {"app_name": app_name, "user_id": user_id}, delta.user, now)
    return session


class _Row:
    """Attribute access over a RETURNING row, in the order of _SESSION_COLUMNS."""

    def __init__(self, *values: Any) -> None:
        for name, value in zip(_SESSION_COLUMNS.split(", "), values, strict=True):
            setattr(self, name, value)
