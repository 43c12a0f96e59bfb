"""The agent-store ports on SQL (Core). Every statement is bound to one agent's name."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import msgspec
from sqlalchemy import Integer, Table, Text, and_, bindparam, cast, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from domain.agent.model import AgentSession, Behavior, Event, Run, StoredJson
from domain.paging import SortKey
from infrastructure.sql.agent.tables import (
    agent_app_states,
    agent_events,
    agent_runs,
    agent_sessions,
    agent_user_states,
)
from infrastructure.sql.driver import Database, DriverQuery
from infrastructure.sql.keyset import after_key

_encode = msgspec.json.encode
_decode = msgspec.json.decode
S, E = agent_sessions.c, agent_events.c

_SESSION = select(agent_sessions).where(
    S.app_name == bindparam("app"), S.user_id == bindparam("user"), S.id == bindparam("sid")
)
_SESSION_LOCKED = _SESSION.with_for_update()
_EVENTS_OF = and_(E.app_name == bindparam("app"), E.user_id == bindparam("user"), E.session_id == bindparam("sid"))
# An event's own columns only: the session's key is known, and repeating it per row costs at 10^4 rows.
_EVENT_COLUMNS = (E.id, E.sequence, E.invocation_id, E.author, E.timestamp, E.body)
_EVENT_BY_ID = select(*_EVENT_COLUMNS).where(_EVENTS_OF, E.id == bindparam("eid"))
_EVENTS_PAGE = DriverQuery(
    select(*_EVENT_COLUMNS)
    .where(_EVENTS_OF, E.sequence > bindparam("after"))
    .order_by(E.sequence)
    .limit(bindparam("limit", type_=Integer))
)


def _recent(limited: bool, after_timestamp: bool) -> DriverQuery:
    statement = select(*_EVENT_COLUMNS).where(_EVENTS_OF).order_by(E.sequence.desc())
    if after_timestamp:
        statement = statement.where(E.timestamp > bindparam("after"))
    return DriverQuery(statement.limit(bindparam("limit", type_=Integer)) if limited else statement)


_RECENT = {(limited, after): _recent(limited, after) for limited in (False, True) for after in (False, True)}


def _now() -> int:
    return time.time_ns() // 1_000_000


_APP_STATE, _USER_STATE = agent_app_states.alias("app_state"), agent_user_states.alias("user_state")
_SESSION_WITH_SHARED_STATE = DriverQuery(
    select(agent_sessions, _APP_STATE.c.state.label("app_state"), _USER_STATE.c.state.label("user_state"))
    .select_from(
        agent_sessions.outerjoin(_APP_STATE, _APP_STATE.c.app_name == S.app_name).outerjoin(
            _USER_STATE, and_(_USER_STATE.c.app_name == S.app_name, _USER_STATE.c.user_id == S.user_id)
        )
    )
    .where(S.app_name == bindparam("app"), S.user_id == bindparam("user"), S.id == bindparam("sid"))
)


class _Repository:
    def __init__(self, connection: Database, app_name: str) -> None:
        self._db = connection
        self._app = app_name


def advance_statement(*, merge: Any, expected: bool) -> Any:
    statement = (
        update(agent_sessions)
        .where(S.app_name == bindparam("app"), S.user_id == bindparam("user"), S.id == bindparam("sid"))
        .values(version=S.version + 1, last_sequence=S.last_sequence + 1, last_update_time=bindparam("now"))
        .returning(*agent_sessions.c)
    )
    if merge is not None:
        statement = statement.values(state=merge)
    return statement.where(S.version == bindparam("expected")) if expected else statement


# PostgreSQL's jsonb `||` is exactly a shallow merge: the whole append step is one prebuilt statement.
_PG_MERGE = cast(cast(S.state, JSONB).op("||")(bindparam("delta", type_=JSONB)), Text)
_PG_ADVANCE = {
    (delta, expected): advance_statement(merge=_PG_MERGE if delta else None, expected=expected)
    for delta in (False, True)
    for expected in (False, True)
}
INSERT_NEW_EVENT = {
    name: dialect_insert(agent_events)
    .on_conflict_do_nothing(index_elements=["app_name", "user_id", "session_id", "id"])
    .returning(E.sequence)
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def sqlite_merge(delta: dict[str, Any], column: Any = S.state) -> Any:
    """SQLite's json_set with one path per key is a shallow merge too (json_patch would merge nested
    objects and drop nulls); None for keys its path syntax cannot quote."""
    if any('"' in k or "\\" in k for k in delta):
        return None
    arguments: list[Any] = []
    for key, value in delta.items():
        arguments += [f'$."{key}"', func.json(_encode(value).decode())]
    return func.json_set(column, *arguments)


def event_values(app_name: str, user_id: str, session_id: str, event: Event, sequence: int) -> dict[str, Any]:
    return {
        "app_name": app_name,
        "user_id": user_id,
        "session_id": session_id,
        "sequence": sequence,
        "id": event.id,
        "invocation_id": event.invocation_id,
        "author": event.author,
        "timestamp": event.timestamp,
        "body": body_text(event.body),
    }


def body_text(body: Mapping[str, Any]) -> str:
    """An event body as stored: one read from storage keeps its text; others are encoded."""
    return body.text if isinstance(body, StoredJson) else _encode(body).decode()


def session_of(row: Any) -> AgentSession:
    return AgentSession(
        id=row.id,
        user_id=row.user_id,
        state=_decode(row.state),
        version=row.version,
        last_sequence=row.last_sequence,
        created_time=row.created_time,
        last_update_time=row.last_update_time,
    )


def _event(row: Any) -> Event:
    event_id, sequence, invocation_id, author, timestamp, body = row
    return Event(event_id, sequence, invocation_id, author, timestamp, StoredJson(body, _decode))


class SqlAgentSessionRepository(_Repository):
    def _values(self, session: AgentSession) -> dict[str, Any]:
        return {
            "app_name": self._app,
            "user_id": session.user_id,
            "id": session.id,
            "state": _encode(session.state).decode(),
            "version": session.version,
            "last_sequence": session.last_sequence,
            "created_time": session.created_time,
            "last_update_time": session.last_update_time,
        }

    async def add(self, session: AgentSession) -> None:
        await self._db.execute(insert(agent_sessions), self._values(session))

    async def get(self, user_id: str, session_id: str, *, for_update: bool = False) -> AgentSession | None:
        statement = _SESSION_LOCKED if for_update else _SESSION
        row = (await self._db.execute(statement, {"app": self._app, "user": user_id, "sid": session_id})).first()
        return None if row is None else session_of(row)

    async def update(self, session: AgentSession) -> None:
        values = self._values(session)
        key = and_(S.app_name == self._app, S.user_id == session.user_id, S.id == session.id)
        await self._db.execute(update(agent_sessions).where(key).values(**values))

    async def get_with_shared_state(
        self, user_id: str, session_id: str
    ) -> tuple[AgentSession, dict[str, Any], dict[str, Any]] | None:
        params = {"app": self._app, "user": user_id, "sid": session_id}
        rows = await _SESSION_WITH_SHARED_STATE.all(self._db, params)
        if not rows:
            return None
        row = rows[0]
        return session_of(row), _decode(row.app_state or "{}"), _decode(row.user_state or "{}")

    async def advance(
        self,
        user_id: str,
        session_id: str,
        *,
        state_delta: dict[str, Any],
        now: int,
        expected_version: int | None = None,
    ) -> AgentSession | None:
        params: dict[str, Any] = {"app": self._app, "user": user_id, "sid": session_id, "now": now}
        if expected_version is not None:
            params["expected"] = expected_version
        dialect = self._db.dialect.name
        statement = None
        if dialect == "postgresql":
            statement = _PG_ADVANCE[(bool(state_delta), expected_version is not None)]
            params["delta"] = state_delta
        elif dialect == "sqlite":
            merge = sqlite_merge(state_delta) if state_delta else None
            if merge is not None or not state_delta:
                statement = advance_statement(merge=merge, expected=expected_version is not None)
        if statement is not None:
            row = (await self._db.execute(statement, params)).first()
            return None if row is None else session_of(row)
        # MySQL has no UPDATE ... RETURNING: lock the row, read it, write it back.
        current = await self.get(user_id, session_id, for_update=True)
        advanced = current.advanced(state_delta, now, expected_version) if current is not None else None
        if advanced is not None:
            await self.update(advanced)
        return advanced

    async def delete(self, user_id: str, session_id: str) -> None:
        params = {"app": self._app, "user": user_id, "sid": session_id}
        await self._db.execute(delete(agent_events).where(_EVENTS_OF), params)
        key = and_(S.app_name == bindparam("app"), S.user_id == bindparam("user"), S.id == bindparam("sid"))
        await self._db.execute(delete(agent_sessions).where(key), params)

    async def list(self, user_id: str, *, limit: int, after: SortKey | None = None) -> list[AgentSession]:
        conditions = [S.app_name == self._app, S.user_id == user_id]
        if after is not None:
            conditions.append(after_key(S.last_update_time, S.id, after, descending=True))
        statement = (
            select(agent_sessions).where(*conditions).order_by(S.last_update_time.desc(), S.id.desc()).limit(limit)
        )
        return [session_of(row) for row in (await self._db.execute(statement)).all()]


class SqlEventRepository(_Repository):
    async def add(self, user_id: str, session_id: str, event: Event) -> bool:
        values = event_values(self._app, user_id, session_id, event, event.sequence)
        insert_new = INSERT_NEW_EVENT.get(self._db.dialect.name)
        if insert_new is not None:
            # The unique (session, event id) index answers "already stored?" in the same statement;
            # RETURNING, not rowcount, says whether the row was written.
            return (await self._db.execute(insert_new, values)).first() is not None
        # MySQL: INSERT IGNORE would also swallow truncation errors, so ask first.
        if await self.get(user_id, session_id, event.id) is not None:
            return False
        await self._db.execute(insert(agent_events), values)
        return True

    async def get(self, user_id: str, session_id: str, event_id: str) -> Event | None:
        params = {"app": self._app, "user": user_id, "sid": session_id, "eid": event_id}
        row = (await self._db.execute(_EVENT_BY_ID, params)).first()
        return None if row is None else _event(row)

    async def recent(
        self, user_id: str, session_id: str, *, limit: int | None = None, after_timestamp: int | None = None
    ) -> list[Event]:
        # Newest first through the primary key (an index range scan whatever the history's length),
        # then turned around: the cost is that of `limit` rows, not of the session.
        params = {"app": self._app, "user": user_id, "sid": session_id, "after": after_timestamp, "limit": limit}
        rows = await _RECENT[limit is not None, after_timestamp is not None].all(self._db, params)
        return [_event(row) for row in reversed(rows)]

    async def page(self, user_id: str, session_id: str, *, after_sequence: int, limit: int) -> list[Event]:
        params = {"app": self._app, "user": user_id, "sid": session_id, "after": after_sequence, "limit": limit}
        return [_event(row) for row in await _EVENTS_PAGE.all(self._db, params)]


class SqlStateRepository(_Repository):
    async def _read(self, table: Table, key: dict[str, Any], *, lock: bool = False) -> dict[str, Any] | None:
        statement = select(table.c.state).where(*(table.c[k] == v for k, v in key.items()))
        row = (await self._db.execute(statement.with_for_update() if lock else statement)).first()
        return None if row is None else dict(_decode(row.state))

    async def _merge(self, table: Table, key: dict[str, Any], delta: dict[str, Any]) -> None:
        """Read-modify-write under a row lock, so concurrent appends to different sessions of one
        agent or user cannot lose each other's changes; the first writer of a scope inserts its row."""
        current = await self._read(table, key, lock=True)
        if current is None:
            try:
                async with self._db.begin_nested():
                    values = {**key, "state": _encode(delta).decode(), "update_time": _now()}
                    await self._db.execute(insert(table), values)
                return
            except IntegrityError:  # another writer inserted it first: merge into theirs
                current = await self._read(table, key, lock=True) or {}
        where = [table.c[k] == v for k, v in key.items()]
        merged = _encode({**current, **delta}).decode()
        await self._db.execute(update(table).where(*where).values(state=merged, update_time=_now()))

    async def app(self) -> dict[str, Any]:
        return await self._read(agent_app_states, {"app_name": self._app}) or {}

    async def user(self, user_id: str) -> dict[str, Any]:
        return await self._read(agent_user_states, {"app_name": self._app, "user_id": user_id}) or {}

    async def merge_app(self, delta: dict[str, Any]) -> None:
        await self._merge(agent_app_states, {"app_name": self._app}, delta)

    async def merge_user(self, user_id: str, delta: dict[str, Any]) -> None:
        await self._merge(agent_user_states, {"app_name": self._app, "user_id": user_id}, delta)


class SqlRunRepository(_Repository):
    def _values(self, run: Run) -> dict[str, Any]:
        return {
            "app_name": self._app,
            "id": run.id,
            "user_id": run.user_id,
            "session_id": run.session_id,
            "requested_session_id": run.requested_session_id,
            "behavior": run.behavior.value,
            "created_time": run.created_time,
            "ended_time": run.ended_time,
        }

    async def add(self, run: Run) -> None:
        await self._db.execute(insert(agent_runs), self._values(run))

    async def get(self, run_id: str) -> Run | None:
        statement = select(agent_runs).where(agent_runs.c.app_name == self._app, agent_runs.c.id == run_id)
        row = (await self._db.execute(statement)).first()
        if row is None:
            return None
        return Run(
            row.id,
            row.user_id,
            row.session_id,
            row.requested_session_id,
            Behavior(row.behavior),
            row.created_time,
            row.ended_time,
        )

    async def update(self, run: Run) -> None:
        key = and_(agent_runs.c.app_name == self._app, agent_runs.c.id == run.id)
        await self._db.execute(update(agent_runs).where(key).values(**self._values(run)))
