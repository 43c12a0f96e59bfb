"""The gateway store on SQL: one AsyncSession per unit of work, one transaction per use case."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.errors import Conflict, StoreUnavailable
from infrastructure.sql.gateway.repositories import (
    SqlChatTaskRepository,
    SqlFeedbackRepository,
    SqlSessionRepository,
)


def translate(exc: BaseException) -> BaseException:
    """SQLAlchemy's errors as the domain names them; anything else is a bug and stays as it is."""
    if isinstance(exc, IntegrityError):
        return Conflict("the write clashes with a row stored meanwhile; retry the request")
    if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return StoreUnavailable("the database did not answer")
    if isinstance(exc, OSError | TimeoutError):
        return StoreUnavailable("the database could not be reached")
    return exc


class SqlGatewayUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._factory = sessions

    async def __aenter__(self) -> Self:
        self._db = self._factory()
        self.sessions = SqlSessionRepository(self._db)
        self.tasks = SqlChatTaskRepository(self._db)
        self.feedback = SqlFeedbackRepository(self._db)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._db.rollback()
            await self._db.close()
        except Exception:
            pass
        if exc is not None:
            translated = translate(exc)
            if translated is not exc:
                raise translated from exc

    async def commit(self) -> None:
        await self._db.commit()


class SqlGatewayStore:
    persistent = True

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    def unit_of_work(self) -> SqlGatewayUnitOfWork:
        return SqlGatewayUnitOfWork(self._sessions)

    async def ping(self) -> None:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            raise StoreUnavailable("the database did not answer") from exc

    async def close(self) -> None:
        await self.engine.dispose()
