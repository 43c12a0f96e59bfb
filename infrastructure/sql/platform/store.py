"""The platform registry on SQL, through advanced-alchemy's repositories (one per table).

The registry is small and seldom written, so it takes the library's ORM path (an AsyncSession per
unit of work on SQLAlchemy's async drivers) rather than the gateway and agent stores' backend
modules: benchmarks/point_read.py prices the difference at a few hundred microseconds a read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

import msgspec
from advanced_alchemy.exceptions import IntegrityError as RepositoryIntegrityError
from advanced_alchemy.filters import LimitOffset
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import IntegrityError as SqlIntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapper
from sqlalchemy.sql import FromClause

from domain.errors import StoreUnavailable
from domain.paging import SortKey
from domain.platform.model import Connector, Deployment, DeploymentStatus, PlatformAgent
from infrastructure.sql.backend import backend_for
from infrastructure.sql.connection import clash, unreachable
from infrastructure.sql.keyset import after_key, ordered
from infrastructure.sql.platform.tables import platform_agents, platform_connectors, platform_deployments
from infrastructure.sql.platform.vault import Vault
from infrastructure.sql.urls import DEFAULT_POOL_SIZE, DEFAULT_STATEMENT_TIMEOUT_MS

_decode = msgspec.json.decode


class _Row(DeclarativeBase):
    # Typed as advanced-alchemy's ModelProtocol asks; the rows are mapped on the Core tables.
    __mapper__: ClassVar[Mapper[Any]]


class AgentRow(_Row):
    __table__: ClassVar[FromClause] = platform_agents


class ConnectorRow(_Row):
    __table__: ClassVar[FromClause] = platform_connectors


class DeploymentRow(_Row):
    __table__: ClassVar[FromClause] = platform_deployments


class _AgentRows(SQLAlchemyAsyncRepository[AgentRow]):
    model_type = AgentRow


class _ConnectorRows(SQLAlchemyAsyncRepository[ConnectorRow]):
    model_type = ConnectorRow


class _DeploymentRows(SQLAlchemyAsyncRepository[DeploymentRow]):
    model_type = DeploymentRow


def _columns(record: PlatformAgent | Connector | Deployment, vault: Vault) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in record.__slots__}
    values["config"] = vault.seal(msgspec.json.encode(values["config"]).decode())
    if isinstance(record, Deployment):
        values["status"] = record.status.value
    return values


def _agent(row: Any, config: dict[str, Any]) -> PlatformAgent:
    return PlatformAgent(row.id, row.name, row.description, config, row.created_time, row.updated_time)


def _connector(row: Any, config: dict[str, Any]) -> Connector:
    return Connector(row.id, row.name, row.type, config, row.created_time, row.updated_time)


def _deployment(row: Any, config: dict[str, Any]) -> Deployment:
    return Deployment(row.id, row.agent_id, DeploymentStatus(row.status), config, row.created_time, row.updated_time)


R = TypeVar("R", PlatformAgent, Connector, Deployment)
M = TypeVar("M", AgentRow, ConnectorRow, DeploymentRow)


def translate(exc: BaseException) -> BaseException:
    """advanced-alchemy's and SQLAlchemy's errors as the domain names them; anything else stays.
    The driver's error is looked for down the chain: advanced-alchemy wraps a refused connection
    in its IntegrityError too."""
    cause: BaseException | None = exc
    while cause is not None:
        invalidated = isinstance(cause, DBAPIError) and cause.connection_invalidated
        if invalidated or isinstance(cause, OperationalError | OSError | TimeoutError):
            return unreachable()
        cause = cause.__cause__
    if isinstance(exc, RepositoryIntegrityError | SqlIntegrityError):
        return clash()
    return exc


class SqlRegistry(Generic[R, M]):
    """One table of the registry behind the domain's RegistryRepository."""

    def __init__(
        self, rows: SQLAlchemyAsyncRepository[M], to_record: Callable[[Any, dict[str, Any]], R], vault: Vault
    ) -> None:
        self._rows: SQLAlchemyAsyncRepository[M] = rows
        self._to_record: Callable[[Any, dict[str, Any]], R] = to_record
        self._vault = vault
        self._table = rows.model_type.__table__

    def record(self, row: Any) -> R:
        return self._to_record(row, _decode(self._vault.open(row.config)))

    async def add(self, record: R) -> None:
        await self._rows.add(self._rows.model_type(**_columns(record, self._vault)))

    async def get(self, record_id: str) -> R | None:
        row = await self._rows.get_one_or_none(id=record_id)
        return None if row is None else self.record(row)

    async def update(self, record: R) -> None:
        await self._rows.update(self._rows.model_type(**_columns(record, self._vault)))

    async def delete(self, record_id: str) -> None:
        await self._rows.delete_where(id=record_id)

    async def find(self, *, limit: int, offset: int = 0, after: SortKey | None = None) -> list[R]:
        time_col, id_col = self._table.c.created_time, self._table.c.id
        filters: list[Any] = [LimitOffset(limit=limit, offset=offset)]
        if after is not None:
            filters.append(after_key(time_col, id_col, after, descending=False))
        rows = await self._rows.get_many(*filters, order_by=list(ordered(time_col, id_col, descending=False)))
        return [self.record(row) for row in rows]

    async def count(self) -> int:
        return int(await self._rows.count())


class SqlPlatformUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], vault: Vault) -> None:
        self._sessions, self._vault = sessions, vault

    async def __aenter__(self) -> Self:
        self._session = session = self._sessions()
        self._agent_rows, self._deployment_rows = _AgentRows(session=session), _DeploymentRows(session=session)
        self.agents = SqlRegistry(self._agent_rows, _agent, self._vault)
        self.connectors = SqlRegistry(_ConnectorRows(session=session), _connector, self._vault)
        self.deployments = SqlRegistry(self._deployment_rows, _deployment, self._vault)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._session.close()  # rolls back what was not committed
        except Exception as closing:
            if exc is None:
                raise translate(closing) from closing
        if exc is not None and (translated := translate(exc)) is not exc:
            raise translated from exc

    async def commit(self) -> None:
        await self._session.commit()

    async def agent_named(self, name: str) -> PlatformAgent | None:
        row = await self._agent_rows.get_one_or_none(name=name)
        return None if row is None else self.agents.record(row)

    async def deployments_of(self, agent_id: str) -> int:
        return await self._deployment_rows.count(agent_id=agent_id)


class SqlPlatformStore:
    """`keys` seal the records' configs (vault.Vault): the current one first, then older ones."""

    def __init__(self, engine: AsyncEngine, keys: Sequence[str]) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._vault = Vault(keys)

    @classmethod
    def at(
        cls,
        url: str,
        keys: Sequence[str],
        *,
        statement_timeout_ms: int | None = DEFAULT_STATEMENT_TIMEOUT_MS,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> SqlPlatformStore:
        engine = backend_for(url).async_engine(url, statement_timeout_ms=statement_timeout_ms, pool_size=pool_size)
        return cls(engine, keys)

    def unit_of_work(self, *, read_only: bool = False) -> SqlPlatformUnitOfWork:
        return SqlPlatformUnitOfWork(self._sessions, self._vault)

    async def reseal(self) -> int:
        """Seal every config under the current key (after a rotation, before the old key is dropped);
        how many were rewritten."""
        rewritten = 0
        async with self._engine.begin() as connection:
            for table in (platform_agents, platform_connectors, platform_deployments):
                for ident, stored in (await connection.execute(select(table.c.id, table.c.config))).all():
                    if (fresh := self._vault.resealed(stored)) is not None:
                        await connection.execute(update(table).where(table.c.id == ident).values(config=fresh))
                        rewritten += 1
        return rewritten

    async def ping(self) -> None:
        try:
            async with self._engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
        except Exception as exc:
            raise StoreUnavailable("the database did not answer") from exc

    async def close(self) -> None:
        await self._engine.dispose()
