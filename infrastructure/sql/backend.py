"""A database as a store uses it: `Backend`, one module per database, chosen once from the URL.

postgres.py, mysql.py and sqlite.py each own how a read, a transaction and a one-statement write
reach their driver, their pools or threads, their driver errors, and their hot statements. The rest
of infrastructure/sql sees only `Backend` and `Connection`. infrastructure/sql/README.md maps which
path each operation takes on each database, and the benchmark that keeps it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.ports import AppendAtOnce, SaveTaskAtOnce
from infrastructure.sql.connection import Query, Transaction
from infrastructure.sql.urls import DEFAULT_POOL_SIZE, DEFAULT_STATEMENT_TIMEOUT_MS, parse_url

T = TypeVar("T")


class LockTimeout(Exception):
    """Another process held the migration lock too long."""


class Backend(ABC):
    dialect: Dialect

    @abstractmethod
    def __init__(self, url: str, *, statement_timeout_ms: int | None, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        """`pool_size`: the most connections this backend holds open to its database at once."""

    # The optional one-statement forms of the two hot writes (domain.ports), None where the database
    # has no faster form than the domain's rule in a transaction; the contract suite holds them to it.
    save_task: SaveTaskAtOnce | None = None
    append: AppendAtOnce | None = None

    @abstractmethod
    async def begin(self, *, read_only: bool) -> Transaction:
        """A connection for one unit of work: in a transaction, or in autocommit when `read_only`."""

    async def run_whole(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """`work` in one transaction, committed when it returns (rolled back when it raises).
        A backend may run it somewhere cheaper than statement by statement (sqlite.py)."""
        transaction = await self.begin(read_only=False)
        try:
            result = await work(transaction)
            await transaction.commit()
            return result
        finally:
            await transaction.close()

    @abstractmethod
    def tasks_matching(self, user_id: str, terms: list[str]) -> tuple[Query, dict[str, Any]]:
        """This database's full-text query of the user's chat tasks holding every term (folded
        words), ranked, with its parameters; it binds :limit and :offset too."""

    async def search_tasks(self, user_id: str, terms: list[str], *, limit: int, offset: int) -> Sequence[Any]:
        query, params = self.tasks_matching(user_id, terms)
        reads = await self.begin(read_only=True)
        try:
            return await reads.rows(query, {**params, "limit": limit, "offset": offset})
        finally:
            await reads.close()

    @abstractmethod
    async def ping(self) -> None:
        """Raise StoreUnavailable when the database does not answer."""

    @abstractmethod
    async def close(self) -> None: ...

    # What runs through SQLAlchemy instead: migrations (on the sync driver) and the platform registry
    # (advanced-alchemy, on SQLAlchemy's async driver).

    @staticmethod
    @abstractmethod
    def sync_engine(url: str) -> Engine: ...

    @classmethod
    def altering_engine(cls, url: str) -> Engine:
        """The engine migrations run on (`sync_engine` where nothing differs)."""
        return cls.sync_engine(url)

    @staticmethod
    @abstractmethod
    def async_engine(url: str, *, statement_timeout_ms: int | None, pool_size: int = DEFAULT_POOL_SIZE) -> AsyncEngine:
        """SQLAlchemy's async engine (the platform registry's), holding at most `pool_size` connections."""

    @staticmethod
    @abstractmethod
    def migration_lock(engine: Engine, url: str, name: str) -> AbstractContextManager[None]:
        """Held while one process migrates; raises LockTimeout when another holds it too long."""

    @staticmethod
    def deadlocked(exc: BaseException) -> bool:
        """Whether the database rolled back `exc`'s transaction as a deadlock's victim (SQLAlchemy's
        error or the driver's own); SQLite has no deadlocks, only its busy timeout."""
        return False


def backend_for(url: str) -> type[Backend]:
    """The module of the database at `url` (`sqlite:///`, `postgresql://`, `mysql+pymysql://`)."""
    # Imported here: each module pulls in its own driver, and a deployment needs only its own.
    name = parse_url(url).get_backend_name()
    if name == "postgresql":
        from infrastructure.sql.postgres import PostgresBackend

        return PostgresBackend
    if name in ("mysql", "mariadb"):
        from infrastructure.sql.mysql import MysqlBackend

        return MysqlBackend
    from infrastructure.sql.sqlite import SqliteBackend

    return SqliteBackend


def open_backend(
    url: str, *, statement_timeout_ms: int | None = DEFAULT_STATEMENT_TIMEOUT_MS, pool_size: int = DEFAULT_POOL_SIZE
) -> Backend:
    return backend_for(url)(url, statement_timeout_ms=statement_timeout_ms, pool_size=pool_size)
