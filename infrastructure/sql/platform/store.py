"""The platform registry on SQL: one generic repository per table, rows mapped to the domain's records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import Table, delete, func, select

from domain.paging import SortKey
from domain.platform.model import Connector, Deployment, DeploymentStatus, PlatformAgent
from infrastructure.sql.connection import Connection
from infrastructure.sql.keyset import after_key, ordered
from infrastructure.sql.platform.tables import platform_agents, platform_connectors, platform_deployments
from infrastructure.sql.statements import insert_row, update_row
from infrastructure.sql.store import SqlStore, SqlUnitOfWork

R = TypeVar("R", PlatformAgent, Connector, Deployment)
_decode = msgspec.json.decode


def _values(record: Any) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in record.__slots__}
    values["config"] = msgspec.json.encode(values["config"]).decode()
    if "status" in values:
        values["status"] = values["status"].value
    return values


def _agent(row: Any) -> PlatformAgent:
    return PlatformAgent(row.id, row.name, row.description, _decode(row.config), row.created_time, row.updated_time)


def _connector(row: Any) -> Connector:
    return Connector(row.id, row.name, row.type, _decode(row.config), row.created_time, row.updated_time)


def _deployment(row: Any) -> Deployment:
    return Deployment(
        row.id, row.agent_id, DeploymentStatus(row.status), _decode(row.config), row.created_time, row.updated_time
    )


class SqlRegistry(Generic[R]):
    def __init__(self, connection: Connection, table: Table, record: Callable[[Any], R]) -> None:
        self._db: Connection = connection
        self._table = table
        self._record: Callable[[Any], R] = record

    async def add(self, record: R) -> None:
        await self._db.run(insert_row(self._table), _values(record))

    async def get(self, record_id: str) -> R | None:
        row = await self._db.first(select(self._table).where(self._table.c.id == record_id))
        return None if row is None else self._record(row)

    async def update(self, record: R) -> None:
        values = _values(record)
        values["key_id"] = values.pop("id")
        await self._db.run(update_row(self._table, "id"), values)

    async def delete(self, record_id: str) -> None:
        await self._db.run(delete(self._table).where(self._table.c.id == record_id))

    async def find(self, *, limit: int, offset: int = 0, after: SortKey | None = None) -> list[R]:
        time_col, id_col = self._table.c.created_time, self._table.c.id
        statement = select(self._table).order_by(*ordered(time_col, id_col, descending=False))
        if after is not None:
            statement = statement.where(after_key(time_col, id_col, after, descending=False))
        rows = await self._db.rows(statement.limit(limit).offset(offset or None))
        return [self._record(row) for row in rows]

    async def count(self) -> int:
        return int(await self._db.scalar(select(func.count()).select_from(self._table)) or 0)


class SqlPlatformUnitOfWork(SqlUnitOfWork):
    def bind(self, connection: Connection) -> None:
        self._connection = connection
        self.agents = SqlRegistry[PlatformAgent](connection, platform_agents, _agent)
        self.connectors = SqlRegistry[Connector](connection, platform_connectors, _connector)
        self.deployments = SqlRegistry[Deployment](connection, platform_deployments, _deployment)

    async def agent_named(self, name: str) -> PlatformAgent | None:
        row = await self._connection.first(select(platform_agents).where(platform_agents.c.name == name))
        return None if row is None else _agent(row)

    async def deployments_of(self, agent_id: str) -> int:
        statement = select(func.count()).where(platform_deployments.c.agent_id == agent_id)
        return int(await self._connection.scalar(statement) or 0)


class SqlPlatformStore(SqlStore):
    def unit_of_work(self, *, read_only: bool = False) -> SqlPlatformUnitOfWork:
        return SqlPlatformUnitOfWork(self.backend, read_only)
