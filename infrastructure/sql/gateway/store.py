"""The gateway store on SQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from domain.gateway.model import ChatTask
from domain.paging import Batches, SortKey
from domain.ports import FoundTask, GatewayRepositories, HistoryBatchAtOnce, SaveTaskAtOnce
from infrastructure.sql.connection import Connection
from infrastructure.sql.gateway.repositories import (
    SqlChatTaskRepository,
    SqlFeedbackRepository,
    SqlSessionRepository,
    task_of,
)
from infrastructure.sql.store import SqlStore, SqlUnitOfWork

T = TypeVar("T")


class SqlGatewayRepositories:
    def __init__(self, connection: Connection) -> None:
        self.sessions = SqlSessionRepository(connection)
        self.tasks = SqlChatTaskRepository(connection)
        self.feedback = SqlFeedbackRepository(connection)


class SqlGatewayUnitOfWork(SqlUnitOfWork):
    sessions: SqlSessionRepository
    tasks: SqlChatTaskRepository
    feedback: SqlFeedbackRepository

    def bind(self, connection: Connection) -> None:
        on = SqlGatewayRepositories(connection)
        self.sessions, self.tasks, self.feedback = on.sessions, on.tasks, on.feedback


class SqlGatewayStore(SqlStore):
    def unit_of_work(self, *, read_only: bool = False) -> SqlGatewayUnitOfWork:
        return SqlGatewayUnitOfWork(self.backend, read_only)

    async def run(self, work: Callable[[GatewayRepositories], Awaitable[T]]) -> T:
        return await self.backend.run_whole(lambda connection: work(SqlGatewayRepositories(connection)))

    @property
    def save_task_at_once(self) -> SaveTaskAtOnce | None:
        return self.backend.save_task

    @property
    def history_batch_at_once(self) -> HistoryBatchAtOnce | None:
        return self._history_batch

    async def _history_batch(
        self, user_id: str, session_id: str, batches: Batches, after: SortKey | None
    ) -> tuple[list[ChatTask], bool] | None:
        async with self.unit_of_work(read_only=True) as uow:
            return await uow.tasks.next_batch(user_id, session_id, batches, after)

    async def search_tasks(self, user_id: str, terms: list[str], *, limit: int, offset: int = 0) -> list[FoundTask]:
        rows = await self.backend.search_tasks(user_id, terms, limit=limit, offset=offset)
        return [FoundTask(task_of(row), row.session_name) for row in rows]
