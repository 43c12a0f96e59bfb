"""Session Store as a library, for an agent that keeps its memory in-process.

    async with open_agent("helper", "postgresql://user:pass@db:5432/helper") as agent:
        view = await agent.create_session("alice", "web-session-1")
        await agent.append_event("alice", "web-session-1", EventInput("inv-1", "user", {"content": "hi"}))
        events = (await agent.get_session("alice", "web-session-1")).events  # Event, body a plain dict

The same AgentService the HTTP API uses, on the same tables (migrated on open, under the same
cross-process lock), so a library user and a server can share one database. Reads give events
with their bodies decoded (the HTTP API passes the stored JSON on unparsed instead).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from domain.agent.model import AgentSession, Behavior, Event, Run, SessionView
from domain.agent.service import AgentService, Appended, EventInput
from domain.paging import Page, PageRequest
from domain.ports import AgentStore
from infrastructure.memory.agent import MemoryAgentStore
from infrastructure.sql import migrate
from infrastructure.sql.agent.store import SqlAgentStore

__all__ = ["Agent", "Behavior", "EventInput", "Session", "open_agent"]


@dataclass(frozen=True, slots=True)
class Session:
    """A session as an embedding agent reads it: merged state and events, bodies as plain dicts."""

    session: AgentSession
    state: dict[str, Any]
    events: list[Event]

    @classmethod
    def of(cls, view: SessionView) -> Session:
        return cls(view.session, view.state, [record.event() for record in view.events])


class Agent:
    """One agent's memory, in-process: AgentService's use cases, with events decoded."""

    def __init__(self, service: AgentService) -> None:
        self.service = service

    async def create_session(
        self, user_id: str, session_id: str | None = None, state: dict[str, Any] | None = None
    ) -> Session:
        return Session.of(await self.service.create_session(user_id, session_id, state))

    async def get_session(
        self,
        user_id: str,
        session_id: str,
        *,
        num_recent_events: int | None = None,
        after_timestamp: int | None = None,
    ) -> Session:
        view = await self.service.get_session(
            user_id, session_id, num_recent_events=num_recent_events, after_timestamp=after_timestamp
        )
        return Session.of(view)

    async def list_sessions(self, user_id: str, page: PageRequest | None = None) -> list[Session]:
        found: Page[SessionView] = await self.service.list_sessions(user_id, page or PageRequest())
        return [Session.of(view) for view in found.items]

    async def delete_session(self, user_id: str, session_id: str) -> None:
        await self.service.delete_session(user_id, session_id)

    async def append_event(
        self, user_id: str, session_id: str, event: EventInput, *, expected_version: int | None = None
    ) -> Appended:
        return await self.service.append_event(user_id, session_id, event, expected_version=expected_version)

    async def list_events(
        self, user_id: str, session_id: str, *, after_sequence: int = 0, limit: int = 100
    ) -> list[Event]:
        page = await self.service.list_events(user_id, session_id, after_sequence=after_sequence, limit=limit)
        return [record.event() for record in page]

    async def start_run(self, user_id: str, session_id: str, behavior: Behavior | None = None) -> Run:
        return await self.service.start_run(user_id, session_id, behavior)

    async def end_run(self, user_id: str, run_id: str) -> Run:
        return await self.service.end_run(user_id, run_id)


@asynccontextmanager
async def open_agent(
    name: str, database_url: str | None = None, *, default_behavior: Behavior = Behavior.PERSISTENT
) -> AsyncIterator[Agent]:
    """An agent's store: SQL at `database_url` (migrated first), or in memory when it is None."""
    store: AgentStore
    if database_url is None:
        store = MemoryAgentStore()
    else:
        # Alembic runs synchronously; off the event loop so an embedding app keeps serving.
        await asyncio.to_thread(migrate.upgrade, "agent", database_url)
        store = SqlAgentStore.at(database_url, name)
    try:
        yield Agent(AgentService(name, store, default_behavior))
    finally:
        await store.close()
