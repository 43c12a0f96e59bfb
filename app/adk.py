"""Session Store as a Google ADK session service: hand it to a `Runner` and the agent keeps its memory here.

    from app.adk import SessionStoreSessionService

    async with SessionStoreSessionService("postgresql://user:pass@db:5432/agents") as sessions:
        runner = Runner(agent=agent, app_name="helper", session_service=sessions)

The URL decides where the memory lives: None or `memory://` (this process only), `sqlite:///path.db`,
`postgresql://...`, `mysql+pymysql://...` (in-process, on the same tables, migrations and locking as
a Session Store server; the agent store of each ADK `app_name` is the agent of that name). ADK's
session model maps onto the agent store's: sessions, events, and the `app:`/`user:`/`temp:` state
scopes. Needs the `adk` extra (`pip install 'session-store[adk]'`).
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from types import TracebackType
from typing import Any, Self

from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events.event import Event
from google.adk.sessions.base_session_service import BaseSessionService, GetSessionConfig, ListSessionsResponse
from google.adk.sessions.session import Session
from pydantic_core import to_jsonable_python

from domain.agent.model import Behavior, EventRecord, SessionView
from domain.agent.service import AgentService, EventInput
from domain.errors import Conflict, NotFound, PreconditionFailed
from domain.paging import PageRequest
from domain.ports import AgentStore
from infrastructure.memory.agent import MemoryAgentStore
from infrastructure.sql import migrate
from infrastructure.sql.agent.store import SqlAgentStore
from infrastructure.sql.backend import Backend, open_backend

try:  # ADK 2 names the stale writer's error; it is private there, so it may move
    from google.adk.errors import StaleSessionError
except ImportError:  # pragma: no cover - an ADK without it
    StaleSessionError = ValueError  # type: ignore[assignment,misc]

__all__ = ["SessionStoreSessionService"]

# What the agent store keeps as columns; the rest of ADK's event is the stored body.
_COLUMNS = ("id", "invocationId", "author", "timestamp")
# The event's time exactly as ADK gave it (seconds, a float): the column keeps milliseconds, ADK's
# compaction compares the floats.
_EXACT_TIME = "timestampSeconds"
_PAGE = 100


def _ms(seconds: float) -> int:
    return math.floor(seconds * 1000)


def _event_input(event: Event) -> EventInput:
    delta = event.actions.state_delta if event.actions else None
    if delta:
        # As ADK's database service does: a value JSON cannot hold is kept as its string form, not a
        # failed write (the in-memory session keeps the value itself).
        safe = to_jsonable_python(delta, fallback=str)
        event = event.model_copy(update={"actions": event.actions.model_copy(update={"state_delta": safe})})
    data = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    body = {key: value for key, value in data.items() if key not in _COLUMNS}
    body[_EXACT_TIME] = event.timestamp
    return EventInput(event.invocation_id, event.author, body, id=event.id, timestamp=_ms(event.timestamp))


def _event(record: EventRecord) -> Event:
    body = json.loads(record.body_json)
    exact = body.pop(_EXACT_TIME, record.timestamp / 1000)
    fields = {"id": record.id, "invocationId": record.invocation_id, "author": record.author, "timestamp": exact}
    # From JSON, so bytes come back from their base64 as ADK wrote them.
    return Event.model_validate_json(json.dumps({**body, **fields}))


def _session(app_name: str, view: SessionView, events: list[Event]) -> Session:
    last_update = events[-1].timestamp if events else view.session.last_update_time / 1000
    session = Session(
        id=view.session.id,
        app_name=app_name,
        user_id=view.session.user_id,
        state=view.state,
        events=events,
        last_update_time=last_update,
    )
    # ADK's own marker for stale-writer detection: the version this copy was read at.
    session._storage_update_marker = str(view.session.version)
    return session


class _Embedded:
    """The agent stores of one database, one per ADK app, on one backend (one set of pools), the
    database migrated once."""

    def __init__(self, url: str | None) -> None:
        self._url = None if url in (None, "memory://") else url
        self._backend: Backend | None = None
        self._agents: dict[str, AgentService] = {}
        self._memory: dict[str, AgentStore] = {}
        self._opening = asyncio.Lock()

    async def agent(self, app_name: str) -> AgentService:
        found = self._agents.get(app_name)
        if found is not None:
            return found
        async with self._opening:
            if app_name not in self._agents:
                self._agents[app_name] = AgentService(app_name, await self._store(app_name), Behavior.PERSISTENT)
        return self._agents[app_name]

    async def _store(self, app_name: str) -> AgentStore:
        if self._url is None:
            return self._memory.setdefault(app_name, MemoryAgentStore())
        if self._backend is None:
            # Alembic runs synchronously: off the event loop, so the embedding app keeps serving.
            await asyncio.to_thread(migrate.upgrade, "agent", self._url)
            self._backend = open_backend(self._url)
        return SqlAgentStore(self._backend, app_name)

    async def close(self) -> None:
        self._agents.clear()
        if self._backend is not None:
            await self._backend.close()
            self._backend = None


class SessionStoreSessionService(BaseSessionService):
    """ADK's `BaseSessionService` on Session Store's agent stores."""

    def __init__(self, url: str | None = None) -> None:
        if url is not None and url.startswith(("http://", "https://")):
            raise ValueError("the remote transport (an http(s):// URL) is not available yet: use a database URL")
        self._stores = _Embedded(url)

    async def create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        state: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Session:
        agent = await self._stores.agent(app_name)
        wanted = session_id.strip() if session_id and session_id.strip() else str(uuid.uuid4())
        try:
            view = await agent.create_session(user_id, wanted, state)
        except Conflict as exc:
            raise AlreadyExistsError(f"Session with id {wanted} already exists.") from exc
        return _session(app_name, view, [])

    async def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        config: GetSessionConfig | None = None,
    ) -> Session | None:
        agent = await self._stores.agent(app_name)
        config = config or GetSessionConfig()
        after = config.after_timestamp
        try:
            view = await agent.get_session(
                user_id,
                session_id,
                num_recent_events=config.num_recent_events,
                # ADK's bound is inclusive and exact; the column's is exclusive, in milliseconds.
                after_timestamp=None if after is None else _ms(after) - 1,
            )
        except NotFound:
            return None
        events = [_event(record) for record in view.events]
        if after is not None:
            events = [event for event in events if event.timestamp >= after]
        return _session(app_name, view, events)

    async def list_sessions(self, *, app_name: str, user_id: str | None = None) -> ListSessionsResponse:
        agent = await self._stores.agent(app_name)
        views: list[SessionView] = []
        page = PageRequest(size=_PAGE)
        while True:
            found = await agent.list_sessions(user_id, page)
            views += found.items
            if found.next_cursor is None:
                break
            page = PageRequest(size=_PAGE, after=found.items[-1].session.sort_key)
        views.reverse()  # ADK lists the oldest first
        return ListSessionsResponse(sessions=[_session(app_name, view, []) for view in views])

    async def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> None:
        agent = await self._stores.agent(app_name)
        try:
            await agent.delete_session(user_id, session_id)
        except NotFound:
            return  # ADK's services delete what is not there without a word

    async def get_user_state(self, *, app_name: str, user_id: str) -> dict[str, Any]:
        return await (await self._stores.agent(app_name)).user_state(user_id)

    async def append_event(self, session: Session, event: Event) -> Event:
        if event.partial:
            return event
        self._apply_temp_state(session, event)
        event = self._trim_temp_delta_state(event)
        agent = await self._stores.agent(session.app_name)
        marker = session._storage_update_marker
        try:
            appended = await agent.append_event(
                session.user_id,
                session.id,
                _event_input(event),
                expected_version=int(marker) if marker is not None else None,
            )
        except NotFound as exc:
            raise SessionNotFoundError(f"Session {session.id} not found.") from exc
        except PreconditionFailed as exc:
            raise StaleSessionError(
                "The session was changed in storage since it was read: read it again, then append."
            ) from exc
        session.last_update_time = event.timestamp
        session._storage_update_marker = str(appended.version)
        return self._commit_event_to_session(session, event)

    async def close(self) -> None:
        await self._stores.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
