"""Ephemeral gateway store: the same behaviour as SQL, held in this process until it exits."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from domain.errors import Conflict
from domain.gateway.model import ChatTask, Feedback, Session, Tombstone
from domain.paging import SortKey
from domain.ports import FeedbackFilter, FoundTask, SessionFilter
from domain.search import found_in
from infrastructure.memory.journal import MemoryStore, MemoryUnitOfWork, Table, ordered_page


@dataclass
class _Tables:
    sessions: Table[str, Session] = field(default_factory=Table)
    tasks: Table[str, ChatTask] = field(default_factory=Table)
    feedback: Table[str, Feedback] = field(default_factory=Table)
    tombstones: Table[str, Tombstone] = field(default_factory=Table)


class MemorySessionRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, session: Session) -> None:
        if session.id in self._t.sessions.rows:
            raise Conflict(f"a session with id {session.id!r} already exists")
        self._t.sessions.put(session.id, session)

    async def get(self, session_id: str, *, for_update: bool = False) -> Session | None:
        return self._t.sessions.rows.get(session_id)

    async def update(self, session: Session) -> None:
        self._t.sessions.put(session.id, session)

    async def delete(self, session_ids: Collection[str]) -> None:
        self._t.sessions.remove(k for k in set(session_ids) if k in self._t.sessions.rows)

    async def bury(self, tombstone: Tombstone) -> None:
        self._t.tombstones.put(tombstone.session_id, tombstone)

    async def buried(self, session_id: str) -> bool:
        return session_id in self._t.tombstones.rows

    async def delete_for_user(self, user_id: str) -> int:
        self._t.tombstones.remove([k for k, t in self._t.tombstones.rows.items() if t.user_id == user_id])
        keys = [k for k, s in self._t.sessions.rows.items() if s.user_id == user_id]
        self._t.sessions.remove(keys)
        return len(keys)

    def _stale(self, before: int) -> list[Session]:
        return sorted(
            (s for s in self._t.sessions.rows.values() if s.updated_time < before), key=lambda s: (s.updated_time, s.id)
        )

    async def stale(self, before: int, limit: int) -> list[str]:
        return [s.id for s in self._stale(before)[:limit]]

    async def count_stale(self, before: int) -> int:
        return len(self._stale(before))

    def _buried_before(self, before: int) -> list[str]:
        return [k for k, t in self._t.tombstones.rows.items() if t.deleted_time < before]

    async def unbury(self, before: int, limit: int) -> int:
        keys = self._buried_before(before)[:limit]
        self._t.tombstones.remove(keys)
        return len(keys)

    async def count_buried(self, before: int) -> int:
        return len(self._buried_before(before))

    def _matching(self, where: SessionFilter) -> list[Session]:
        return [
            s
            for s in self._t.sessions.rows.values()
            if s.user_id == where.user_id
            and (where.agent_id is None or s.agent_id == where.agent_id)
            and (where.project_id is None or s.project_id == where.project_id)
            and (where.source is None or s.source == where.source)
            and (where.text is None or found_in(where.text, s.search_name()))
        ]

    async def find(
        self, where: SessionFilter, *, limit: int, offset: int = 0, after: SortKey | None = None
    ) -> list[Session]:
        return ordered_page(
            self._matching(where), lambda s: s.sort_key, descending=True, limit=limit, offset=offset, after=after
        )

    async def count(self, where: SessionFilter) -> int:
        return len(self._matching(where))

    async def find_counted(self, where: SessionFilter, *, limit: int, offset: int = 0) -> tuple[list[Session], int]:
        return await self.find(where, limit=limit, offset=offset), await self.count(where)


class MemoryChatTaskRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, task: ChatTask) -> None:
        if task.id in self._t.tasks.rows:
            raise Conflict(f"a task with id {task.id!r} already exists")
        self._t.tasks.put(task.id, task)

    async def get(self, task_id: str) -> ChatTask | None:
        return self._t.tasks.rows.get(task_id)

    async def update(self, task: ChatTask) -> None:
        self._t.tasks.put(task.id, task)

    async def delete_for_sessions(self, session_ids: Collection[str]) -> None:
        ids = set(session_ids)
        self._t.tasks.remove(k for k, t in self._t.tasks.rows.items() if t.session_id in ids)

    async def list_for_owner(
        self, user_id: str, session_id: str, *, limit: int | None = None, after: SortKey | None = None
    ) -> list[ChatTask] | None:
        session = self._t.sessions.rows.get(session_id)
        if session is None or session.user_id != user_id:
            return None
        rows = (t for t in self._t.tasks.rows.values() if t.session_id == session_id)
        return ordered_page(rows, lambda t: t.sort_key, descending=False, limit=limit, after=after)

    async def delete_for_user(self, user_id: str) -> int:
        keys = [k for k, t in self._t.tasks.rows.items() if t.user_id == user_id]
        self._t.tasks.remove(keys)
        return len(keys)

    async def sizes(
        self, user_id: str, session_id: str, *, limit: int, after: SortKey | None = None
    ) -> list[int] | None:
        tasks = await self.list_for_owner(user_id, session_id, limit=limit, after=after)
        return None if tasks is None else [task.size for task in tasks]


class MemoryFeedbackRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, feedback: Feedback) -> None:
        self._t.feedback.put(feedback.id, feedback)

    async def get(self, feedback_id: str) -> Feedback | None:
        return self._t.feedback.rows.get(feedback_id)

    def _matching(self, where: FeedbackFilter) -> list[Feedback]:
        return [
            f
            for f in self._t.feedback.rows.values()
            if f.user_id == where.user_id
            and (where.session_id is None or f.session_id == where.session_id)
            and (where.task_id is None or f.task_id == where.task_id)
            and (where.rating is None or f.rating == where.rating)
            and (where.since is None or f.created_time >= where.since)
            and (where.until is None or f.created_time <= where.until)
        ]

    async def find(
        self, where: FeedbackFilter, *, limit: int, offset: int = 0, after: SortKey | None = None
    ) -> list[Feedback]:
        return ordered_page(
            self._matching(where), lambda f: f.sort_key, descending=True, limit=limit, offset=offset, after=after
        )

    async def count(self, where: FeedbackFilter) -> int:
        return len(self._matching(where))

    async def delete_for_sessions(self, session_ids: Collection[str]) -> None:
        ids = set(session_ids)
        self._t.feedback.remove(k for k, f in self._t.feedback.rows.items() if f.session_id in ids)

    async def delete_for_user(self, user_id: str) -> int:
        keys = [k for k, f in self._t.feedback.rows.items() if f.user_id == user_id]
        self._t.feedback.remove(keys)
        return len(keys)


class MemoryGatewayUnitOfWork(MemoryUnitOfWork):
    def __init__(self, tables: _Tables, lock: asyncio.Lock) -> None:
        super().__init__([tables.sessions, tables.tasks, tables.feedback, tables.tombstones], lock)
        self._t = tables

    def bind(self) -> None:
        self.sessions = MemorySessionRepository(self._t)
        self.tasks = MemoryChatTaskRepository(self._t)
        self.feedback = MemoryFeedbackRepository(self._t)


class MemoryGatewayStore(MemoryStore[MemoryGatewayUnitOfWork]):
    """The gateway store of `session_service: {type: memory}`."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self._lock = asyncio.Lock()

    def unit_of_work(self, *, read_only: bool = False) -> MemoryGatewayUnitOfWork:
        return MemoryGatewayUnitOfWork(self._tables, self._lock)

    async def search_tasks(self, user_id: str, terms: list[str], *, limit: int, offset: int = 0) -> list[FoundTask]:
        """Every task of the user, scanned: ranked by how often the terms occur, for the text's length."""
        ranked: list[tuple[float, ChatTask]] = []
        for task in self._tables.tasks.rows.values():
            if task.user_id != user_id:
                continue
            found = Counter(text_words := (task.search_message() or "").split() + task.search_bubbles().split())
            if all(found[term] for term in terms):
                ranked.append((sum(found[term] for term in terms) / math.sqrt(len(text_words)), task))
        ranked.sort(key=lambda pair: (-pair[0], -pair[1].created_time, pair[1].id))
        sessions = self._tables.sessions.rows
        return [
            FoundTask(task, session.name if (session := sessions.get(task.session_id)) else None)
            for _, task in ranked[offset : offset + limit]
        ]
