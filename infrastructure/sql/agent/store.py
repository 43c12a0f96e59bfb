"""One agent's store on SQL: its own engine, its rows keyed by its name."""

from __future__ import annotations

import re
from collections import namedtuple
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.agent.model import AgentSession, Event, StateDelta
from domain.agent.service import append_in
from infrastructure.sql.agent.repositories import (
    SqlAgentSessionRepository,
    SqlEventRepository,
    SqlRunRepository,
    SqlStateRepository,
    body_text,
    session_of,
)
from infrastructure.sql.agent.sqlite_append import append as sqlite_append
from infrastructure.sql.agent.sqlite_append import can_append
from infrastructure.sql.agent.tables import agent_sessions
from infrastructure.sql.driver import Database
from infrastructure.sql.driver_pool import DriverPool
from infrastructure.sql.unit_of_work import SqlStore, SqlUnitOfWork, translate

# The whole append as one statement, so it commits on its own (autocommit) in one round trip:
# lock the session (re-checked against the expected version after any wait), insert the event
# with the next sequence unless its id is stored already, merge the shared scopes with jsonb's
# shallow `||` through upserts, and move the session on only when the event went in.
_PG_APPEND = text(
    """
WITH s AS (
    SELECT last_sequence FROM agent_sessions
    WHERE app_name = :app AND user_id = :user AND id = :sid
      AND (CAST(:expected AS BIGINT) IS NULL OR version = CAST(:expected AS BIGINT))
    FOR UPDATE
), e AS (
    INSERT INTO agent_events (app_name, user_id, session_id, sequence, id, invocation_id, author, timestamp, body)
    SELECT :app, :user, :sid, s.last_sequence + 1, :eid, :inv, :author, :ts, :body FROM s
    ON CONFLICT (app_name, user_id, session_id, id) DO NOTHING
    RETURNING sequence
), app_state AS (
    INSERT INTO agent_app_states (app_name, state, update_time)
    SELECT :app, CAST(:app_delta AS TEXT), :now FROM e WHERE CAST(:app_delta AS TEXT) IS NOT NULL
    ON CONFLICT (app_name) DO UPDATE
    SET state = CAST(CAST(agent_app_states.state AS JSONB) || CAST(EXCLUDED.state AS JSONB) AS TEXT),
        update_time = EXCLUDED.update_time
), user_state AS (
    INSERT INTO agent_user_states (app_name, user_id, state, update_time)
    SELECT :app, :user, CAST(:user_delta AS TEXT), :now FROM e WHERE CAST(:user_delta AS TEXT) IS NOT NULL
    ON CONFLICT (app_name, user_id) DO UPDATE
    SET state = CAST(CAST(agent_user_states.state AS JSONB) || CAST(EXCLUDED.state AS JSONB) AS TEXT),
        update_time = EXCLUDED.update_time
)
UPDATE agent_sessions
SET version = version + 1, last_sequence = e.sequence, last_update_time = :now,
    state = CASE WHEN CAST(:session_delta AS TEXT) IS NULL THEN state
            ELSE CAST(CAST(state AS JSONB) || CAST(CAST(:session_delta AS TEXT) AS JSONB) AS TEXT) END
FROM e
WHERE app_name = :app AND user_id = :user AND id = :sid
RETURNING agent_sessions.*
"""
)


# psycopg's own placeholder style, and the row shape RETURNING agent_sessions.* gives back.
_PG_APPEND_SQL = re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", _PG_APPEND.text)
_SessionRow = namedtuple("_SessionRow", [c.name for c in agent_sessions.c])  # type: ignore[misc]


def _json_or_none(scope: dict[str, Any]) -> str | None:
    return msgspec.json.encode(scope).decode() if scope else None


class SqlAgentUnitOfWork(SqlUnitOfWork):
    def __init__(self, store: SqlAgentStore, read_only: bool) -> None:
        super().__init__(store, read_only)
        self._app = store.app_name

    def bind(self, connection: Database) -> None:
        self.sessions = SqlAgentSessionRepository(connection, self._app)
        self.events = SqlEventRepository(connection, self._app)
        self.states = SqlStateRepository(connection, self._app)
        self.runs = SqlRunRepository(connection, self._app)


class SqlAgentStore(SqlStore):
    def __init__(
        self,
        engine: AsyncEngine,
        app_name: str,
        *,
        autocommit_engine: AsyncEngine | None = None,
        driver_pool: DriverPool | None = None,
    ) -> None:
        super().__init__(engine, autocommit_engine=autocommit_engine, driver_pool=driver_pool)
        self.app_name = app_name

    def unit_of_work(self, *, read_only: bool = False) -> SqlAgentUnitOfWork:
        return SqlAgentUnitOfWork(self, read_only)

    async def append(
        self,
        user_id: str,
        session_id: str,
        event: Event,
        delta: StateDelta,
        *,
        now: int,
        expected_version: int | None = None,
    ) -> AgentSession | None:
        if self.engine.dialect.name == "postgresql":
            return await self._append_in_one_statement(user_id, session_id, event, delta, now, expected_version)
        if self.sqlite_writer is not None and can_append(delta):
            try:
                return await self.sqlite_writer.run(
                    sqlite_append, self.app_name, user_id, session_id, event, delta, now, expected_version
                )
            except Exception as exc:
                raise translate(exc) from exc
        async with self.unit_of_work() as uow:
            session = await append_in(
                uow, user_id, session_id, event, delta, now=now, expected_version=expected_version
            )
            if session is not None:
                await uow.commit()
            return session

    async def _append_in_one_statement(
        self,
        user_id: str,
        session_id: str,
        event: Event,
        delta: StateDelta,
        now: int,
        expected_version: int | None,
    ) -> AgentSession | None:
        params = {
            "app": self.app_name,
            "user": user_id,
            "sid": session_id,
            "expected": expected_version,
            "eid": event.id,
            "inv": event.invocation_id,
            "author": event.author,
            "ts": event.timestamp,
            "body": body_text(event.body),
            "now": now,
            "session_delta": _json_or_none(delta.session),
            "app_delta": _json_or_none(delta.app),
            "user_delta": _json_or_none(delta.user),
        }
        try:
            # Straight to psycopg for the hot statement: SQLAlchemy's execution layer costs as
            # much CPU as the rest of the append (benchmarks/agent_store.py, 16 sessions).
            async with self.driver() as raw:
                cursor = await raw.execute(_PG_APPEND_SQL, params)
                row = await cursor.fetchone()
        except Exception as exc:
            raise translate(exc) from exc
        return None if row is None else session_of(_SessionRow(*row))
