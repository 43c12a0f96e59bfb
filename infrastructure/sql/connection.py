"""The one interface repositories talk to, whatever the database: `Connection`.

Repositories write their SQL once, in SQLAlchemy Core; a backend (postgres.py, mysql.py, sqlite.py)
compiles it for its driver and runs it there. A statement built once at import (`Query`) is
compiled once per driver; one built per call is compiled per call, like SQLAlchemy's own
uncached path. SQLAlchemy's execution layer is not on the way: its per-statement CPU cost was as
large as the driver's own work on every hot path (benchmarks/point_read.py).
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections import namedtuple
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from domain.errors import Conflict, StoreUnavailable

Params = Mapping[str, Any]
NO_PARAMS: Params = {}
_savepoints = itertools.count(1)


@lru_cache(maxsize=128)
def row_type(columns: tuple[str, ...]) -> Any:
    """Rows with attribute access by column name (and tuple unpacking), as SQLAlchemy's have."""
    return namedtuple("Row", columns, rename=True)


class Query:
    """A statement built once, compiled once per driver: the SQL text and the values it carries itself
    (a literal in a WHERE, the OFFSET 0 some databases' LIMIT needs)."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: ClauseElement | str) -> None:
        self.statement = text(statement) if isinstance(statement, str) else statement
        self._compiled: dict[int, tuple[str, dict[str, Any]]] = {}

    def compiled(self, dialect: Dialect) -> tuple[str, dict[str, Any]]:
        found = self._compiled.get(id(dialect))
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            found = (str(compiled), {k: v for k, v in compiled.params.items() if v is not None})
            self._compiled[id(dialect)] = found
        return found


Statement = Query | ClauseElement


def compile_for(dialect: Dialect, statement: Statement, params: Params) -> tuple[str, dict[str, Any]]:
    """The SQL a driver runs for `statement`, and its parameters by name."""
    if isinstance(statement, Query):
        sql, fixed = statement.compiled(dialect)
        return sql, {**fixed, **params} if fixed else dict(params)
    # An INSERT or UPDATE given its values at run time: the parameters name the columns it sets.
    compiled = statement.compile(dialect=dialect, column_keys=list(params))
    return str(compiled), dict(compiled.construct_params(dict(params)) or {})


def clash() -> Conflict:
    return Conflict("the write clashes with a row stored meanwhile; retry the request")


def timed_out() -> StoreUnavailable:
    return StoreUnavailable("the database took longer than the statement timeout")


def unreachable() -> StoreUnavailable:
    return StoreUnavailable("the database did not answer")


class Connection(ABC):
    """A unit of work's way to the database: statements run in its transaction (or in autocommit
    for a read-only one), driver errors already translated into the domain's."""

    @abstractmethod
    async def rows(self, statement: Statement, params: Params = NO_PARAMS) -> Sequence[Any]:
        """Every row the statement returns, each with attribute access by column name."""

    @abstractmethod
    async def run(self, statement: Statement, params: Params = NO_PARAMS) -> int:
        """Run a statement that returns no rows; how many rows it changed."""

    async def first(self, statement: Statement, params: Params = NO_PARAMS) -> Any | None:
        found = await self.rows(statement, params)
        return found[0] if found else None

    async def scalar(self, statement: Statement, params: Params = NO_PARAMS) -> Any:
        row = await self.first(statement, params)
        return None if row is None else row[0]

    async def page_with_total(self, page: Query, total: Query, params: Params) -> tuple[Sequence[Any], int]:
        """A page of rows and the count of all rows it is taken from (two statements here; one round
        trip where the backend can join them)."""
        return await self.rows(page, params), int(await self.scalar(total, params) or 0)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Statements that may fail without undoing the rest of the transaction (the SQL is the same
        on PostgreSQL, MySQL/MariaDB and SQLite)."""
        name = f"sp_{next(_savepoints)}"
        await self.run(Query(f"SAVEPOINT {name}"))
        try:
            yield
        except BaseException:
            await self.run(Query(f"ROLLBACK TO SAVEPOINT {name}"))
            raise
        await self.run(Query(f"RELEASE SAVEPOINT {name}"))


class Transaction(Connection):
    """What a backend hands a unit of work: a connection it commits, then closes."""

    @abstractmethod
    async def commit(self) -> None: ...

    @abstractmethod
    async def close(self) -> None:
        """Undo whatever was not committed and give the connection back."""
