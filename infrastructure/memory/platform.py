"""The platform registry in memory: for tests and embedding (the service itself needs a database URL)."""

from __future__ import annotations

import asyncio
from typing import Any, Generic, TypeVar

from domain.errors import Conflict
from domain.paging import SortKey
from domain.platform.model import Connector, Deployment, PlatformAgent
from infrastructure.memory.journal import MemoryUnitOfWork, Table, ordered_page

R = TypeVar("R", PlatformAgent, Connector, Deployment)


def _name(record: PlatformAgent | Connector | Deployment) -> str | None:
    return getattr(record, "name", None)


class MemoryRegistry(Generic[R]):
    def __init__(self, table: Table[str, R], *, unique_names: bool = False) -> None:
        self._table: Table[str, R] = table
        self._unique_names = unique_names  # as the SQL table's unique index on agents' names

    async def add(self, record: R) -> None:
        if record.id in self._table.rows or (
            self._unique_names and any(_name(r) == _name(record) for r in self._table.rows.values())
        ):
            raise Conflict("the write clashes with a row stored meanwhile; retry the request")
        self._table.put(record.id, record)

    async def get(self, record_id: str) -> R | None:
        return self._table.rows.get(record_id)

    async def update(self, record: R) -> None:
        self._table.put(record.id, record)

    async def delete(self, record_id: str) -> None:
        self._table.remove([record_id] if record_id in self._table.rows else [])

    async def find(self, *, limit: int, offset: int = 0, after: SortKey | None = None) -> list[R]:
        return ordered_page(
            self._table.rows.values(), lambda r: r.sort_key, descending=False, limit=limit, offset=offset, after=after
        )

    async def count(self) -> int:
        return len(self._table.rows)


class MemoryPlatformUnitOfWork(MemoryUnitOfWork):
    def __init__(self, tables: dict[str, Table[str, Any]], lock: asyncio.Lock) -> None:
        super().__init__(tables.values(), lock)
        self.agents = MemoryRegistry[PlatformAgent](tables["agents"], unique_names=True)
        self.connectors = MemoryRegistry[Connector](tables["connectors"])
        self.deployments = MemoryRegistry[Deployment](tables["deployments"])
        self._t = tables

    async def agent_named(self, name: str) -> PlatformAgent | None:
        return next((a for a in self._t["agents"].rows.values() if a.name == name), None)

    async def deployments_of(self, agent_id: str) -> int:
        return sum(1 for d in self._t["deployments"].rows.values() if d.agent_id == agent_id)


class MemoryPlatformStore:
    def __init__(self) -> None:
        self._tables: dict[str, Table[str, Any]] = {"agents": Table(), "connectors": Table(), "deployments": Table()}
        self._lock = asyncio.Lock()

    def unit_of_work(self, *, read_only: bool = False) -> MemoryPlatformUnitOfWork:
        return MemoryPlatformUnitOfWork(self._tables, self._lock)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
