"""Hot reads on PostgreSQL straight through psycopg, their SQL still written once, in Core.

Through SQLAlchemy's execution machinery a read of a page costs a few hundred microseconds of CPU
in Python before and after psycopg's own work (cache keys, execution contexts, result processing,
greenlet hops); on a busy server that, not the database, sets the request rate. A `DriverQuery`
compiles its Core statement once per dialect and, on PostgreSQL, runs it on the psycopg connection
beneath the unit of work's connection (same connection, same transaction), or, in a read-only unit
of work, on a connection of the driver pool (`PooledReads`), getting rows with attribute access
like SQLAlchemy's. Other databases run the Core statement as usual.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from psycopg.rows import namedtuple_row
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

from infrastructure.sql.driver_pool import Connection, DriverPool

if TYPE_CHECKING:
    from infrastructure.sql.sqlite_reads import SqliteReader

# The drivers take named parameters from a mapping, each in its own style.
_SQLITE_NAMED = sqlite.dialect(paramstyle="named")  # type: ignore[no-untyped-call]
_MYSQL_PYFORMAT = mysql.dialect(paramstyle="pyformat")  # type: ignore[no-untyped-call]


@lru_cache(maxsize=64)
def row_type(columns: tuple[str, ...]) -> Any:
    """Rows with attribute access, as SQLAlchemy's and psycopg's namedtuple rows have."""
    return namedtuple("Row", columns, rename=True)  # type: ignore[misc]


async def driver_connection(connection: AsyncConnection) -> Any:
    """The driver's own connection beneath a SQLAlchemy one: psycopg's AsyncConnection on PostgreSQL."""
    return (await connection.get_raw_connection()).driver_connection


class _HotReads:
    """A read-only unit of work's database where the hot reads (`DriverQuery`) run off SQLAlchemy:
    any other statement runs on a SQLAlchemy connection taken at its first use, so a request that
    only runs hot reads never touches SQLAlchemy's pool."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.dialect = engine.dialect
        self._connection: AsyncConnection | None = None

    async def _sqlalchemy(self) -> AsyncConnection:
        if self._connection is None:
            self._connection = await self._engine.connect()
        return self._connection

    async def execute(self, statement: Executable, parameters: Any = None) -> Any:
        return await (await self._sqlalchemy()).execute(statement, parameters)

    async def scalar(self, statement: Executable, parameters: Any = None) -> Any:
        return await (await self._sqlalchemy()).scalar(statement, parameters)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()


class PooledReads(_HotReads):
    """PostgreSQL: the hot reads on a connection of the driver pool, taken at the first of them."""

    def __init__(self, pool: DriverPool, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self._pool = pool
        self._driver: Connection | None = None

    async def driver(self) -> Connection:
        if self._driver is None:
            self._driver = await self._pool.acquire()
        return self._driver

    async def close(self) -> None:
        try:
            if self._driver is not None:
                await self._pool.release(self._driver)
        finally:
            await super().close()


class SqliteReads(_HotReads):
    """SQLite: the hot reads in the store's reader thread."""

    def __init__(self, reader: SqliteReader, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.reader = reader


Database = AsyncConnection | PooledReads | SqliteReads


class DriverQuery:
    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, dict[str, Any]]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, dict[str, Any]]:
        """The SQL for a driver, and the values the statement carries itself (SQLite's and MySQL's
        LIMIT comes with an OFFSET of 0)."""
        if dialect.name not in self._compiled:
            compiled = self.statement.compile(dialect=dialect)
            fixed = {k: v for k, v in compiled.params.items() if v is not None}
            self._compiled[dialect.name] = (str(compiled), fixed)
        return self._compiled[dialect.name]

    async def all(self, db: Database, params: Mapping[str, Any]) -> Sequence[Any]:
        if isinstance(db, SqliteReads):
            sql, fixed = self._for(_SQLITE_NAMED)
            return await db.reader.all(sql, {**fixed, **params})
        if db.dialect.name == "mysql":
            sql, fixed = self._for(_MYSQL_PYFORMAT)
            raw = await driver_connection(db)  # type: ignore[arg-type]
            async with raw.cursor() as cursor:
                await cursor.execute(sql, {**fixed, **params})
                values = await cursor.fetchall()
                row = row_type(tuple(column[0] for column in cursor.description))
            return [row._make(v) for v in values]
        if db.dialect.name != "postgresql":
            return (await db.execute(self.statement, dict(params))).all()  # type: ignore[no-any-return]
        sql, _ = self._for(db.dialect)  # psycopg's statements carry no values of their own
        raw = await (db.driver() if isinstance(db, PooledReads) else driver_connection(db))
        async with raw.cursor(row_factory=namedtuple_row) as cursor:
            await cursor.execute(sql, params)
            rows: list[Any] = await cursor.fetchall()
            return rows
