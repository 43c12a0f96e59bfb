"""Hot reads on PostgreSQL straight through psycopg, their SQL still written once, in Core.

Through SQLAlchemy's execution machinery a read of a page costs a few hundred microseconds of CPU
in Python before and after psycopg's own work (cache keys, execution contexts, result processing,
greenlet hops); on a busy server that, not the database, sets the request rate. A `DriverQuery`
compiles its Core statement once per dialect and, on PostgreSQL, runs it on the psycopg connection
beneath the unit of work's connection (same connection, same transaction), getting rows with
attribute access like SQLAlchemy's. Other databases run the Core statement as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable


async def driver_connection(connection: AsyncConnection) -> Any:
    """The driver's own connection beneath a SQLAlchemy one: psycopg's AsyncConnection on PostgreSQL."""
    return (await connection.get_raw_connection()).driver_connection


class DriverQuery:
    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._sql: str | None = None

    async def all(self, db: AsyncConnection, params: Mapping[str, Any]) -> Sequence[Any]:
        if db.dialect.name != "postgresql":
            return (await db.execute(self.statement, dict(params))).all()
        if self._sql is None:
            self._sql = str(self.statement.compile(dialect=db.dialect))
        raw = await driver_connection(db)
        async with raw.cursor(row_factory=namedtuple_row) as cursor:
            await cursor.execute(self._sql, params)
            rows: list[Any] = await cursor.fetchall()
            return rows
