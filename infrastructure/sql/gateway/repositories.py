"""The gateway ports on SQL: statements in SQLAlchemy Core, run through the unit of work's `Connection`.

The statements of the hot paths (a row by id, the sessions page, the history) are built once at
import, so they are compiled once per database; the filtered lists are built per call.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Integer, Table, and_, bindparam, delete, func, or_, select, true

from domain.gateway.model import ChatTask, Feedback, FeedbackType, Session, SessionSource, Tombstone
from domain.paging import Batches, SortKey
from domain.ports import FeedbackFilter, SessionFilter
from infrastructure.sql.connection import Connection, Query
from infrastructure.sql.gateway.tables import chat_tasks, deleted_sessions, feedback, sessions
from infrastructure.sql.keyset import after_key, ordered
from infrastructure.sql.statements import delete_in, entity_columns, fields, insert_row, update_row


def session_of(row: Any) -> Session:
    return Session(
        row.id,
        row.user_id,
        row.name,
        row.agent_id,
        row.project_id,
        row.created_time,
        row.updated_time,
        project_name=row.project_name,
        source=SessionSource(row.source),
        has_running_background_task=bool(row.has_running_background_task),
        scheduled_task_id=row.scheduled_task_id,
        scheduled_task_name=row.scheduled_task_name,
        last_viewed_at=row.last_viewed_at,
    )


def task_of(row: Any) -> ChatTask:
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


# What each database's message search (Backend.tasks_matching) selects: the task, its session's name.
TASK_HIT = """t.id, t.session_id, t.user_id, t.user_message, t.message_bubbles, t.task_metadata, t.created_time,
    t.updated_time, s.name AS session_name
FROM chat_tasks AS t JOIN sessions AS s ON s.id = t.session_id"""


def feedback_of(row: Any) -> Feedback:
    return Feedback(
        row.id, row.session_id, row.task_id, row.user_id, FeedbackType(row.rating), row.comment, row.created_time
    )


def _of_user(table: Table) -> Query:
    return Query(delete(table).where(table.c.user_id == bindparam("user")))


class _Repository:
    table: Table
    _by_id: Query
    _by_id_locked: Query
    _insert: Query
    _update: Query

    def __init_subclass__(cls) -> None:
        by_id = select(*entity_columns(cls.table)).where(cls.table.c.id == bindparam("key"))
        cls._by_id, cls._by_id_locked = Query(by_id), Query(by_id.with_for_update())
        cls._insert, cls._update = insert_row(cls.table), update_row(cls.table, "id")

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def _one(self, key: str, *, for_update: bool = False) -> Any:
        return await self._db.first(self._by_id_locked if for_update else self._by_id, {"key": key})

    def _values(self, entity: Any) -> dict[str, Any]:
        """The entity's row: its fields, and what a table keeps beside them."""
        return fields(entity)

    async def _add(self, entity: Any) -> None:
        await self._db.run(self._insert, self._values(entity))

    async def _replace(self, entity: Any) -> None:
        values = self._values(entity)
        values["key_id"] = values.pop("id")
        await self._db.run(self._update, values)

    async def _count(self, conditions: list[ColumnElement[bool]]) -> int:
        return int(await self._db.scalar(select(func.count()).select_from(self.table).where(*conditions)) or 0)

    async def _page(
        self,
        conditions: list[ColumnElement[bool]],
        time_column: str,
        *,
        descending: bool,
        limit: int | None,
        offset: int = 0,
        after: SortKey | None = None,
    ) -> list[Any]:
        time_col, id_col = self.table.c[time_column], self.table.c.id
        if after is not None:
            conditions = [*conditions, after_key(time_col, id_col, after, descending=descending)]
        statement = (
            select(*entity_columns(self.table))
            .where(*conditions)
            .order_by(*ordered(time_col, id_col, descending=descending))
        )
        return list(await self._db.rows(statement.limit(limit).offset(offset or None)))


class SqlSessionRepository(_Repository):
    table = sessions

    def _values(self, session: Session) -> dict[str, Any]:
        return {**fields(session), "search_name": session.search_name()}

    async def add(self, session: Session) -> None:
        await self._add(session)

    async def get(self, session_id: str, *, for_update: bool = False) -> Session | None:
        row = await self._one(session_id, for_update=for_update)
        return None if row is None else session_of(row)

    async def update(self, session: Session) -> None:
        await self._replace(session)

    async def delete(self, session_ids: Collection[str]) -> None:
        await self._db.run(*delete_in(sessions.c.id, session_ids))

    async def bury(self, tombstone: Tombstone) -> None:
        values = {"id": tombstone.session_id, "user_id": tombstone.user_id, "deleted_time": tombstone.deleted_time}
        await self._db.run(_BURY, values)

    async def buried(self, session_id: str) -> bool:
        return await self._db.first(_BURIED, {"key": session_id}) is not None

    async def delete_for_user(self, user_id: str) -> int:
        await self._db.run(_TOMBSTONES_OF_USER, {"user": user_id})
        return await self._db.run(_SESSIONS_OF_USER, {"user": user_id})

    async def stale(self, before: int, limit: int) -> list[str]:
        return [row.id for row in await self._db.rows(_STALE, {"before": before, "limit": limit})]

    async def count_stale(self, before: int) -> int:
        return int(await self._db.scalar(_COUNT_STALE, {"before": before}) or 0)

    async def unbury(self, before: int, limit: int) -> int:
        keys = [row.id for row in await self._db.rows(_OLD_TOMBSTONES, {"before": before, "limit": limit})]
        if keys:
            await self._db.run(*delete_in(deleted_sessions.c.id, keys))
        return len(keys)

    async def count_buried(self, before: int) -> int:
        return int(await self._db.scalar(_COUNT_BURIED, {"before": before}) or 0)

    def _where(self, where: SessionFilter) -> list[ColumnElement[bool]]:
        conditions = [sessions.c.user_id == where.user_id]
        if where.agent_id is not None:
            conditions.append(sessions.c.agent_id == where.agent_id)
        if where.project_id is not None:
            conditions.append(sessions.c.project_id == where.project_id)
        if where.source is not None:
            conditions.append(sessions.c.source == where.source.value)
        if where.text is not None:  # folded, as the search column is (domain.search): compared exactly
            conditions.append(sessions.c.search_name.contains(where.text, autoescape=True))
        return conditions

    async def find(
        self, where: SessionFilter, *, limit: int, offset: int = 0, after: SortKey | None = None
    ) -> list[Session]:
        if _unfiltered(where):  # the side bar's list: the hot path
            params: dict[str, Any] = {"user": where.user_id, "limit": limit, "offset": offset}
            if after is not None:
                params |= {"after_time": after.time, "after_id": after.id}
            return [session_of(row) for row in await self._db.rows(_USER_SESSIONS[after is not None], params)]
        rows = await self._page(
            self._where(where), "updated_time", descending=True, limit=limit, offset=offset, after=after
        )
        return [session_of(row) for row in rows]

    async def count(self, where: SessionFilter) -> int:
        if _unfiltered(where):
            return int(await self._db.scalar(_USER_SESSION_COUNT, {"user": where.user_id}) or 0)
        return await self._count(self._where(where))

    async def find_counted(self, where: SessionFilter, *, limit: int, offset: int = 0) -> tuple[list[Session], int]:
        if not _unfiltered(where):
            return await self.find(where, limit=limit, offset=offset), await self.count(where)
        params = {"user": where.user_id, "limit": limit, "offset": offset}
        rows, total = await self._db.page_with_total(_USER_SESSIONS[False], _USER_SESSION_COUNT, params)
        return [session_of(row) for row in rows], total


def _unfiltered(where: SessionFilter) -> bool:
    return where.agent_id is None and where.project_id is None and where.source is None and where.text is None


def _user_sessions(after: bool) -> Query:
    conditions = [sessions.c.user_id == bindparam("user")]
    if after:
        key = SortKey(bindparam("after_time"), bindparam("after_id"))  # type: ignore[arg-type]
        conditions.append(after_key(sessions.c.updated_time, sessions.c.id, key, descending=True))
    statement = (
        select(*entity_columns(sessions))
        .where(*conditions)
        .order_by(*ordered(sessions.c.updated_time, sessions.c.id, descending=True))
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    return Query(statement)


_USER_SESSIONS = {after: _user_sessions(after) for after in (False, True)}
_USER_SESSION_COUNT = Query(select(func.count()).select_from(sessions).where(sessions.c.user_id == bindparam("user")))
_BURY = insert_row(deleted_sessions)
_SESSIONS_OF_USER = _of_user(sessions)
_TOMBSTONES_OF_USER = _of_user(deleted_sessions)
_BURIED = Query(select(deleted_sessions.c.id).where(deleted_sessions.c.id == bindparam("key")))
# The retention purge: oldest first through ix_sessions_updated; a session another request holds
# (a save under way) is skipped this round rather than waited for.
_STALE = Query(
    select(sessions.c.id)
    .where(sessions.c.updated_time < bindparam("before"))
    .order_by(sessions.c.updated_time)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)
_COUNT_STALE = Query(select(func.count()).select_from(sessions).where(sessions.c.updated_time < bindparam("before")))
_OLD_TOMBSTONES = Query(
    select(deleted_sessions.c.id)
    .where(deleted_sessions.c.deleted_time < bindparam("before"))
    .order_by(deleted_sessions.c.deleted_time)
    .limit(bindparam("limit", type_=Integer))
)
_COUNT_BURIED = Query(
    select(func.count()).select_from(deleted_sessions).where(deleted_sessions.c.deleted_time < bindparam("before"))
)


class SqlChatTaskRepository(_Repository):
    table = chat_tasks

    def _values(self, task: ChatTask) -> dict[str, Any]:
        return {**fields(task), "search_message": task.search_message(), "search_bubbles": task.search_bubbles()}

    async def add(self, task: ChatTask) -> None:
        await self._add(task)

    async def get(self, task_id: str) -> ChatTask | None:
        row = await self._one(task_id)
        return None if row is None else task_of(row)

    async def update(self, task: ChatTask) -> None:
        await self._replace(task)

    async def delete_for_sessions(self, session_ids: Collection[str]) -> None:
        await self._db.run(*delete_in(chat_tasks.c.session_id, session_ids))

    async def delete_for_user(self, user_id: str) -> int:
        return await self._db.run(_TASKS_OF_USER, {"user": user_id})

    async def list_for_owner(
        self, user_id: str, session_id: str, *, limit: int | None = None, after: SortKey | None = None
    ) -> list[ChatTask] | None:
        params: dict[str, Any] = {"sid": session_id, "limit": limit}
        if after is not None:
            params |= {"after_time": after.time, "after_id": after.id}
        rows = await self._db.rows(_HISTORY[limit is not None, after is not None], params)
        if not rows or rows[0].owner != user_id:
            return None
        return [task_of(row) for row in rows if row.id is not None]

    async def sizes(
        self, user_id: str, session_id: str, *, limit: int, after: SortKey | None = None
    ) -> list[int] | None:
        params: dict[str, Any] = {"sid": session_id, "limit": limit}
        if after is not None:
            params |= {"after_time": after.time, "after_id": after.id}
        rows = await self._db.rows(_SIZES[after is not None], params)
        if not rows or rows[0].owner != user_id:
            return None
        return [row.size for row in rows if row.id is not None]

    async def next_batch(
        self, user_id: str, session_id: str, batches: Batches, after: SortKey | None = None
    ) -> tuple[list[ChatTask], bool] | None:
        """The next batch of a whole read as `batches` cuts it, and whether more follow, in one
        round trip (the store's `history_batch_at_once`); None when the session is not the user's."""
        params: dict[str, Any] = {
            "sid": session_id,
            "ahead": batches.most + 1,
            "most": batches.most,
            "budget": batches.budget,
        }
        if after is not None:
            params |= {"after_time": after.time, "after_id": after.id}
        rows = await self._db.rows(_BATCH[after is not None], params)
        if not rows or rows[0].owner != user_id:
            return None
        tasks = [task_of(row) for row in rows if row.id is not None]
        return tasks, sum(row.n is not None for row in rows) > len(tasks)


# What a task holds, as ChatTask.size counts it, read without reading the task.
_TASK_SIZE = (
    func.length(chat_tasks.c.message_bubbles)
    + func.coalesce(func.length(chat_tasks.c.user_message), 0)
    + func.coalesce(func.length(chat_tasks.c.task_metadata), 0)
).label("size")


def _after(after: bool) -> list[ColumnElement[bool]]:
    conditions = [chat_tasks.c.session_id == bindparam("sid")]
    if after:
        key = SortKey(bindparam("after_time"), bindparam("after_id"))  # type: ignore[arg-type]
        conditions.append(after_key(chat_tasks.c.created_time, chat_tasks.c.id, key, descending=False))
    return conditions


def _history(paged: bool, after: bool, *, sizes: bool = False) -> Query:
    """The session's owner and its page of history in one round trip: the page is taken from the
    tasks alone (an index range scan of the page, however long the session), then joined to the
    session's row. Ordering after the join instead would sort every task of the session. With
    `sizes`, each task's size in place of the task."""
    conditions = _after(after)
    order = ordered(chat_tasks.c.created_time, chat_tasks.c.id, descending=False)
    columns = (chat_tasks.c.id, chat_tasks.c.created_time, _TASK_SIZE) if sizes else entity_columns(chat_tasks)
    tasks = select(*columns).where(*conditions).order_by(*order)
    page = (tasks.limit(bindparam("limit", type_=Integer)) if paged else tasks).subquery("page")
    statement = (
        select(sessions.c.user_id.label("owner"), *page.c)
        .select_from(sessions.outerjoin(page, true()))
        .where(sessions.c.id == bindparam("sid"))
        .order_by(*ordered(page.c.created_time, page.c.id, descending=False))
    )
    return Query(statement)


def _batch(after: bool) -> Query:
    """domain.paging.Batches' next batch in one statement, held to that rule by the contract suite:
    the sizes of the next `most + 1` tasks (an index range, as the history page), their running
    total, and each task joined only where it belongs to the batch (the first always, then while the
    total keeps within the budget, at most `most`). A row ahead left without its task says that more
    follow. The session's row comes first, so a session that is not the caller's reads as such."""
    order = ordered(chat_tasks.c.created_time, chat_tasks.c.id, descending=False)
    ahead = (
        select(chat_tasks.c.id, chat_tasks.c.created_time, _TASK_SIZE)
        .where(*_after(after))
        .order_by(*order)
        .limit(bindparam("ahead", type_=Integer))
        .subquery("ahead")
    )
    in_order = ordered(ahead.c.created_time, ahead.c.id, descending=False)
    ranked = select(
        ahead.c.id,
        func.row_number().over(order_by=in_order).label("n"),
        func.sum(ahead.c.size).over(order_by=in_order).label("upto"),
    ).subquery("ranked")
    task = chat_tasks.alias("task")
    belongs = and_(
        task.c.id == ranked.c.id,
        ranked.c.n <= bindparam("most", type_=Integer),
        or_(ranked.c.n == 1, ranked.c.upto <= bindparam("budget", type_=Integer)),
    )
    statement = (
        select(sessions.c.user_id.label("owner"), ranked.c.n, *entity_columns(task))
        .select_from(sessions.outerjoin(ranked, true()).outerjoin(task, belongs))
        .where(sessions.c.id == bindparam("sid"))
        .order_by(ranked.c.n)
    )
    return Query(statement)


_HISTORY = {(paged, after): _history(paged, after) for paged in (False, True) for after in (False, True)}
_SIZES = {after: _history(True, after, sizes=True) for after in (False, True)}
_BATCH = {after: _batch(after) for after in (False, True)}
_TASKS_OF_USER = _of_user(chat_tasks)


class SqlFeedbackRepository(_Repository):
    table = feedback

    def _values(self, item: Feedback) -> dict[str, Any]:
        return {**fields(item), "rating": item.rating.value}

    async def get(self, feedback_id: str) -> Feedback | None:
        row = await self._one(feedback_id)
        return None if row is None else feedback_of(row)

    async def add(self, item: Feedback) -> None:
        await self._add(item)

    def _where(self, where: FeedbackFilter) -> list[ColumnElement[bool]]:
        conditions = [feedback.c.user_id == where.user_id]
        if where.session_id is not None:
            conditions.append(feedback.c.session_id == where.session_id)
        if where.task_id is not None:
            conditions.append(feedback.c.task_id == where.task_id)
        if where.rating is not None:
            conditions.append(feedback.c.rating == where.rating.value)
        if where.since is not None:
            conditions.append(feedback.c.created_time >= where.since)
        if where.until is not None:
            conditions.append(feedback.c.created_time <= where.until)
        return conditions

    async def find(
        self, where: FeedbackFilter, *, limit: int, offset: int = 0, after: SortKey | None = None
    ) -> list[Feedback]:
        rows = await self._page(
            self._where(where), "created_time", descending=True, limit=limit, offset=offset, after=after
        )
        return [feedback_of(row) for row in rows]

    async def count(self, where: FeedbackFilter) -> int:
        return await self._count(self._where(where))

    async def delete_for_sessions(self, session_ids: Collection[str]) -> None:
        await self._db.run(*delete_in(feedback.c.session_id, session_ids))

    async def delete_for_user(self, user_id: str) -> int:
        return await self._db.run(_FEEDBACK_OF_USER, {"user": user_id})


_FEEDBACK_OF_USER = _of_user(feedback)
