"""Ephemeral agent store (`type: memory`): one per agent, the same contract as SQL."""

from __future__ import annotations

import asyncio
import bisect
from dataclasses import dataclass, field
from typing import Any

import msgspec

from domain.agent.model import AgentSession, Event, EventRecord, Run
from domain.errors import Conflict
from domain.paging import SortKey
from infrastructure.memory.journal import MemoryStore, MemoryUnitOfWork, Table, ordered_page

SessionKey = tuple[str, str]  # (user id, session id)


@dataclass
class _History:
    """A session's events in sequence order, with an index by id: appends and lookups stay O(1)."""

    events: list[EventRecord] = field(default_factory=list)
    by_id: dict[str, EventRecord] = field(default_factory=dict)


@dataclass
class _Tables:
    sessions: Table[SessionKey, AgentSession] = field(default_factory=Table)
    events: Table[SessionKey, _History] = field(default_factory=Table)
    app_state: Table[str, dict[str, Any]] = field(default_factory=Table)
    user_state: Table[str, dict[str, Any]] = field(default_factory=Table)
    runs: Table[str, Run] = field(default_factory=Table)


class MemoryAgentSessionRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, session: AgentSession) -> None:
        key = (session.user_id, session.id)
        if key in self._t.sessions.rows:
            raise Conflict(f"session {session.id!r} already exists")
        self._t.sessions.put(key, session)
        self._t.events.put(key, _History())

    async def get(self, user_id: str, session_id: str, *, for_update: bool = False) -> AgentSession | None:
        return self._t.sessions.rows.get((user_id, session_id))

    async def update(self, session: AgentSession) -> None:
        self._t.sessions.put((session.user_id, session.id), session)

    async def get_with_shared_state(
        self, user_id: str, session_id: str
    ) -> tuple[AgentSession, dict[str, Any], dict[str, Any]] | None:
        session = self._t.sessions.rows.get((user_id, session_id))
        if session is None:
            return None
        app = dict(self._t.app_state.rows.get(MemoryStateRepository.APP, {}))
        return session, app, dict(self._t.user_state.rows.get(user_id, {}))

    async def delete(self, user_id: str, session_id: str) -> None:
        key = (user_id, session_id)
        if key in self._t.sessions.rows:
            self._t.sessions.remove([key])
            self._t.events.remove([key])

    async def find(self, user_id: str | None, *, limit: int, after: SortKey | None = None) -> list[AgentSession]:
        mine = (s for (user, _), s in self._t.sessions.rows.items() if user_id is None or user == user_id)
        return ordered_page(mine, lambda s: s.sort_key, descending=True, limit=limit, after=after)

    async def delete_for_user(self, user_id: str) -> int:
        keys = [key for key in self._t.sessions.rows if key[0] == user_id]
        self._t.sessions.remove(keys)
        self._t.events.remove(key for key in keys if key in self._t.events.rows)
        return len(keys)

    def _stale(self, before: int) -> list[AgentSession]:
        return sorted(
            (s for s in self._t.sessions.rows.values() if s.last_update_time < before),
            key=lambda s: (s.last_update_time, s.id),
        )

    async def stale(self, before: int, limit: int) -> list[tuple[str, str]]:
        return [(s.user_id, s.id) for s in self._stale(before)[:limit]]

    async def count_stale(self, before: int) -> int:
        return len(self._stale(before))


class MemoryEventRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def _of(self, user_id: str, session_id: str) -> _History:
        return self._t.events.rows.get((user_id, session_id)) or _History()

    async def add(self, user_id: str, session_id: str, event: Event) -> None:
        history = self._t.events.rows[(user_id, session_id)]
        if event.id in history.by_id:
            raise Conflict(f"event {event.id!r} is already stored")
        # Kept as a store keeps it: the body encoded once, read back as JSON.
        body = msgspec.json.encode(event.body)
        record = EventRecord(event.id, event.sequence, event.invocation_id, event.author, event.timestamp, body)
        history.events.append(record)
        history.by_id[event.id] = record

        def undo() -> None:
            history.events.pop()
            del history.by_id[event.id]

        self._t.events.journal.append(undo)

    async def get(self, user_id: str, session_id: str, event_id: str) -> EventRecord | None:
        return self._of(user_id, session_id).by_id.get(event_id)

    async def recent(
        self, user_id: str, session_id: str, *, limit: int | None = None, after_timestamp: int | None = None
    ) -> list[EventRecord]:
        events = self._of(user_id, session_id).events
        if after_timestamp is not None:
            events = [e for e in events if e.timestamp > after_timestamp]
        return list(events[-limit:] if limit else events)

    async def page(self, user_id: str, session_id: str, *, after_sequence: int, limit: int) -> list[EventRecord]:
        events = self._of(user_id, session_id).events
        start = bisect.bisect_right(events, after_sequence, key=lambda e: e.sequence)
        return events[start : start + limit]

    async def sizes(self, user_id: str, session_id: str, *, after_sequence: int, limit: int) -> list[tuple[int, int]]:
        page = await self.page(user_id, session_id, after_sequence=after_sequence, limit=limit)
        return [(event.sequence, len(event.body_json)) for event in page]

    async def delete_for_user(self, user_id: str) -> int:
        """The user's events are counted here and go with their sessions (one history per session)."""
        return sum(len(history.events) for (user, _), history in self._t.events.rows.items() if user == user_id)


class MemoryStateRepository:
    APP = "app"

    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def app(self) -> dict[str, Any]:
        return dict(self._t.app_state.rows.get(self.APP, {}))

    async def user(self, user_id: str) -> dict[str, Any]:
        return dict(self._t.user_state.rows.get(user_id, {}))

    async def merge_app(self, delta: dict[str, Any], now: int) -> None:
        self._t.app_state.put(self.APP, {**await self.app(), **delta})

    async def merge_user(self, user_id: str, delta: dict[str, Any], now: int) -> None:
        self._t.user_state.put(user_id, {**await self.user(user_id), **delta})

    async def delete_for_user(self, user_id: str) -> int:
        found = user_id in self._t.user_state.rows
        self._t.user_state.remove([user_id] if found else [])
        return int(found)


class MemoryRunRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, run: Run) -> None:
        self._t.runs.put(run.id, run)

    async def get(self, run_id: str) -> Run | None:
        return self._t.runs.rows.get(run_id)

    async def update(self, run: Run) -> None:
        self._t.runs.put(run.id, run)

    async def open_since(self, created_before: int, limit: int) -> list[Run]:
        stale = [r for r in self._t.runs.rows.values() if r.ended_time is None and r.created_time < created_before]
        return sorted(stale, key=lambda r: (r.created_time, r.id))[:limit]

    async def delete_for_user(self, user_id: str) -> int:
        keys = [key for key, run in self._t.runs.rows.items() if run.user_id == user_id]
        self._t.runs.remove(keys)
        return len(keys)


class MemoryAgentUnitOfWork(MemoryUnitOfWork):
    def __init__(self, tables: _Tables, lock: asyncio.Lock) -> None:
        super().__init__([tables.sessions, tables.events, tables.app_state, tables.user_state, tables.runs], lock)
        self._t = tables

    def bind(self) -> None:
        self.sessions = MemoryAgentSessionRepository(self._t)
        self.events = MemoryEventRepository(self._t)
        self.states = MemoryStateRepository(self._t)
        self.runs = MemoryRunRepository(self._t)


class MemoryAgentStore(MemoryStore[MemoryAgentUnitOfWork]):
    """An agent's store under `session_service: {type: memory}`: gone when the process exits."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self._lock = asyncio.Lock()

    def unit_of_work(self, *, read_only: bool = False) -> MemoryAgentUnitOfWork:
        return MemoryAgentUnitOfWork(self._tables, self._lock)
