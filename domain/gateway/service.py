"""The gateway's use cases. Each public method is one transaction and checks the caller owns what it touches."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

from domain.checks import check_id, check_name, epoch_ms
from domain.errors import Conflict, InvalidInput, NotFound
from domain.gateway.model import (
    ChatTask,
    Feedback,
    FeedbackType,
    Session,
    new_session_id,
    parse_bubbles,
    parse_metadata,
)
from domain.paging import Batches, Page, PageRequest, SortKey, page_of
from domain.ports import FeedbackFilter, GatewayRepositories, GatewayStore, GatewayUnitOfWork, SessionFilter
from domain.search import needle

MAX_SEARCH_LENGTH = 255


@dataclass(frozen=True, slots=True)
class TaskInput:
    """What a client sends to save a chat task."""

    task_id: str
    message_bubbles: str
    user_message: str | None = None
    task_metadata: str | None = None


@dataclass(frozen=True, slots=True)
class SavedTask:
    task: ChatTask
    created: bool


WHOLE_READ = Batches()


class GatewayService:
    def __init__(self, store: GatewayStore, clock: Callable[[], int] = epoch_ms) -> None:
        self._store = store
        self._clock = clock

    # Sessions ---------------------------------------------------------------------------------

    async def create_session(
        self,
        user_id: str,
        *,
        session_id: str | None = None,
        name: str | None = None,
        agent_id: str | None = None,
        project_id: str | None = None,
    ) -> Session:
        session_id = check_id("id", session_id) if session_id is not None else new_session_id()
        if name is not None:
            check_name("name", name)
        now = self._clock()
        session = Session(session_id, user_id, name, agent_id, project_id, now, now)
        async with self._store.unit_of_work() as uow:
            if await uow.sessions.get(session_id) is not None:
                raise Conflict(f"a session with id {session_id!r} already exists")
            await uow.sessions.add(session)
            await uow.commit()
        return session

    async def get_session(self, user_id: str, session_id: str) -> Session:
        async with self._store.unit_of_work(read_only=True) as uow:
            return await _owned_session(uow, user_id, session_id)

    async def list_sessions(
        self,
        user_id: str,
        page: PageRequest,
        *,
        agent_id: str | None = None,
        project_id: str | None = None,
    ) -> Page[Session]:
        return await self._session_page(SessionFilter(user_id, agent_id, project_id), page)

    async def search_sessions(self, user_id: str, query: str, page: PageRequest) -> Page[Session]:
        if not query.strip():
            raise InvalidInput("query", "must not be empty")
        if len(query) > MAX_SEARCH_LENGTH:
            raise InvalidInput("query", f"must be at most {MAX_SEARCH_LENGTH} characters")
        return await self._session_page(SessionFilter(user_id, text=needle(query)), page)

    async def _session_page(self, where: SessionFilter, page: PageRequest) -> Page[Session]:
        async with self._store.unit_of_work(read_only=True) as uow:
            total: int | None = None
            if page.after is None:
                rows, total = await uow.sessions.find_counted(where, limit=page.size + 1, offset=page.offset)
            else:
                rows = await uow.sessions.find(where, limit=page.size + 1, after=page.after)
        return page_of(rows, page, total, lambda s: s.sort_key)

    async def rename_session(self, user_id: str, session_id: str, name: str) -> Session:
        check_name("name", name)
        async with self._store.unit_of_work() as uow:
            session = await _owned_session(uow, user_id, session_id, for_update=True)
            session = replace(session, name=name, updated_time=max(self._clock(), session.updated_time))
            await uow.sessions.update(session)
            await uow.commit()
        return session

    async def delete_session(self, user_id: str, session_id: str) -> None:
        """Delete a session with its tasks and feedback, all in one transaction."""
        async with self._store.unit_of_work() as uow:
            await _owned_session(uow, user_id, session_id, for_update=True)
            await uow.feedback.delete_for_session(session_id)
            await uow.tasks.delete_for_session(session_id)
            await uow.sessions.delete(session_id)
            await uow.commit()

    # Chat tasks -------------------------------------------------------------------------------

    async def save_task(self, user_id: str, session_id: str, data: TaskInput) -> SavedTask:
        """Create or update a task, keyed by its id; a session the caller names but lacks is created.

        A task id that belongs to another user or another session is refused: the incumbent
        overwrote it, letting anyone who guessed an id rewrite someone else's history.
        """
        check_id("sessionId", session_id)
        check_id("taskId", data.task_id)
        parse_bubbles(data.message_bubbles)
        parse_metadata(data.task_metadata)
        now = self._clock()
        draft = ChatTask(
            data.task_id, session_id, user_id, data.user_message, data.message_bubbles, data.task_metadata, now, now
        )
        at_once = self._store.save_task_at_once
        if at_once is not None:
            saved = await at_once(user_id, draft)
        else:
            saved = await self._store.run(lambda repositories: save_task_in(repositories, user_id, draft))
        if saved is not None:
            return SavedTask(*saved)
        async with self._store.unit_of_work(read_only=True) as uow:  # refused: say why
            session = await uow.sessions.get(session_id)
            if session is not None and session.user_id != user_id:
                raise NotFound("session", session_id)
        raise Conflict(f"taskId {data.task_id!r} is already used by another session")

    async def list_tasks(self, user_id: str, session_id: str, page: PageRequest | None = None) -> Page[ChatTask]:
        """The chat history, oldest first: whole when `page` is None (as the incumbent), else one page."""
        async with self._store.unit_of_work(read_only=True) as uow:
            if page is None:
                rows = await uow.tasks.list_for_owner(user_id, session_id)
            else:
                rows = await uow.tasks.list_for_owner(user_id, session_id, limit=page.size + 1, after=page.after)
        if rows is None:
            raise NotFound("session", session_id)
        if page is None:
            return Page(rows, PageRequest(size=max(1, min(len(rows), 100))), total=None, next_cursor=None)
        return page_of(rows, page, None, lambda t: t.sort_key)

    async def whole_history(
        self, user_id: str, session_id: str, batches: Batches = WHOLE_READ
    ) -> AsyncIterator[list[ChatTask]]:
        """The whole history, oldest first, in batches (domain.paging.Batches) each read in a short
        transaction of its own: a caller streams it with flat memory, and no other request waits
        behind it. The first sizes are read on the first step, so a missing session is NotFound
        before anything is sent."""
        after: SortKey | None = None
        while True:
            async with self._store.unit_of_work(read_only=True) as uow:
                sizes = await uow.tasks.sizes(user_id, session_id, limit=batches.ahead, after=after)
            if sizes is None:
                if after is None:
                    raise NotFound("session", session_id)
                return  # deleted while it was being read: what was sent stands
            for count in batches.counts(sizes):
                async with self._store.unit_of_work(read_only=True) as uow:
                    rows = await uow.tasks.list_for_owner(user_id, session_id, limit=count, after=after)
                if not rows:
                    return
                yield rows
                after = rows[-1].sort_key
            if len(sizes) < batches.ahead:
                return

    # Feedback ---------------------------------------------------------------------------------

    async def record_feedback(
        self, user_id: str, *, session_id: str, task_id: str, rating: FeedbackType, comment: str | None
    ) -> Feedback:
        """Store the feedback and merge it into the task's metadata, as the UI reads it from there."""
        now = self._clock()
        async with self._store.unit_of_work() as uow:
            await _owned_session(uow, user_id, session_id, for_update=True)
            task = await uow.tasks.get(task_id)
            if task is None or task.session_id != session_id or task.user_id != user_id:
                raise NotFound("task", task_id)
            feedback = Feedback(uuid.uuid4().hex, session_id, task_id, user_id, rating, comment, now)
            await uow.feedback.add(feedback)
            metadata = task.metadata()
            metadata["feedback"] = {"type": rating.value, "text": comment, "submitted": True}
            await uow.tasks.update(replace(task, task_metadata=json.dumps(metadata), updated_time=now))
            await uow.commit()
        return feedback

    async def list_feedback(self, where: FeedbackFilter, page: PageRequest) -> Page[Feedback]:
        async with self._store.unit_of_work(read_only=True) as uow:
            rows = await uow.feedback.find(where, limit=page.size + 1, offset=page.offset, after=page.after)
            total = await uow.feedback.count(where) if page.after is None else None
        return page_of(rows, page, total, lambda f: f.sort_key)


async def save_task_in(repositories: GatewayRepositories, user_id: str, task: ChatTask) -> tuple[ChatTask, bool] | None:
    """The rule of saving a chat task, in one transaction: create or update `task`, creating its
    session for `user_id` when missing and moving the session's activity on (ChatTask.resaved says
    what a re-save keeps). Returns (the stored task, created?); None, having written nothing, when
    the session is someone else's or the task id is another user's or another session's."""
    now = task.updated_time
    session = await repositories.sessions.get(task.session_id, for_update=True)
    if session is not None and session.user_id != user_id:
        return None
    existing = await repositories.tasks.get(task.id)
    if existing is not None and (existing.user_id != user_id or existing.session_id != task.session_id):
        return None
    if session is None:
        await repositories.sessions.add(Session(task.session_id, user_id, None, None, None, now, now))
    elif session.updated_time < now:
        await repositories.sessions.update(replace(session, updated_time=now))
    if existing is None:
        await repositories.tasks.add(task)
        return task, True
    task = existing.resaved(task)
    await repositories.tasks.update(task)
    return task, False


async def _owned_session(uow: GatewayUnitOfWork, user_id: str, session_id: str, *, for_update: bool = False) -> Session:
    session = await uow.sessions.get(session_id, for_update=for_update)
    if session is None or session.user_id != user_id:
        raise NotFound("session", session_id)
    return session
