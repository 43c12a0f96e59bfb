"""Ephemeral gateway store: the same behaviour as SQL, held in this process until it exits.

Writes go straight into the dicts and leave an undo step in the unit of work's journal, so
a unit of work that ends without commit() restores exactly what was there. One lock serialises
units of work, which makes each one a transaction for the asyncio tasks of this process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self, TypeVar

from domain.errors import Conflict
from domain.gateway.model import ChatTask, Feedback, Session
from domain.paging import SortKey
from domain.ports import FeedbackFilter, SessionFilter

T = TypeVar("T")
Undo = Callable[[], None]


@dataclass
class _Tables:
    sessions: dict[str, Session] = field(default_factory=dict)
    tasks: dict[str, ChatTask] = field(default_factory=dict)
    feedback: dict[str, Feedback] = field(default_factory=dict)


class _Table:
    """A dict with undo: every change records how to reverse itself."""

    def __init__(self, rows: dict[str, T], journal: list[Undo]) -> None:  # type: ignore[type-var]
        self._rows = rows
        self._journal = journal

    def put(self, key: str, row: object) -> None:
        rows = self._rows
        if key in rows:
            old = rows[key]
            self._journal.append(lambda: rows.__setitem__(key, old))
        else:
            self._journal.append(lambda: rows.pop(key, None))
        rows[key] = row

    def remove(self, keys: Iterable[str]) -> None:
        rows = self._rows
        for key in list(keys):
            old = rows.pop(key)
            self._journal.append(lambda key=key, old=old: rows.__setitem__(key, old))  # type: ignore[misc]


def _page(
    rows: Iterable[T],
    key: Callable[[T], SortKey],
    *,
    descending: bool,
    limit: int | None,
    offset: int = 0,
    after: SortKey | None = None,
) -> list[T]:
    ordered = sorted(rows, key=lambda r: (key(r).time, key(r).id), reverse=descending)
    if after is not None:
        pivot = (after.time, after.id)
        ordered = [
            r for r in ordered if ((key(r).time, key(r).id) < pivot if descending else (key(r).time, key(r).id) > pivot)
        ]
    ordered = ordered[offset:]
    return ordered if limit is None else ordered[:limit]


class MemorySessionRepository:
    def __init__(self, tables: _Tables, journal: list[Undo]) -> None:
        self._tables = tables
        self._table = _Table(tables.sessions, journal)

    async def add(self, session: Session) -> None:
        if session.id in self._tables.sessions:
            raise Conflict(f"a session with id {session.id!r} already exists")
        self._table.put(session.id, session)

    async def get(self, session_id: str, *, for_update: bool = False) -> Session | None:
        return self._tables.sessions.get(session_id)

    async def update(self, session: Session) -> None:
        self._table.put(session.id, session)

    async def delete(self, session_id: str) -> None:
        self._table.remove([session_id] if session_id in self._tables.sessions else [])

    def _matching(self, where: SessionFilter) -> list[Session]:
        found = [
            s
            for s in self._tables.sessions.values()
            if s.user_id == where.user_id
            and (where.agent_id is None or s.agent_id == where.agent_id)
            and (where.project_id is None or s.project_id == where.project_id)
        ]
        if where.text is not None:
            needle = where.text.casefold()
            with_text = {
                t.session_id
                for t in self._tables.tasks.values()
                if t.user_id == where.user_id and needle in f"{t.user_message or ''}\n{t.message_bubbles}".casefold()
            }
            found = [s for s in found if needle in (s.name or "").casefold() or s.id in with_text]
        return found

    async def list(
        self, where: SessionFilter, *, limit: int, offset: int = 0, after: SortKey | None = None
    ) -> list[Session]:
        return _page(
            self._matching(where), lambda s: s.sort_key, descending=True, limit=limit, offset=offset, after=after
        )

    async def count(self, where: SessionFilter) -> int:
        return len(self._matching(where))


class MemoryChatTaskRepository:
    def __init__(self, tables: _Tables, journal: list[Undo]) -> None:
        self._tables = tables
        self._table = _Table(tables.tasks, journal)

    async def add(self, task: ChatTask) -> None:
        if task.id in self._tables.tasks:
            raise Conflict(f"a task with id {task.id!r} already exists")
        self._table.put(task.id, task)

    async def get(self, task_id: str) -> ChatTask | None:
        return self._tables.tasks.get(task_id)

    async def update(self, task: ChatTask) -> None:
        self._table.put(task.id, task)

    async def list_for_session(
        self, session_id: str, *, limit: int | None = None, after: SortKey | None = None
    ) -> list[ChatTask]:
        rows = (t for t in self._tables.tasks.values() if t.session_id == session_id)
        return _page(rows, lambda t: t.sort_key, descending=False, limit=limit, after=after)

    async def delete_for_session(self, session_id: str) -> None:
        self._table.remove(k for k, t in self._tables.tasks.items() if t.session_id == session_id)


class MemoryFeedbackRepository:
    def __init__(self, tables: _Tables, journal: list[Undo]) -> None:
        self._tables = tables
        self._table = _Table(tables.feedback, journal)

    async def add(self, feedback: Feedback) -> None:
        self._table.put(feedback.id, feedback)

    def _matching(self, where: FeedbackFilter) -> list[Feedback]:
        return [
            f
            for f in self._tables.feedback.values()
            if f.user_id == where.user_id
            and (where.session_id is None or f.session_id == where.session_id)
            and (where.task_id is None or f.task_id == where.task_id)
            and (where.rating is None or f.rating == where.rating)
            and (where.since is None or f.created_time >= where.since)
            and (where.until is None or f.created_time <= where.until)
        ]

    async def list(
        self, where: FeedbackFilter, *, limit: int, offset: int = 0, after: SortKey | None = None
    ) -> list[Feedback]:
        return _page(
            self._matching(where), lambda f: f.sort_key, descending=True, limit=limit, offset=offset, after=after
        )

    async def count(self, where: FeedbackFilter) -> int:
        return len(self._matching(where))

    async def delete_for_session(self, session_id: str) -> None:
        self._table.remove(k for k, f in self._tables.feedback.items() if f.session_id == session_id)


class MemoryGatewayUnitOfWork:
    def __init__(self, tables: _Tables, lock: asyncio.Lock) -> None:
        self._tables = tables
        self._lock = lock
        self._journal: list[Undo] = []

    async def __aenter__(self) -> Self:
        await self._lock.acquire()
        self._journal = []
        self.sessions = MemorySessionRepository(self._tables, self._journal)
        self.tasks = MemoryChatTaskRepository(self._tables, self._journal)
        self.feedback = MemoryFeedbackRepository(self._tables, self._journal)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            while self._journal:
                self._journal.pop()()
        finally:
            self._lock.release()

    async def commit(self) -> None:
        self._journal.clear()


class MemoryGatewayStore:
    """The gateway store of `session_service: {type: memory}`."""

    persistent = False

    def __init__(self) -> None:
        self._tables = _Tables()
        self._lock = asyncio.Lock()

    def unit_of_work(self, *, read_only: bool = False) -> MemoryGatewayUnitOfWork:
        return MemoryGatewayUnitOfWork(self._tables, self._lock)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
