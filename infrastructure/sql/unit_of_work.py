"""What every SQL store shares: a connection per unit of work, one transaction per use case,
SQLAlchemy's errors translated into the domain's.

Read-only units of work run in autocommit: no BEGIN/ROLLBACK round trips for a request that
writes nothing (benchmarks/point_read.py: 231 us against 342 us for a point read on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self

import psycopg
import pymysql
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.errors import Conflict, StoreUnavailable
from infrastructure.sql.driver import Database, PooledReads, SqliteReads, driver_connection
from infrastructure.sql.driver_pool import Connection, DriverPool
from infrastructure.sql.engine import (
    DEFAULT_STATEMENT_TIMEOUT_MS,
    async_url,
    create_autocommit_engine,
    create_engine,
    create_sqlite_sync_engine,
    sqlite_path,
)
from infrastructure.sql.sqlite_reads import SqliteReader
from infrastructure.sql.sqlite_writer import SqliteWriter
from infrastructure.sql.write_turn import WriteTurn


def translate(exc: BaseException) -> BaseException:
    """Database errors as the domain names them; anything else is a bug and stays as it is.

    Covers SQLAlchemy's errors and the drivers' own, which reach here from the paths that talk to
    psycopg, sqlite3 or aiomysql (pymysql's errors) directly."""
    if isinstance(exc, IntegrityError | psycopg.IntegrityError | sqlite3.IntegrityError | pymysql.IntegrityError):
        return Conflict("the write clashes with a row stored meanwhile; retry the request")
    if (
        isinstance(exc, psycopg.errors.QueryCanceled)
        or "statement timeout" in str(exc)
        or "max_statement_time" in str(exc)
    ):
        return StoreUnavailable("the database took longer than the statement timeout")
    if isinstance(
        exc, OperationalError | psycopg.OperationalError | sqlite3.OperationalError | pymysql.OperationalError
    ) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return StoreUnavailable("the database did not answer")
    if isinstance(exc, OSError | TimeoutError):
        return StoreUnavailable("the database could not be reached")
    return exc


class SqlUnitOfWork:
    def __init__(self, store: SqlStore, read_only: bool) -> None:
        self._engine = store.engine_for(read_only)
        self._read_only = read_only
        self._pool = store.driver_pool if read_only else None
        self._reader = store.sqlite_reader if read_only else None
        self._turn = None if read_only else store.write_turn

    def bind(self, connection: Database) -> None:
        """Set up the repositories on the unit of work's connection (subclasses)."""

    async def __aenter__(self) -> Self:
        self._db: Database
        if self._turn is not None:
            await self._turn.begin_transaction()
        try:
            if self._pool is not None:
                self._db = PooledReads(self._pool, self._engine)
            elif self._reader is not None:
                self._db = SqliteReads(self._reader, self._engine)
            else:
                self._db = await self._engine.connect()
                if not self._read_only:
                    await self._db.begin()
        except BaseException as exc:
            if self._turn is not None:
                await self._turn.end_transaction()
            raise translate(exc) from exc
        self.bind(self._db)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Closing rolls back whatever was not committed. If the connection is gone, the original error says why.
        try:
            with contextlib.suppress(Exception):
                await self._db.close()
        finally:
            if self._turn is not None:
                await self._turn.end_transaction()
        if exc is not None:
            translated = translate(exc)
            if translated is not exc:
                raise translated from exc

    async def commit(self) -> None:
        if not self._read_only:
            assert isinstance(self._db, AsyncConnection)
            await self._db.commit()


class SqlStore:
    persistent = True

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        autocommit_engine: AsyncEngine | None = None,
        driver_pool: DriverPool | None = None,
    ) -> None:
        """`engine` for units of work that write; `autocommit_engine` (create_autocommit_engine) for
        reads and one-statement writes, else `engine` switched into autocommit per checkout;
        `driver_pool` (PostgreSQL) for the hot reads and the one-statement writes."""
        self.engine = engine
        self.write_turn = WriteTurn() if engine.dialect.name == "sqlite" else None
        self._sqlite_sync: Engine | None = None
        self.sqlite_reader: SqliteReader | None = None
        self.sqlite_writer: SqliteWriter | None = None
        # A file, not an in-memory database: a second connection to that would see another database.
        if self.write_turn is not None and sqlite_path(engine.url) is not None:
            self._sqlite_sync = create_sqlite_sync_engine(str(engine.url))
            self.sqlite_reader = SqliteReader(self._sqlite_sync)
            self.sqlite_writer = SqliteWriter(self._sqlite_sync, self.write_turn)
        self._own_autocommit_pool = autocommit_engine is not None
        self.autocommit_engine = autocommit_engine or engine.execution_options(isolation_level="AUTOCOMMIT")
        self.driver_pool = driver_pool

    @classmethod
    def at(cls, url: str, *args: Any, statement_timeout_ms: int | None = DEFAULT_STATEMENT_TIMEOUT_MS) -> Self:
        """The store on the database at `url`, with the engines production uses (`args`: the store's own)."""
        backend = async_url(url).get_backend_name()
        if backend == "sqlite":
            return cls(create_engine(url, statement_timeout_ms=statement_timeout_ms), *args)
        engine = create_engine(url, statement_timeout_ms=statement_timeout_ms, pool_size=20)
        if backend != "postgresql":
            autocommit = create_autocommit_engine(url, statement_timeout_ms=statement_timeout_ms, pool_size=20)
            return cls(engine, *args, autocommit_engine=autocommit)
        # The hot statements run on the driver pool; SQLAlchemy's pools serve the rest.
        return cls(
            engine,
            *args,
            autocommit_engine=create_autocommit_engine(url, statement_timeout_ms=statement_timeout_ms, pool_size=10),
            driver_pool=DriverPool(url, max_size=30, statement_timeout_ms=statement_timeout_ms),
        )

    def engine_for(self, read_only: bool) -> AsyncEngine:
        return self.autocommit_engine if read_only else self.engine

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[Connection]:
        """A psycopg connection in autocommit, for a write that is one statement (PostgreSQL)."""
        if self.driver_pool is not None:
            async with self.driver_pool.connection() as connection:
                yield connection
        else:
            async with self.autocommit_engine.connect() as connection:
                yield await driver_connection(connection)

    async def ping(self) -> None:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            raise StoreUnavailable("the database did not answer") from exc

    async def close(self) -> None:
        await self.engine.dispose()
        if self._own_autocommit_pool:
            await self.autocommit_engine.dispose()
        if self.driver_pool is not None:
            await self.driver_pool.close()
        if self.sqlite_reader is not None:
            self.sqlite_reader.close()
        if self.sqlite_writer is not None:
            self.sqlite_writer.close()
        if self._sqlite_sync is not None:
            self._sqlite_sync.dispose()
