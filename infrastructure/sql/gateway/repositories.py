"""The gateway ports on SQL: advanced-alchemy repositories for the plain verbs, Core for paging."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import ColumnElement, Select, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.gateway.model import ChatTask, Feedback, FeedbackType, Session
from domain.paging import SortKey
from domain.ports import FeedbackFilter, SessionFilter
from infrastructure.sql.gateway.models import ChatTaskRow, FeedbackRow, SessionRow
from infrastructure.sql.keyset import after_key, ordered


def _session(row: SessionRow) -> Session:
    return Session(row.id, row.user_id, row.name, row.agent_id, row.project_id, row.created_time, row.updated_time)


def _task(row: ChatTaskRow) -> ChatTask:
    return ChatTask(
        row.id,
        row.session_id,
        row.user_id,
        row.user_message,
        row.message_bubbles,
        row.task_metadata,
        row.created_time,
        row.updated_time,
    )


def _feedback(row: FeedbackRow) -> Feedback:
    return Feedback(
        row.id, row.session_id, row.task_id, row.user_id, FeedbackType(row.rating), row.comment, row.created_time
    )


class SessionRows(SQLAlchemyAsyncRepository[SessionRow]):
    model_type = SessionRow


class ChatTaskRows(SQLAlchemyAsyncRepository[ChatTaskRow]):
    model_type = ChatTaskRow


class FeedbackRows(SQLAlchemyAsyncRepository[FeedbackRow]):
    model_type = FeedbackRow


class _Repository:
    rows: type[SQLAlchemyAsyncRepository[Any]]

    def __init__(self, session: AsyncSession) -> None:
        self._db = session
        # Errors stay SQLAlchemy's: the unit of work turns them into domain errors in one place.
        self._repo = self.rows(session=session, auto_expunge=True, auto_refresh=False, wrap_exceptions=False)

    async def _rows(self, statement: Select[Any]) -> list[Any]:
        return list((await self._db.scalars(statement)).all())

    async def _count(self, conditions: list[ColumnElement[bool]], model: Any) -> int:
        return int(await self._db.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


class SqlSessionRepository(_Repository):
    rows = SessionRows

    async def add(self, session: Session) -> None:
        await self._repo.add(SessionRow(**_fields(session)))

    async def get(self, session_id: str) -> Session | None:
        row = await self._repo.get_one_or_none(SessionRow.id == session_id)
        return None if row is None else _session(row)

    async def update(self, session: Session) -> None:
        await self._db.execute(update(SessionRow).where(SessionRow.id == session.id).values(**_fields(session)))

    async def delete(self, session_id: str) -> None:
        await self._db.execute(delete(SessionRow).where(SessionRow.id == session_id))

    def _where(self, where: SessionFilter) -> list[ColumnElement[bool]]:
        conditions = [SessionRow.user_id == where.user_id]
        if where.agent_id is not None:
            conditions.append(SessionRow.agent_id == where.agent_id)
        if where.project_id is not None:
            conditions.append(SessionRow.project_id == where.project_id)
        if where.text is not None:
            in_tasks = exists().where(
                ChatTaskRow.session_id == SessionRow.id,
                or_(
                    ChatTaskRow.user_message.icontains(where.text, autoescape=True),
                    ChatTaskRow.message_bubbles.icontains(where.text, autoescape=True),
                ),
            )
            conditions.append(or_(SessionRow.name.icontains(where.text, autoescape=True), in_tasks))
        return conditions

    async def list(
        self, where: SessionFilter, *, limit: int, offset: int = 0, after: SortKey | None = None
    ) -> list[Session]:
        conditions = self._where(where)
        if after is not None:
            conditions.append(after_key(SessionRow.updated_time, SessionRow.id, after, descending=True))
        statement = (
            select(SessionRow)
            .where(*conditions)
            .order_by(*ordered(SessionRow.updated_time, SessionRow.id, descending=True))
            .limit(limit)
            .offset(offset)
        )
        return [_session(row) for row in await self._rows(statement)]

    async def count(self, where: SessionFilter) -> int:
        return await self._count(self._where(where), SessionRow)


class SqlChatTaskRepository(_Repository):
    rows = ChatTaskRows

    async def add(self, task: ChatTask) -> None:
        await self._repo.add(ChatTaskRow(**_fields(task)))

    async def get(self, task_id: str) -> ChatTask | None:
        row = await self._repo.get_one_or_none(ChatTaskRow.id == task_id)
        return None if row is None else _task(row)

    async def update(self, task: ChatTask) -> None:
        await self._db.execute(update(ChatTaskRow).where(ChatTaskRow.id == task.id).values(**_fields(task)))

    async def list_for_session(
        self, session_id: str, *, limit: int | None = None, after: SortKey | None = None
    ) -> list[ChatTask]:
        conditions = [ChatTaskRow.session_id == session_id]
        if after is not None:
            conditions.append(after_key(ChatTaskRow.created_time, ChatTaskRow.id, after, descending=False))
        statement = (
            select(ChatTaskRow)
            .where(*conditions)
            .order_by(*ordered(ChatTaskRow.created_time, ChatTaskRow.id, descending=False))
            .limit(limit)
        )
        return [_task(row) for row in await self._rows(statement)]

    async def delete_for_session(self, session_id: str) -> None:
        await self._db.execute(delete(ChatTaskRow).where(ChatTaskRow.session_id == session_id))


class SqlFeedbackRepository(_Repository):
    rows = FeedbackRows

    async def add(self, feedback: Feedback) -> None:
        await self._repo.add(FeedbackRow(**{**_fields(feedback), "rating": feedback.rating.value}))

    def _where(self, where: FeedbackFilter) -> list[ColumnElement[bool]]:
        conditions = [FeedbackRow.user_id == where.user_id]
        if where.session_id is not None:
            conditions.append(FeedbackRow.session_id == where.session_id)
        if where.task_id is not None:
            conditions.append(FeedbackRow.task_id == where.task_id)
        if where.rating is not None:
            conditions.append(FeedbackRow.rating == where.rating.value)
        if where.since is not None:
            conditions.append(FeedbackRow.created_time >= where.since)
        if where.until is not None:
            conditions.append(FeedbackRow.created_time <= where.until)
        return conditions

    async def list(
        self, where: FeedbackFilter, *, limit: int, offset: int = 0, after: SortKey | None = None
    ) -> list[Feedback]:
        conditions = self._where(where)
        if after is not None:
            conditions.append(after_key(FeedbackRow.created_time, FeedbackRow.id, after, descending=True))
        statement = (
            select(FeedbackRow)
            .where(*conditions)
            .order_by(*ordered(FeedbackRow.created_time, FeedbackRow.id, descending=True))
            .limit(limit)
            .offset(offset)
        )
        return [_feedback(row) for row in await self._rows(statement)]

    async def count(self, where: FeedbackFilter) -> int:
        return await self._count(self._where(where), FeedbackRow)

    async def delete_for_session(self, session_id: str) -> None:
        await self._db.execute(delete(FeedbackRow).where(FeedbackRow.session_id == session_id))


def _fields(entity: Any) -> dict[str, Any]:
    return {name: getattr(entity, name) for name in entity.__slots__}
