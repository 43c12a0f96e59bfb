"""The agent-store ports on SQL (Core), through the unit of work's `Connection`. Every statement is
bound to one agent's name; the hot ones are built once at import."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Integer, Table, and_, bindparam, delete, func, select

from domain.agent.model import AgentSession, Behavior, Event, EventRecord, Run
from domain.errors import Conflict
from domain.paging import SortKey
from infrastructure.sql.agent.tables import (
    agent_app_states,
    agent_events,
    agent_runs,
    agent_sessions,
    agent_user_states,
)
from infrastructure.sql.connection import Connection, Query
from infrastructure.sql.keyset import after_key
from infrastructure.sql.statements import insert_row, update_row

_encode = msgspec.json.encode
_decode = msgspec.json.decode
S, E = agent_sessions.c, agent_events.c

_THE_SESSION = and_(S.app_name == bindparam("app"), S.user_id == bindparam("user"), S.id == bindparam("sid"))
_SESSION = Query(select(agent_sessions).where(_THE_SESSION))
_SESSION_LOCKED = Query(select(agent_sessions).where(_THE_SESSION).with_for_update())
_INSERT_SESSION = insert_row(agent_sessions)
_UPDATE_SESSION = update_row(agent_sessions, "app_name", "user_id", "id")
_DELETE_SESSION = Query(delete(agent_sessions).where(_THE_SESSION))

_EVENTS_OF = and_(E.app_name == bindparam("app"), E.user_id == bindparam("user"), E.session_id == bindparam("sid"))
# An event's own columns only: the session's key is known, and repeating it per row costs at 10^4 rows.
_EVENT_COLUMNS = (E.id, E.sequence, E.invocation_id, E.author, E.timestamp, E.body)
_EVENT_BY_ID = Query(select(*_EVENT_COLUMNS).where(_EVENTS_OF, E.id == bindparam("eid")))
_INSERT_EVENT = insert_row(agent_events)
_DELETE_EVENTS = Query(delete(agent_events).where(_EVENTS_OF))
# The retention purge, oldest first through ix_agent_sessions_app_updated; a session another request
# holds (an append under way) is skipped this round rather than waited for.
_STALE_SESSIONS = and_(S.app_name == bindparam("app"), S.last_update_time < bindparam("before"))
_STALE = Query(
    select(S.user_id, S.id)
    .where(_STALE_SESSIONS)
    .order_by(S.last_update_time)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)
_COUNT_STALE = Query(select(func.count()).select_from(agent_sessions).where(_STALE_SESSIONS))


def _of_user(table: Table) -> Query:
    return Query(delete(table).where(table.c.app_name == bindparam("app"), table.c.user_id == bindparam("user")))


_SESSIONS_OF_USER, _EVENTS_OF_USER = _of_user(agent_sessions), _of_user(agent_events)
_USER_STATE_OF_USER, _RUNS_OF_USER = _of_user(agent_user_states), _of_user(agent_runs)
_EVENTS_PAGE = Query(
    select(*_EVENT_COLUMNS)
    .where(_EVENTS_OF, E.sequence > bindparam("after"))
    .order_by(E.sequence)
    .limit(bindparam("limit", type_=Integer))
)

_EVENT_SIZES = Query(
    select(E.sequence, func.length(E.body).label("size"))
    .where(_EVENTS_OF, E.sequence > bindparam("after"))
    .order_by(E.sequence)
    .limit(bindparam("limit", type_=Integer))
)


def _recent(limited: bool, after_timestamp: bool) -> Query:
    statement = select(*_EVENT_COLUMNS).where(_EVENTS_OF).order_by(E.sequence.desc())
    if after_timestamp:
        statement = statement.where(E.timestamp > bindparam("after"))
    return Query(statement.limit(bindparam("limit", type_=Integer)) if limited else statement)


_RECENT = {(limited, after): _recent(limited, after) for limited in (False, True) for after in (False, True)}

_APP_STATE, _USER_STATE = agent_app_states.alias("app_state"), agent_user_states.alias("user_state")
_SESSION_WITH_SHARED_STATE = Query(
    select(agent_sessions, _APP_STATE.c.state.label("app_state"), _USER_STATE.c.state.label("user_state"))
    .select_from(
        agent_sessions.outerjoin(_APP_STATE, _APP_STATE.c.app_name == S.app_name).outerjoin(
            _USER_STATE, and_(_USER_STATE.c.app_name == S.app_name, _USER_STATE.c.user_id == S.user_id)
        )
    )
    .where(_THE_SESSION)
)


def json_text(value: dict[str, Any]) -> str:
    """A state or an event body as stored: JSON text."""
    return _encode(value).decode()


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


def event_of(row: Any) -> EventRecord:
    event_id, sequence, invocation_id, author, timestamp, body = row
    return EventRecord(event_id, sequence, invocation_id, author, timestamp, body.encode())


class _Repository:
    def __init__(self, connection: Connection, app_name: str) -> None:
        self._db = connection
        self._app = app_name

    def _key(self, user_id: str, session_id: str) -> dict[str, Any]:
        return {"app": self._app, "user": user_id, "sid": session_id}


class SqlAgentSessionRepository(_Repository):
    def _values(self, session: AgentSession) -> dict[str, Any]:
        return {
            "app_name": self._app,
            "user_id": session.user_id,
            "id": session.id,
            "state": json_text(session.state),
            "version": session.version,
            "last_sequence": session.last_sequence,
            "created_time": session.created_time,
            "last_update_time": session.last_update_time,
        }

    async def add(self, session: AgentSession) -> None:
        await self._db.run(_INSERT_SESSION, self._values(session))

    async def get(self, user_id: str, session_id: str, *, for_update: bool = False) -> AgentSession | None:
        row = await self._db.first(_SESSION_LOCKED if for_update else _SESSION, self._key(user_id, session_id))
        return None if row is None else session_of(row)

    async def update(self, session: AgentSession) -> None:
        values = self._values(session)
        for name in ("app_name", "user_id", "id"):
            values[f"key_{name}"] = values.pop(name)
        await self._db.run(_UPDATE_SESSION, values)

    async def get_with_shared_state(
        self, user_id: str, session_id: str
    ) -> tuple[AgentSession, dict[str, Any], dict[str, Any]] | None:
        row = await self._db.first(_SESSION_WITH_SHARED_STATE, self._key(user_id, session_id))
        if row is None:
            return None
        return session_of(row), _decode(row.app_state or "{}"), _decode(row.user_state or "{}")

    async def delete(self, user_id: str, session_id: str) -> None:
        await self._db.run(_DELETE_EVENTS, self._key(user_id, session_id))
        await self._db.run(_DELETE_SESSION, self._key(user_id, session_id))

    async def delete_for_user(self, user_id: str) -> int:
        return await self._db.run(_SESSIONS_OF_USER, {"app": self._app, "user": user_id})

    async def stale(self, before: int, limit: int) -> list[tuple[str, str]]:
        rows = await self._db.rows(_STALE, {"app": self._app, "before": before, "limit": limit})
        return [(row.user_id, row.id) for row in rows]

    async def count_stale(self, before: int) -> int:
        return int(await self._db.scalar(_COUNT_STALE, {"app": self._app, "before": before}) or 0)

    async def find(self, user_id: str | None, *, limit: int, after: SortKey | None = None) -> list[AgentSession]:
        conditions = [S.app_name == self._app, *([S.user_id == user_id] if user_id is not None else [])]
        if after is not None:
            conditions.append(after_key(S.last_update_time, S.id, after, descending=True))
        statement = (
            select(agent_sessions).where(*conditions).order_by(S.last_update_time.desc(), S.id.desc()).limit(limit)
        )
        return [session_of(row) for row in await self._db.rows(statement)]


class SqlEventRepository(_Repository):
    async def add(self, user_id: str, session_id: str, event: Event) -> None:
        values = {
            "app_name": self._app,
            "user_id": user_id,
            "session_id": session_id,
            "sequence": event.sequence,
            "id": event.id,
            "invocation_id": event.invocation_id,
            "author": event.author,
            "timestamp": event.timestamp,
            "body": json_text(event.body),
        }
        await self._db.run(_INSERT_EVENT, values)

    async def get(self, user_id: str, session_id: str, event_id: str) -> EventRecord | None:
        row = await self._db.first(_EVENT_BY_ID, {**self._key(user_id, session_id), "eid": event_id})
        return None if row is None else event_of(row)

    async def recent(
        self, user_id: str, session_id: str, *, limit: int | None = None, after_timestamp: int | None = None
    ) -> list[EventRecord]:
        # Newest first through the primary key (an index range scan whatever the history's length),
        # then turned around: the cost is that of `limit` rows, not of the session.
        params = {**self._key(user_id, session_id), "after": after_timestamp, "limit": limit}
        rows = await self._db.rows(_RECENT[limit is not None, after_timestamp is not None], params)
        return [event_of(row) for row in reversed(rows)]

    async def page(self, user_id: str, session_id: str, *, after_sequence: int, limit: int) -> list[EventRecord]:
        params = {**self._key(user_id, session_id), "after": after_sequence, "limit": limit}
        return [event_of(row) for row in await self._db.rows(_EVENTS_PAGE, params)]

    async def sizes(self, user_id: str, session_id: str, *, after_sequence: int, limit: int) -> list[tuple[int, int]]:
        params = {**self._key(user_id, session_id), "after": after_sequence, "limit": limit}
        return [(row.sequence, row.size) for row in await self._db.rows(_EVENT_SIZES, params)]

    async def delete_for_user(self, user_id: str) -> int:
        return await self._db.run(_EVENTS_OF_USER, {"app": self._app, "user": user_id})


class _Scope:
    """One shared state scope's table: its row read (locked, for a merge), inserted, updated."""

    def __init__(self, table: Table, *key: str) -> None:
        where = and_(*(table.c[name] == bindparam(name) for name in key))
        self.read = Query(select(table.c.state).where(where))
        self.read_locked = Query(select(table.c.state).where(where).with_for_update())
        self.insert = insert_row(table)
        self.update = update_row(table, *key)
        self.key = key


_APP_SCOPE = _Scope(agent_app_states, "app_name")
_USER_SCOPE = _Scope(agent_user_states, "app_name", "user_id")


class SqlStateRepository(_Repository):
    async def _read(self, scope: _Scope, key: dict[str, Any], *, lock: bool = False) -> dict[str, Any] | None:
        state = await self._db.scalar(scope.read_locked if lock else scope.read, key)
        return None if state is None else dict(_decode(state))

    async def _merge(self, scope: _Scope, key: dict[str, Any], delta: dict[str, Any], now: int) -> None:
        """Read-modify-write under a row lock, so concurrent appends to different sessions of one
        agent or user cannot lose each other's changes; the first writer of a scope inserts its row."""
        current = await self._read(scope, key, lock=True)
        if current is None:
            try:
                async with self._db.savepoint():
                    await self._db.run(scope.insert, {**key, "state": json_text(delta), "update_time": now})
                return
            except Conflict:  # another writer inserted it first: merge into theirs
                current = await self._read(scope, key, lock=True) or {}
        changes = {"state": json_text({**current, **delta}), "update_time": now}
        await self._db.run(scope.update, {**changes, **{f"key_{name}": key[name] for name in scope.key}})

    async def app(self) -> dict[str, Any]:
        return await self._read(_APP_SCOPE, {"app_name": self._app}) or {}

    async def user(self, user_id: str) -> dict[str, Any]:
        return await self._read(_USER_SCOPE, {"app_name": self._app, "user_id": user_id}) or {}

    async def merge_app(self, delta: dict[str, Any], now: int) -> None:
        await self._merge(_APP_SCOPE, {"app_name": self._app}, delta, now)

    async def merge_user(self, user_id: str, delta: dict[str, Any], now: int) -> None:
        await self._merge(_USER_SCOPE, {"app_name": self._app, "user_id": user_id}, delta, now)

    async def delete_for_user(self, user_id: str) -> int:
        return await self._db.run(_USER_STATE_OF_USER, {"app": self._app, "user": user_id})


_RUN = Query(select(agent_runs).where(agent_runs.c.app_name == bindparam("app"), agent_runs.c.id == bindparam("rid")))
_INSERT_RUN = insert_row(agent_runs)
_RUNS = agent_runs.c
_OPEN_RUNS = Query(
    select(agent_runs)
    .where(_RUNS.app_name == bindparam("app"), _RUNS.ended_time.is_(None), _RUNS.created_time < bindparam("before"))
    .order_by(_RUNS.created_time, _RUNS.id)
    .limit(bindparam("limit", type_=Integer))
)
_UPDATE_RUN = update_row(agent_runs, "app_name", "id")


def _run_of(row: Any) -> Run:
    return Run(
        row.id,
        row.user_id,
        row.session_id,
        row.requested_session_id,
        Behavior(row.behavior),
        row.created_time,
        row.ended_time,
    )


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
        await self._db.run(_INSERT_RUN, self._values(run))

    async def get(self, run_id: str) -> Run | None:
        row = await self._db.first(_RUN, {"app": self._app, "rid": run_id})
        return None if row is None else _run_of(row)

    async def open_since(self, created_before: int, limit: int) -> list[Run]:
        rows = await self._db.rows(_OPEN_RUNS, {"app": self._app, "before": created_before, "limit": limit})
        return [_run_of(row) for row in rows]

    async def update(self, run: Run) -> None:
        values = self._values(run)
        values["key_app_name"], values["key_id"] = values.pop("app_name"), values.pop("id")
        await self._db.run(_UPDATE_RUN, values)

    async def delete_for_user(self, user_id: str) -> int:
        return await self._db.run(_RUNS_OF_USER, {"app": self._app, "user": user_id})
