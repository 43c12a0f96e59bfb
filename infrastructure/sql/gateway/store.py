"""The gateway store on SQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from infrastructure.sql.gateway.repositories import (
    SqlChatTaskRepository,
    SqlFeedbackRepository,
    SqlSessionRepository,
)
from infrastructure.sql.unit_of_work import SqlStore, SqlUnitOfWork


class SqlGatewayUnitOfWork(SqlUnitOfWork):
    def bind(self, connection: AsyncConnection) -> None:
        self.sessions = SqlSessionRepository(connection)
        self.tasks = SqlChatTaskRepository(connection)
        self.feedback = SqlFeedbackRepository(connection)


class SqlGatewayStore(SqlStore):
    def unit_of_work(self, *, read_only: bool = False) -> SqlGatewayUnitOfWork:
        return SqlGatewayUnitOfWork(self.engine_for(read_only), read_only)
