"""What the in-memory stores share: tables that can undo, ordering and paging, the unit of work.

Writes go straight into dicts and leave an undo step in the unit of work's journal, so a unit of
work that ends without commit() restores exactly what was there. One lock per store serialises
units of work, which makes each one a transaction for the asyncio tasks of this process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from domain.paging import SortKey

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")
U = TypeVar("U", bound="MemoryUnitOfWork")
Undo = Callable[[], None]


class Table(Generic[K, T]):
    """A dict whose changes record how to reverse themselves in the current journal."""

    def __init__(self) -> None:
        self.rows: dict[K, T] = {}
        self.journal: list[Undo] = []

    def put(self, key: K, row: T) -> None:
        rows = self.rows
        if key in rows:
            old = rows[key]
            self.journal.append(lambda: rows.__setitem__(key, old))
        else:

            def forget() -> None:
                rows.pop(key, None)

            self.journal.append(forget)
        rows[key] = row

    def remove(self, keys: Iterable[K]) -> None:
        for key in list(keys):
            old = self.rows.pop(key)
            self.journal.append(lambda key=key, old=old: self.rows.__setitem__(key, old))  # type: ignore[misc]


def ordered_page(
    rows: Iterable[T],
    key: Callable[[T], SortKey],
    *,
    descending: bool,
    limit: int | None,
    offset: int = 0,
    after: SortKey | None = None,
) -> list[T]:
    def position(row: T) -> tuple[int, str]:
        k = key(row)
        return k.time, k.id

    ordered = sorted(rows, key=position, reverse=descending)
    if after is not None:
        pivot = (after.time, after.id)
        ordered = [r for r in ordered if (position(r) < pivot if descending else position(r) > pivot)]
    ordered = ordered[offset:]
    return ordered if limit is None else ordered[:limit]


class MemoryUnitOfWork:
    """Holds the store's lock for its lifetime; undoes every journaled change unless committed."""

    def __init__(self, tables: Iterable[Table[Any, Any]], lock: asyncio.Lock) -> None:
        self._tables = list(tables)
        self._lock = lock
        self._journal: list[Undo] = []

    def bind(self) -> None:
        """Set up the repositories (subclasses); called with the lock held."""

    async def __aenter__(self) -> Self:
        await self._lock.acquire()
        self._journal = []
        for table in self._tables:
            table.journal = self._journal
        self.bind()
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


class MemoryStore(Generic[U]):
    """What the in-memory stores share: not persistent, always reachable, no faster forms than the rules."""

    persistent = False
    save_task_at_once = None
    history_batch_at_once = None
    append_at_once = None

    def unit_of_work(self, *, read_only: bool = False) -> U:
        raise NotImplementedError

    async def run(self, work: Callable[[U], Awaitable[R]]) -> R:
        async with self.unit_of_work() as uow:
            result = await work(uow)
            await uow.commit()
        return result

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
