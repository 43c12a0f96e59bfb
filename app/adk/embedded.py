"""The embedded transport: the agent stores of one database, in this process, one per ADK app, on
one backend (one set of pools), the database migrated once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.sessions.session import Session

from app.adk.events import Stale, adk_event, adk_session
from domain.agent.model import Behavior, EventRecord, SessionView
from domain.agent.service import AgentService, EventInput
from domain.errors import Conflict, NotFound, PreconditionFailed
from domain.paging import PageRequest
from domain.ports import AgentStore
from infrastructure.memory.agent import MemoryAgentStore
from infrastructure.sql import migrate
from infrastructure.sql.agent.store import SqlAgentStore
from infrastructure.sql.backend import Backend, open_backend

PAGE = 100


def _event(record: EventRecord) -> dict[str, Any]:
    return {
        **json.loads(record.body_json),
        "id": record.id,
        "invocationId": record.invocation_id,
        "author": record.author,
        "timestamp": record.timestamp,
    }


def _session(app_name: str, view: SessionView) -> Session:
    s = view.session
    events = [adk_event(_event(record)) for record in view.events]
    return adk_session(app_name, s.id, s.user_id, view.state, events, s.last_update_time, s.version)


class Embedded:
    def __init__(self, url: str | None) -> None:
        self._url = None if url in (None, "memory://") else url
        self._backend: Backend | None = None
        self._agents: dict[str, AgentService] = {}
        self._opening = asyncio.Lock()

    async def _agent(self, app_name: str) -> AgentService:
        found = self._agents.get(app_name)
        if found is not None:
            return found
        async with self._opening:
            if app_name not in self._agents:
                self._agents[app_name] = AgentService(app_name, await self._store(app_name), Behavior.PERSISTENT)
        return self._agents[app_name]

    async def _store(self, app_name: str) -> AgentStore:
        if self._url is None:
            return MemoryAgentStore()
        if self._backend is None:
            # Alembic runs synchronously: off the event loop, so the embedding app keeps serving.
            await asyncio.to_thread(migrate.upgrade, "agent", self._url)
            self._backend = open_backend(self._url)
        return SqlAgentStore(self._backend, app_name)

    async def create(self, app_name: str, user_id: str, session_id: str, state: dict[str, Any] | None) -> Session:
        try:
            view = await (await self._agent(app_name)).create_session(user_id, session_id, state)
        except Conflict as exc:
            raise AlreadyExistsError(f"Session with id {session_id} already exists.") from exc
        return _session(app_name, view)

    async def get(
        self, app_name: str, user_id: str, session_id: str, num_recent_events: int | None, after_ms: int | None
    ) -> Session | None:
        agent = await self._agent(app_name)
        try:
            view = await agent.get_session(
                user_id, session_id, num_recent_events=num_recent_events, after_timestamp=after_ms
            )
        except NotFound:
            return None
        return _session(app_name, view)

    async def list(self, app_name: str, user_id: str | None) -> list[Session]:
        agent = await self._agent(app_name)
        views: list[SessionView] = []
        page = PageRequest(size=PAGE)
        while True:
            found = await agent.list_sessions(user_id, page)
            views += found.items
            if found.next_cursor is None:
                return [_session(app_name, view) for view in views]
            page = PageRequest(size=PAGE, after=found.items[-1].session.sort_key)

    async def delete(self, app_name: str, user_id: str, session_id: str) -> None:
        try:
            await (await self._agent(app_name)).delete_session(user_id, session_id)
        except NotFound:
            return

    async def user_state(self, app_name: str, user_id: str) -> dict[str, Any]:
        return await (await self._agent(app_name)).user_state(user_id)

    async def append(
        self, app_name: str, user_id: str, session_id: str, event: EventInput, expected_version: int | None
    ) -> int:
        agent = await self._agent(app_name)
        try:
            appended = await agent.append_event(user_id, session_id, event, expected_version=expected_version)
        except NotFound as exc:
            raise SessionNotFoundError(f"Session {session_id} not found.") from exc
        except PreconditionFailed as exc:
            raise Stale(str(exc)) from exc
        return appended.version

    async def close(self) -> None:
        self._agents.clear()
        if self._backend is not None:
            await self._backend.close()
            self._backend = None
