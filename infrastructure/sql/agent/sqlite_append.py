"""The append on SQLite, done whole in a worker thread.

Through aiosqlite every statement is a hop to its thread and back; an append is five of them and
the hops cost more than SQLite's work. Here the whole transaction (BEGIN IMMEDIATE, claim the
sequence and merge the session's state, insert the event unless stored, merge the shared scopes,
COMMIT) runs on the sqlite3 driver in one hop.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.agent.model import AgentSession, Event, StateDelta
from infrastructure.sql.agent.repositories import (
    INSERT_NEW_EVENT,
    advance_statement,
    event_values,
    session_of,
    sqlite_merge,
)
from infrastructure.sql.agent.tables import agent_app_states, agent_user_states

_encode = msgspec.json.encode


def can_append(delta: StateDelta) -> bool:
    """json_set paths cannot quote every key; those few appends take the general path."""
    return all(sqlite_merge(scope) is not None for scope in (delta.session, delta.app, delta.user) if scope)


def _merge_shared(connection: Connection, table: Table, key: dict[str, Any], delta: dict[str, Any], now: int) -> None:
    upsert = sqlite_insert(table).values(**key, state=_encode(delta).decode(), update_time=now)
    merged = sqlite_merge(delta, column=table.c.state)
    connection.execute(
        upsert.on_conflict_do_update(index_elements=list(key), set_={"state": merged, "update_time": now})
    )


def _append(
    engine: Engine,
    app_name: str,
    user_id: str,
    session_id: str,
    event: Event,
    delta: StateDelta,
    now: int,
    expected_version: int | None,
) -> AgentSession | None:
    with engine.connect() as connection, connection.begin() as transaction:
        params: dict[str, Any] = {"app": app_name, "user": user_id, "sid": session_id, "now": now}
        if expected_version is not None:
            params["expected"] = expected_version
        statement = advance_statement(
            merge=sqlite_merge(delta.session) if delta.session else None, expected=expected_version is not None
        )
        row = connection.execute(statement, params).first()
        if row is None:
            transaction.rollback()
            return None
        session = session_of(row)
        values = event_values(app_name, user_id, session_id, event, session.last_sequence)
        if connection.execute(INSERT_NEW_EVENT["sqlite"], values).first() is None:
            transaction.rollback()
            return None
        if delta.app:
            _merge_shared(connection, agent_app_states, {"app_name": app_name}, delta.app, now)
        if delta.user:
            _merge_shared(connection, agent_user_states, {"app_name": app_name, "user_id": user_id}, delta.user, now)
        return session


class SqliteWriter:
    """One thread that does every append of a store: SQLite admits one writer at a time anyway, and
    queueing here beats its busy-wait (sleeps of growing length) when asyncio tasks write together.
    Other processes on the same file still take turns through the busy timeout."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")

    async def append(
        self,
        app_name: str,
        user_id: str,
        session_id: str,
        event: Event,
        delta: StateDelta,
        now: int,
        expected_version: int | None,
    ) -> AgentSession | None:
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, _append, self.engine, app_name, user_id, session_id, event, delta, now, expected_version
        )

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self.engine.dispose()
