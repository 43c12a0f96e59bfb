"""What every SQL store shares: a backend chosen once from its URL, one connection per unit of work."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from infrastructure.sql.backend import Backend, open_backend
from infrastructure.sql.connection import Connection, Transaction
from infrastructure.sql.urls import DEFAULT_STATEMENT_TIMEOUT_MS


class SqlUnitOfWork:
    """One transaction (or, read-only, one autocommit connection) with the store's repositories on it."""

    def __init__(self, backend: Backend, read_only: bool) -> None:
        self._backend = backend
        self._read_only = read_only
        self._transaction: Transaction | None = None

    def bind(self, connection: Connection) -> None:
        """Set up the repositories on the unit of work's connection (each store's own)."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        self._transaction = await self._backend.begin(read_only=self._read_only)
        self.bind(self._transaction)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._transaction is not None:
            await self._transaction.close()  # undoes whatever was not committed

    async def commit(self) -> None:
        if self._transaction is not None:
            await self._transaction.commit()


class SqlStore:
    persistent = True

    def __init__(self, backend: Backend, *, owns_backend: bool = True) -> None:
        """`owns_backend`: False when stores share the backend of their database, and whoever
        shares it out closes it."""
        self.backend = backend
        self._owns_backend = owns_backend

    @classmethod
    def at(cls, url: str, *args: Any, statement_timeout_ms: int | None = DEFAULT_STATEMENT_TIMEOUT_MS) -> Self:
        """The store on the database at `url` (`args`: the store's own)."""
        return cls(open_backend(url, statement_timeout_ms=statement_timeout_ms), *args)

    async def ping(self) -> None:
        await self.backend.ping()

    async def close(self) -> None:
        if self._owns_backend:
            await self.backend.close()
