"""One agent's store on SQL: its rows keyed by its name, in a database it may share with others."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from domain.ports import AgentRepositories, AppendAtOnce
from infrastructure.sql.agent.repositories import (
    SqlAgentSessionRepository,
    SqlEventRepository,
    SqlRunRepository,
    SqlStateRepository,
)
from infrastructure.sql.backend import Backend
from infrastructure.sql.connection import Connection
from infrastructure.sql.store import SqlStore, SqlUnitOfWork

T = TypeVar("T")


class SqlAgentRepositories:
    def __init__(self, connection: Connection, app_name: str) -> None:
        self.sessions = SqlAgentSessionRepository(connection, app_name)
        self.events = SqlEventRepository(connection, app_name)
        self.states = SqlStateRepository(connection, app_name)
        self.runs = SqlRunRepository(connection, app_name)


class SqlAgentUnitOfWork(SqlUnitOfWork):
    sessions: SqlAgentSessionRepository
    events: SqlEventRepository
    states: SqlStateRepository
    runs: SqlRunRepository

    def __init__(self, backend: Backend, app_name: str, read_only: bool) -> None:
        super().__init__(backend, read_only)
        self._app = app_name

    def bind(self, connection: Connection) -> None:
        on = SqlAgentRepositories(connection, self._app)
        self.sessions, self.events, self.states, self.runs = on.sessions, on.events, on.states, on.runs


class SqlAgentStore(SqlStore):
    def __init__(self, backend: Backend, app_name: str, *, owns_backend: bool = True) -> None:
        super().__init__(backend, owns_backend=owns_backend)
        self.app_name = app_name

    def unit_of_work(self, *, read_only: bool = False) -> SqlAgentUnitOfWork:
        return SqlAgentUnitOfWork(self.backend, self.app_name, read_only)

    async def run(self, work: Callable[[AgentRepositories], Awaitable[T]]) -> T:
        return await self.backend.run_whole(lambda connection: work(SqlAgentRepositories(connection, self.app_name)))

    @property
    def append_at_once(self) -> AppendAtOnce | None:
        return self.backend.append
