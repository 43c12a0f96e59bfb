"""Session Store as a library, for an agent that keeps its memory in-process.

    async with open_agent("helper", "postgresql://user:pass@db:5432/helper") as agent:
        view = await agent.create_session("alice", "web-session-1")
        await agent.append_event("alice", "web-session-1", EventInput("inv-1", "user", {"content": "hi"}))

The same AgentService the HTTP API uses, on the same tables (migrated on open, under the same
cross-process lock), so a library user and a server can share one database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from domain.agent.model import Behavior
from domain.agent.service import AgentService, EventInput
from domain.ports import AgentStore
from infrastructure.memory.agent import MemoryAgentStore
from infrastructure.sql import migrate
from infrastructure.sql.agent.store import SqlAgentStore

__all__ = ["AgentService", "Behavior", "EventInput", "open_agent"]


@asynccontextmanager
async def open_agent(
    name: str, database_url: str | None = None, *, default_behavior: Behavior = Behavior.PERSISTENT
) -> AsyncIterator[AgentService]:
    """An agent's store: SQL at `database_url` (migrated first), or in memory when it is None."""
    store: AgentStore
    if database_url is None:
        store = MemoryAgentStore()
    else:
        # Alembic runs synchronously; off the event loop so an embedding app keeps serving.
        await asyncio.to_thread(migrate.upgrade, "agent", database_url)
        store = SqlAgentStore.at(database_url, name)
    try:
        yield AgentService(name, store, default_behavior)
    finally:
        await store.close()
