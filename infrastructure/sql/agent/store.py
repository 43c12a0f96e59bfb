"""One agent's store on SQL: its own engine, its rows keyed by its name."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from infrastructure.sql.agent.repositories import (
    SqlAgentSessionRepository,
    SqlEventRepository,
    SqlRunRepository,
    SqlStateRepository,
)
from infrastructure.sql.unit_of_work import SqlStore, SqlUnitOfWork


class SqlAgentUnitOfWork(SqlUnitOfWork):
    def __init__(self, engine: AsyncEngine, read_only: bool, app_name: str) -> None:
        super().__init__(engine, read_only)
        self._app = app_name

    def bind(self, connection: AsyncConnection) -> None:
        self.sessions = SqlAgentSessionRepository(connection, self._app)
        self.events = SqlEventRepository(connection, self._app)
        self.states = SqlStateRepository(connection, self._app)
        self.runs = SqlRunRepository(connection, self._app)


class SqlAgentStore(SqlStore):
    def __init__(self, engine: AsyncEngine, app_name: str) -> None:
        super().__init__(engine)
        self.app_name = app_name

    def unit_of_work(self, *, read_only: bool = False) -> SqlAgentUnitOfWork:
        return SqlAgentUnitOfWork(self.engine_for(read_only), read_only, self.app_name)
