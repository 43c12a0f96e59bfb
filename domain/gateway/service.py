"""The gateway's use cases. Each public method is one transaction and checks the caller owns what it touches."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace

from domain.checks import check_id, epoch_ms
from domain.errors import Conflict, InvalidInput, NotFound, Unprocessable
from domain.gateway.model import (
    ChatTask,
    Feedback,
    FeedbackType,
    MessageHit,
    Session,
    SessionSource,
    Tombstone,
    names_no_session,
    new_session_id,
    parse_bubbles,
    parse_metadata,
    session_name,
)
from domain.paging import (
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    Batches,
    Page,
    PageRequest,
    SortKey,
    decode_offset,
    encode_offset,
    page_of,
)
from domain.ports import FeedbackFilter, GatewayRepositories, GatewayStore, GatewayUnitOfWork, SessionFilter
from domain.retention import PURGE_BATCH, TOMBSTONE_DAYS, Purged, cutoff
from domain.search import MAX_TERMS, needle, snippet, words

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
ADDED, KEPT = "added", "kept"
Importable = Session | ChatTask | Feedback


def check_importable(record: Importable) -> None:
    """What an imported record must be before any store sees it; InvalidInput naming the field if not."""
    if isinstance(record, Session):
        check_id("id", record.id)
        if record.name is not None:
            session_name(record.name)
    elif isinstance(record, ChatTask):
        check_id("sessionId", record.session_id)
        check_id("taskId", record.id)
        parse_bubbles(record.message_bubbles)
        parse_metadata(record.task_metadata)
    else:
        check_id("id", record.id)
        check_id("sessionId", record.session_id)
        check_id("taskId", record.task_id)


async def _import(uow: GatewayUnitOfWork, user_id: str, record: Importable) -> str:
    """One record as the caller's: "added", "kept" (already there: twice changes nothing), or why it
    is refused (an id another user holds is never overwritten)."""
    if isinstance(record, Session):
        stored = await uow.sessions.get(record.id)
        if stored is not None:
            return KEPT if stored.user_id == user_id else "the session id is another user's"
        if await uow.sessions.buried(record.id):
            return "a session of this id was deleted"
        await uow.sessions.add(replace(record, user_id=user_id))
    elif isinstance(record, ChatTask):
        session = await uow.sessions.get(record.session_id, for_update=True)
        if session is None or session.user_id != user_id:
            return "no session of this id is yours (import its session first)"
        held = await uow.tasks.get(record.id)
        if held is not None:
            mine = held.user_id == user_id and held.session_id == record.session_id
            return KEPT if mine else "the task id is another user's or another session's"
        await uow.tasks.add(replace(record, user_id=user_id))
    else:
        feedback = await uow.feedback.get(record.id)
        if feedback is not None:
            return KEPT if feedback.user_id == user_id else "the feedback id is another user's"
        await uow.feedback.add(replace(record, user_id=user_id))
    return ADDED


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
        project_name: str | None = None,
        source: SessionSource = SessionSource.CHAT,
        has_running_background_task: bool = False,
        scheduled_task_id: str | None = None,
        scheduled_task_name: str | None = None,
    ) -> Session:
        session_id = check_id("id", session_id) if session_id is not None else new_session_id()
        now = self._clock()
        session = Session(
            session_id,
            user_id,
            session_name(name) if name is not None else None,
            agent_id,
            project_id,
            now,
            now,
            project_name=project_name,
            source=source,
            has_running_background_task=has_running_background_task,
            scheduled_task_id=scheduled_task_id,
            scheduled_task_name=scheduled_task_name,
        )
        async with self._store.unit_of_work() as uow:
            if await uow.sessions.get(session_id) is not None:
                raise Conflict(f"a session with id {session_id!r} already exists")
            if await uow.sessions.buried(session_id):
                raise Conflict(f"a session with id {session_id!r} was deleted: its id is not given out again")
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
        source: SessionSource | None = None,
    ) -> Page[Session]:
        return await self._session_page(SessionFilter(user_id, agent_id, project_id, source), page)

    async def search_sessions(
        self,
        user_id: str,
        query: str,
        page: PageRequest,
        *,
        agent_id: str | None = None,
        project_id: str | None = None,
    ) -> Page[Session]:
        """The caller's sessions whose name holds `query`, case-insensitively (domain.search)."""
        if not query.strip():
            raise InvalidInput("query", "must not be empty")
        if len(query) > MAX_SEARCH_LENGTH:
            raise InvalidInput("query", f"must be at most {MAX_SEARCH_LENGTH} characters")
        return await self._session_page(SessionFilter(user_id, agent_id, project_id, text=needle(query)), page)

    async def _session_page(self, where: SessionFilter, page: PageRequest) -> Page[Session]:
        async with self._store.unit_of_work(read_only=True) as uow:
            total: int | None = None
            if page.after is None:
                rows, total = await uow.sessions.find_counted(where, limit=page.size + 1, offset=page.offset)
            else:
                rows = await uow.sessions.find(where, limit=page.size + 1, after=page.after)
        return page_of(rows, page, total, lambda s: s.sort_key)

    async def rename_session(self, user_id: str, session_id: str, name: str) -> Session:
        name = session_name(name)
        return await self._change(user_id, session_id, lambda s: replace(s, name=name), moves_activity=True)

    async def mark_viewed(self, user_id: str, session_id: str) -> Session:
        """The user opened the session: it is no longer unseen (its activity time stays as it was)."""
        now = self._clock()
        return await self._change(user_id, session_id, lambda s: replace(s, last_viewed_at=now))

    async def move_to_project(
        self, user_id: str, session_id: str, project_id: str | None, project_name: str | None = None
    ) -> Session:
        """Into a project, or out of any (None)."""
        if project_id is not None:
            check_id("projectId", project_id)
        name = project_name if project_id is not None else None
        return await self._change(user_id, session_id, lambda s: replace(s, project_id=project_id, project_name=name))

    async def _change(
        self, user_id: str, session_id: str, change: Callable[[Session], Session], *, moves_activity: bool = False
    ) -> Session:
        async with self._store.unit_of_work() as uow:
            session = change(await _owned_session(uow, user_id, session_id, for_update=True))
            if moves_activity:
                session = replace(session, updated_time=max(self._clock(), session.updated_time))
            await uow.sessions.update(session)
            await uow.commit()
        return session

    async def delete_session(self, user_id: str, session_id: str) -> None:
        """Delete a session with its tasks and feedback, all in one transaction; its tombstone keeps
        a late save from bringing it back."""
        async with self._store.unit_of_work() as uow:
            await _owned_session(uow, user_id, session_id, for_update=True)
            await uow.feedback.delete_for_sessions([session_id])
            await uow.tasks.delete_for_sessions([session_id])
            await uow.sessions.delete([session_id])
            await uow.sessions.bury(Tombstone(session_id, user_id, self._clock()))
            await uow.commit()

    async def purge(
        self,
        keep_days: int | None,
        tombstone_days: int = TOMBSTONE_DAYS,
        *,
        dry_run: bool = False,
        batch: int = PURGE_BATCH,
    ) -> Purged:
        """Delete the sessions not updated for more than `keep_days` (None: keep them) with their tasks
        and feedback, and forget the tombstones older than `tombstone_days`, `batch` at a time, each
        batch its own transaction. `dry_run`: only count them."""
        now = self._clock()
        stale = None if keep_days is None else cutoff(now, keep_days)
        buried = cutoff(now, tombstone_days)
        if dry_run:
            async with self._store.unit_of_work(read_only=True) as uow:
                sessions = 0 if stale is None else await uow.sessions.count_stale(stale)
                return Purged(sessions, await uow.sessions.count_buried(buried))
        sessions = tombstones = 0
        while stale is not None:
            async with self._store.unit_of_work() as uow:
                ids = await uow.sessions.stale(stale, batch)
                if not ids:
                    break
                await uow.feedback.delete_for_sessions(ids)
                await uow.tasks.delete_for_sessions(ids)
                await uow.sessions.delete(ids)
                await uow.commit()
            sessions += len(ids)
            if len(ids) < batch:
                break
        while True:
            async with self._store.unit_of_work() as uow:
                forgotten = await uow.sessions.unbury(buried, batch)
                await uow.commit()
            tombstones += forgotten
            if forgotten < batch:
                return Purged(sessions, tombstones)

    async def erase_user(self, user_id: str) -> dict[str, int]:
        """Everything of the user's here, gone in one transaction (their sessions with their tasks
        and feedback, and their feedback on anything): how many of each there were. Again: zeros."""
        async with self._store.unit_of_work() as uow:
            removed = {
                "feedback": await uow.feedback.delete_for_user(user_id),
                "chatTasks": await uow.tasks.delete_for_user(user_id),
                "sessions": await uow.sessions.delete_for_user(user_id),
            }
            await uow.commit()
        return removed

    # Import (the caller's own export, or another store's): every record lands as the caller's, keeps
    # its id and times, and is "added", "kept" (already there: importing twice changes nothing) or
    # refused with a reason (an id another user holds is never overwritten).

    async def import_records(self, user_id: str, records: Sequence[Importable]) -> list[str]:
        """Records of an export, in one transaction, in their order (a session before its tasks):
        each one's outcome. Every record is checked first: one that is invalid raises and none is
        written (check_importable, to find which)."""
        for record in records:
            check_importable(record)
        async with self._store.unit_of_work() as uow:
            outcomes = [await _import(uow, user_id, record) for record in records]
            await uow.commit()
        return outcomes

    # Chat tasks -------------------------------------------------------------------------------

    async def save_task(self, user_id: str, session_id: str, data: TaskInput, *, may_create: bool = False) -> SavedTask:
        """Create or update a task, keyed by its id, in a session of the caller's.

        A missing session is created only when `may_create` (the caller's signed cookie names it:
        a chat kept in the browser since ephemeral mode) and it was never deleted; otherwise the
        save is refused (422, the gateway's answer), so a late save cannot bring a deleted chat
        back. A task id that belongs to another user or another session is refused: the incumbent
        overwrote it, letting anyone who guessed an id rewrite someone else's history.
        """
        if names_no_session(session_id):
            raise NotFound("session", session_id)
        check_id("sessionId", session_id)
        task_id = data.task_id.strip()
        if not task_id:
            raise InvalidInput("taskId", "must not be blank")
        check_id("taskId", task_id)
        parse_bubbles(data.message_bubbles)
        metadata = data.task_metadata or None  # the UI's "" is no metadata
        parse_metadata(metadata)
        now = self._clock()
        draft = ChatTask(task_id, session_id, user_id, data.user_message, data.message_bubbles, metadata, now, now)
        at_once = self._store.save_task_at_once
        if at_once is not None:
            saved = await at_once(user_id, draft, may_create)
        else:
            saved = await self._store.run(lambda repositories: save_task_in(repositories, user_id, draft, may_create))
        if saved is not None:
            return SavedTask(*saved)
        async with self._store.unit_of_work(read_only=True) as uow:  # refused: say why
            session = await uow.sessions.get(session_id)
            creatable = session is None and may_create and not await uow.sessions.buried(session_id)
        if not creatable and (session is None or session.user_id != user_id):
            raise Unprocessable(
                "sessionId", f"no session {_shown(session_id)} of yours: create it before saving into it"
            )
        raise Conflict(f"taskId {_shown(task_id)} is already used by another session")

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
        before anything is sent. A store may read each batch with its sizes in one statement."""
        after: SortKey | None = None
        at_once = self._store.history_batch_at_once
        while at_once is not None:
            read = await at_once(user_id, session_id, batches, after)
            if read is None:
                if after is None:
                    raise NotFound("session", session_id)
                return
            batch, more = read
            if batch:
                yield batch
            if not batch or not more:
                return
            after = batch[-1].sort_key
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

    # Message search ---------------------------------------------------------------------------

    async def search_messages(
        self, user_id: str, query: str, *, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[MessageHit], str | None]:
        """The caller's chat tasks holding every word of `query` in what was written or answered,
        most relevant first, then newest; and the cursor of the next page, if any."""
        if len(query) > MAX_SEARCH_LENGTH:
            raise InvalidInput("query", f"must be at most {MAX_SEARCH_LENGTH} characters")
        terms = list(dict.fromkeys(words(query)))
        if not terms:
            raise InvalidInput("query", "must hold a word (letters or digits)")
        if len(terms) > MAX_TERMS:
            raise InvalidInput("query", f"must hold at most {MAX_TERMS} words")
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
        offset = decode_offset(cursor) if cursor else 0
        found = await self._store.search_tasks(user_id, terms, limit=limit + 1, offset=offset)
        hits = [
            MessageHit(
                f.task.session_id,
                f.session_name,
                f.task.id,
                snippet(f.task.visible_texts(), terms),
                f.task.created_time,
            )
            for f in found[:limit]
        ]
        more = len(found) > limit and offset + limit < MAX_OFFSET
        return hits, encode_offset(offset + limit) if more else None

    # Feedback ---------------------------------------------------------------------------------

    async def record_feedback(
        self, user_id: str, *, session_id: str, task_id: str, rating: FeedbackType, comment: str | None
    ) -> Feedback:
        """Keep the feedback; on a task of the caller's, merge it into the task's metadata too, as the
        UI reads it from there after a reload. Feedback on a task the store does not hold (or not the
        caller's) is kept all the same, as the gateway does, and says nothing of what is stored."""
        check_id("sessionId", session_id)
        check_id("taskId", task_id)
        now = self._clock()
        feedback = Feedback(uuid.uuid4().hex, session_id, task_id, user_id, rating, comment, now)
        async with self._store.unit_of_work() as uow:
            session = await uow.sessions.get(session_id, for_update=True)
            task = await uow.tasks.get(task_id) if session is not None and session.user_id == user_id else None
            await uow.feedback.add(feedback)
            if task is not None and task.session_id == session_id and task.user_id == user_id:
                metadata = task.metadata()
                metadata["feedback"] = {"type": rating.value, "text": comment, "submitted": True}
                await uow.tasks.update(replace(task, task_metadata=json.dumps(metadata), updated_time=now))
            await uow.commit()
        return feedback

    async def list_feedback(self, where: FeedbackFilter, page: PageRequest) -> list[Feedback]:
        """The caller's feedback, newest first; asked for one task's, the task must be the caller's."""
        async with self._store.unit_of_work(read_only=True) as uow:
            if where.task_id is not None:
                task = await uow.tasks.get(where.task_id)
                if task is None or task.user_id != where.user_id:
                    raise NotFound("task", where.task_id)
            return await uow.feedback.find(where, limit=page.size, offset=page.offset)


async def save_task_in(
    repositories: GatewayRepositories, user_id: str, task: ChatTask, may_create: bool
) -> tuple[ChatTask, bool] | None:
    """The rule of saving a chat task, in one transaction: create or update `task`, creating its
    session for `user_id` when missing if `may_create` and it was never deleted, and moving the
    session's activity on (ChatTask.resaved says what a re-save keeps). Returns (the stored task,
    created?); None, having written nothing, when the session is someone else's, missing (and may
    not be created), or the task id is another user's or another session's."""
    now = task.updated_time
    session = await repositories.sessions.get(task.session_id, for_update=True)
    if session is not None and session.user_id != user_id:
        return None
    if session is None and (not may_create or await repositories.sessions.buried(task.session_id)):
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


def _shown(ident: str) -> str:
    """Enough of an id to recognise it in an answer."""
    return repr(ident if len(ident) <= 64 else f"{ident[:64]}...")


async def _owned_session(uow: GatewayUnitOfWork, user_id: str, session_id: str, *, for_update: bool = False) -> Session:
    if names_no_session(session_id):
        raise NotFound("session", session_id)
    session = await uow.sessions.get(session_id, for_update=for_update)
    if session is None or session.user_id != user_id:
        raise NotFound("session", session_id)
    return session
