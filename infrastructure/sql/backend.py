"""A database as a store uses it: `Backend`, one module per database, chosen once from the URL.

postgres.py, mysql.py and sqlite.py each own how a read, a transaction and a one-statement write
reach their driver, their pools or threads, their driver errors, and their hot statements. The rest
of infrastructure/sql sees only `Backend` and `Connection`. infrastructure/sql/README.md maps which
path each operation takes on each database, and the benchmark that keeps it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.engine import Dialect

from domain.ports import AppendAtOnce, SaveTaskAtOnce
from infrastructure.sql.connection import Transaction
from infrastructure.sql.urls import DEFAULT_STATEMENT_TIMEOUT_MS, parse_url

T = TypeVar("T")


class Backend(ABC):
    dialect: Dialect
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
    async def ping(self) -> None:
        """Raise StoreUnavailable when the database does not answer."""

    @abstractmethod
    async def close(self) -> None: ...


def open_backend(url: str, *, statement_timeout_ms: int | None = DEFAULT_STATEMENT_TIMEOUT_MS) -> Backend:
    """The backend of the database at `url` (`sqlite:///`, `postgresql://`, `mysql+pymysql://`)."""
    # Imported here: each module pulls in its own driver, and a deployment needs only its own.
    name = parse_url(url).get_backend_name()
    if name == "postgresql":
        from infrastructure.sql.postgres import PostgresBackend

        return PostgresBackend(url, statement_timeout_ms=statement_timeout_ms)
    if name in ("mysql", "mariadb"):
        from infrastructure.sql.mysql import MysqlBackend

        return MysqlBackend(url, statement_timeout_ms=statement_timeout_ms)
    from infrastructure.sql.sqlite import SqliteBackend

    return SqliteBackend(url)
