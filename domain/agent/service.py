"""An agent's use cases: its sessions, their events and state, and runs. One service per agent."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

from domain.agent.model import (
    EVENT_FIELDS,
    AgentSession,
    Behavior,
    Event,
    EventRecord,
    Run,
    RunPolicy,
    SessionView,
    StateDelta,
    merged_state,
    without_temp,
)
from domain.checks import MAX_COUNT, MAX_WHOLE, check_id, check_whole, epoch_ms
from domain.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from domain.paging import Batches, Page, PageRequest, page_of
from domain.ports import AgentRepositories, AgentStore, AgentUnitOfWork
from domain.retention import PURGE_BATCH, Purged, cutoff

MAX_EVENTS_PAGE = 1000


@dataclass(frozen=True, slots=True)
class EventInput:
    """An event as a client sends it; `body` holds every field but the ones named here."""

    invocation_id: str
    author: str
    body: dict[str, Any]
    id: str | None = None
    timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class Appended:
    event: Event
    created: bool  # False: the event id was already stored, and this is that event
    version: int


DEFAULT_RUNS = RunPolicy()


WHOLE_READ = Batches(most=MAX_EVENTS_PAGE)


class AgentService:
    def __init__(
        self,
        name: str,
        store: AgentStore,
        default_behavior: Behavior,
        clock: Callable[[], int] = epoch_ms,
        runs: RunPolicy = DEFAULT_RUNS,
    ) -> None:
        self.name = name
        self.store = store
        self.default_behavior = default_behavior
        self.runs = runs
        self._clock = clock

    # Sessions ---------------------------------------------------------------------------------

    async def create_session(
        self, user_id: str, session_id: str | None = None, state: dict[str, Any] | None = None
    ) -> SessionView:
        delta, session_id = StateDelta.split(state), session_id or uuid.uuid4().hex
        # Run whole: its first write of shared state may race others' (see AgentStore.run).
        return await self.store.run(lambda repositories: self._create(repositories, user_id, session_id, delta))

    async def _create(self, uow: AgentRepositories, user_id: str, session_id: str, delta: StateDelta) -> SessionView:
        check_id("sessionId", session_id)
        if await uow.sessions.get(user_id, session_id) is not None:
            raise Conflict(f"session {session_id!r} already exists")
        now = self._clock()
        session = AgentSession(session_id, user_id, delta.session, 1, 0, now, now)
        await uow.sessions.add(session)
        await _merge_shared(uow, user_id, delta, now)
        return SessionView(session, await _state(uow, session), [])

    async def get_session(
        self,
        user_id: str,
        session_id: str,
        *,
        num_recent_events: int | None = None,
        after_timestamp: int | None = None,
    ) -> SessionView:
        if num_recent_events is not None:
            check_whole("numRecentEvents", num_recent_events, high=MAX_COUNT)
        if after_timestamp is not None:
            check_whole("afterTimestamp", after_timestamp, low=-MAX_WHOLE)
        async with self.store.unit_of_work(read_only=True) as uow:
            found = await uow.sessions.get_with_shared_state(user_id, session_id)
            if found is None:
                raise NotFound("session", session_id)
            session, app, user = found
            events: list[EventRecord] = []
            if num_recent_events != 0:
                events = await uow.events.recent(
                    user_id, session_id, limit=num_recent_events, after_timestamp=after_timestamp
                )
            return SessionView(session, merged_state(session.state, app, user), events)

    async def whole_session(
        self, user_id: str, session_id: str, *, after_timestamp: int | None = None, batches: Batches = WHOLE_READ
    ) -> tuple[SessionView, AsyncIterator[list[EventRecord]]]:
        """The session with its merged state (no events), and its events as of this read, oldest
        first, in batches each read in a short transaction of its own: a long history streams with
        the memory of one batch, and appenders never wait behind it."""
        view = await self.get_session(user_id, session_id, num_recent_events=0, after_timestamp=after_timestamp)
        last = view.session.last_sequence

        async def events() -> AsyncIterator[list[EventRecord]]:
            after = 0
            while after < last:
                async with self.store.unit_of_work(read_only=True) as uow:
                    ahead = await uow.events.sizes(user_id, session_id, after_sequence=after, limit=batches.ahead)
                ahead = [(sequence, size) for sequence, size in ahead if sequence <= last]
                for count in batches.counts(size for _, size in ahead):
                    async with self.store.unit_of_work(read_only=True) as uow:
                        page = await uow.events.page(user_id, session_id, after_sequence=after, limit=count)
                    page = [e for e in page if e.sequence <= last]
                    if not page:
                        return
                    kept = [e for e in page if after_timestamp is None or e.timestamp > after_timestamp]
                    if kept:
                        yield kept
                    after = page[-1].sequence
                if len(ahead) < batches.ahead:
                    return

        return view, events()

    async def list_sessions(self, user_id: str | None, page: PageRequest) -> Page[SessionView]:
        """The user's sessions of this agent (every user's when `user_id` is None: for an embedding
        agent, never over HTTP), newest first, without events."""
        async with self.store.unit_of_work(read_only=True) as uow:
            rows = await uow.sessions.find(user_id, limit=page.size + 1, after=page.after)
            app = await uow.states.app()
            users = {user: await uow.states.user(user) for user in dict.fromkeys(s.user_id for s in rows)}
        views = [SessionView(s, merged_state(s.state, app, users[s.user_id]), []) for s in rows]
        return page_of(views, page, None, lambda v: v.session.sort_key)

    async def erase_user(self, user_id: str) -> dict[str, int]:
        """Everything of the user's in this agent's store (sessions, events, `user:` state, runs),
        gone in one transaction: how many of each there were. Again: zeros."""
        async with self.store.unit_of_work() as uow:
            removed = {
                "events": await uow.events.delete_for_user(user_id),
                "sessions": await uow.sessions.delete_for_user(user_id),
                "userState": await uow.states.delete_for_user(user_id),
                "runs": await uow.runs.delete_for_user(user_id),
            }
            await uow.commit()
        return removed

    async def import_session(
        self,
        user_id: str,
        session_id: str,
        state: dict[str, Any],
        created_time: int | None = None,
        last_update_time: int | None = None,
    ) -> str:
        """A session of an export (its own scope of state, its times), "added", or "kept" when it is
        there. Its events follow; each moves its last update forward as an append does."""
        check_id("sessionId", session_id)
        now = self._clock()
        created = check_whole("createdTime", now if created_time is None else created_time)
        updated = check_whole("lastUpdateTime", created if last_update_time is None else last_update_time)
        async with self.store.unit_of_work() as uow:
            if await uow.sessions.get(user_id, session_id) is not None:
                return "kept"
            await uow.sessions.add(AgentSession(session_id, user_id, without_temp(state), 1, 0, created, updated))
            await uow.commit()
        return "added"

    async def import_user_state(self, user_id: str, state: dict[str, Any]) -> str:
        async with self.store.unit_of_work() as uow:
            before = await uow.states.user(user_id)
            if all(before.get(key, object()) == value for key, value in state.items()):
                return "kept"
            await uow.states.merge_user(user_id, state, self._clock())
            await uow.commit()
        return "added"

    async def user_state(self, user_id: str) -> dict[str, Any]:
        """The user's own scope of this agent's state, keys without their `user:` prefix."""
        async with self.store.unit_of_work(read_only=True) as uow:
            return await uow.states.user(user_id)

    async def delete_session(self, user_id: str, session_id: str) -> None:
        async with self.store.unit_of_work() as uow:
            await _owned(uow, user_id, session_id, for_update=True)
            await uow.sessions.delete(user_id, session_id)
            await uow.commit()

    # Events -----------------------------------------------------------------------------------

    async def append_event(
        self, user_id: str, session_id: str, data: EventInput, *, expected_version: int | None = None
    ) -> Appended:
        """Store an event and apply its state delta, atomically.

        Appends to one session take turns on the database's row lock, so appenders in any number
        of processes get sequences 1..N with no gap and no duplicate. A re-sent event (same id) is
        stored once and answered with the stored copy, whatever the version is by then.
        """
        check_id("sessionId", session_id)
        if data.id is not None:
            check_id("id", data.id)
        if data.timestamp is not None:
            check_whole("timestamp", data.timestamp)
        body = _stored_body(data.body)
        now = self._clock()
        event = Event(
            id=data.id or uuid.uuid4().hex,
            sequence=0,
            invocation_id=data.invocation_id,
            author=data.author,
            timestamp=data.timestamp if data.timestamp is not None else now,
            body=body,
        )
        delta = StateDelta.split(_state_delta(body))
        now = event.timestamp  # the session's last update is its last event's time, as ADK keeps it
        at_once = self.store.append_at_once
        if at_once is not None:
            session = await at_once(self.name, user_id, session_id, event, delta, now, expected_version)
        else:
            session = await self.store.run(
                lambda repositories: append_in(repositories, user_id, session_id, event, delta, now, expected_version)
            )
        if session is not None:
            return Appended(replace(event, sequence=session.last_sequence), created=True, version=session.version)
        # Nothing was written: say why.
        async with self.store.unit_of_work(read_only=True) as uow:
            current = await _owned(uow, user_id, session_id)
            if data.id is not None and (stored := await uow.events.get(user_id, session_id, data.id)) is not None:
                return Appended(stored.event(), created=False, version=current.version)
        raise PreconditionFailed(expected_version or 0, current.version)

    async def list_events(
        self, user_id: str, session_id: str, *, after_sequence: int = 0, limit: int = 100
    ) -> list[EventRecord]:
        """A long history a page at a time, by sequence."""
        check_whole("afterSequence", after_sequence)
        if not 1 <= limit <= MAX_EVENTS_PAGE:
            raise InvalidInput("limit", f"must be between 1 and {MAX_EVENTS_PAGE}")
        async with self.store.unit_of_work(read_only=True) as uow:
            await _owned(uow, user_id, session_id)
            return await uow.events.page(user_id, session_id, after_sequence=after_sequence, limit=limit)

    # Runs -------------------------------------------------------------------------------------

    async def start_run(self, user_id: str, session_id: str, behavior: Behavior | None = None) -> Run:
        """PERSISTENT: the run continues `session_id` (created if new). RUN_BASED: the run gets a
        session `<session_id>:<run_id>:run` of its own, starting from a copy of `session_id`'s state
        and newest events (at most runs.copy_recent_events) when that session exists (the incumbent
        meant to copy them, and did not)."""
        check_id("sessionId", session_id)
        behavior = behavior or self.default_behavior
        run_id = uuid.uuid4().hex
        now = self._clock()
        async with self.store.unit_of_work() as uow:
            parent = await uow.sessions.get(user_id, session_id)
            if behavior is Behavior.PERSISTENT:
                run_session = session_id
                if parent is None:
                    await self._create(uow, user_id, session_id, StateDelta())
            else:
                run_session = f"{session_id}:{run_id}:run"
                await self._create(uow, user_id, run_session, StateDelta(session=parent.state if parent else {}))
                if parent is not None:
                    await self._copy_events(uow, user_id, parent, run_session)
            run = Run(run_id, user_id, run_session, session_id, behavior, now)
            await uow.runs.add(run)
            await uow.commit()
        return run

    async def end_run(self, user_id: str, run_id: str) -> Run:
        """End a run; a RUN_BASED run's own session is deleted. Ending twice changes nothing."""
        async with self.store.unit_of_work() as uow:
            run = await uow.runs.get(run_id)
            if run is None or run.user_id != user_id:
                raise NotFound("run", run_id)
            if run.ended_time is not None:
                return run
            run = await self._end(uow, run)
            await uow.commit()
        return run

    async def purge(self, keep_days: int | None, *, dry_run: bool = False, batch: int = PURGE_BATCH) -> Purged:
        """Delete the sessions not updated for more than `keep_days` (None: keep them) with their
        events, `batch` at a time, each batch its own transaction; the agent's and the users' state
        stay. `dry_run`: only count them."""
        if keep_days is None:
            return Purged()
        stale = cutoff(self._clock(), keep_days)
        if dry_run:
            async with self.store.unit_of_work(read_only=True) as uow:
                return Purged(await uow.sessions.count_stale(stale))
        purged = 0
        while True:
            async with self.store.unit_of_work() as uow:
                keys = await uow.sessions.stale(stale, batch)
                for user_id, session_id in keys:
                    await uow.sessions.delete(user_id, session_id)
                await uow.commit()
            purged += len(keys)
            if len(keys) < batch:
                return Purged(purged)

    async def end_expired_runs(self, batch: int = 100) -> int:
        """End the runs older than runs.ttl_ms, a batch per transaction (each short, so no request
        waits long behind it); how many were ended."""
        ended = 0
        cutoff = self._clock() - self.runs.ttl_ms
        while True:
            async with self.store.unit_of_work() as uow:
                expired = await uow.runs.open_since(cutoff, batch)
                for run in expired:
                    await self._end(uow, run)
                await uow.commit()
            ended += len(expired)
            if len(expired) < batch:
                return ended

    async def _end(self, uow: AgentUnitOfWork, run: Run) -> Run:
        if run.behavior is Behavior.RUN_BASED and await uow.sessions.get(run.user_id, run.session_id, for_update=True):
            await uow.sessions.delete(run.user_id, run.session_id)
        ended = replace(run, ended_time=self._clock())
        await uow.runs.update(ended)
        return ended

    # ------------------------------------------------------------------------------------------

    async def _copy_events(self, uow: AgentUnitOfWork, user_id: str, parent: AgentSession, target: str) -> None:
        if self.runs.copy_recent_events == 0:
            return
        events = await uow.events.recent(user_id, parent.id, limit=self.runs.copy_recent_events)
        for record in events:
            await uow.events.add(user_id, target, record.event())
        copy = await uow.sessions.get(user_id, target)
        if copy is not None and events:
            await uow.sessions.update(replace(copy, last_sequence=events[-1].sequence))


async def append_in(
    repositories: AgentRepositories,
    user_id: str,
    session_id: str,
    event: Event,
    delta: StateDelta,
    now: int,
    expected_version: int | None,
) -> AgentSession | None:
    """The rule of appending an event, in one transaction: the session moves on by one (the next
    sequence, version + 1, its scope of `delta` merged shallowly into its state, last update `now`),
    the event is stored with that sequence, and the shared scopes of `delta` are merged. Returns the
    session as it now is; None, having written nothing, when the session is missing, is not at
    `expected_version`, or already holds an event with this id."""
    session = await repositories.sessions.get(user_id, session_id, for_update=True)
    if session is None or (expected_version is not None and session.version != expected_version):
        return None
    if await repositories.events.get(user_id, session_id, event.id) is not None:
        return None
    session = session.advanced(delta.session, now)
    await repositories.sessions.update(session)
    await repositories.events.add(user_id, session_id, replace(event, sequence=session.last_sequence))
    await _merge_shared(repositories, user_id, delta, now)
    return session


async def _merge_shared(repositories: AgentRepositories, user_id: str, delta: StateDelta, now: int) -> None:
    if delta.app:
        await repositories.states.merge_app(delta.app, now)
    if delta.user:
        await repositories.states.merge_user(user_id, delta.user, now)


async def _owned(uow: AgentUnitOfWork, user_id: str, session_id: str, *, for_update: bool = False) -> AgentSession:
    session = await uow.sessions.get(user_id, session_id, for_update=for_update)
    if session is None:
        raise NotFound("session", session_id)
    return session


async def _state(uow: AgentRepositories, session: AgentSession) -> dict[str, Any]:
    return merged_state(session.state, await uow.states.app(), await uow.states.user(session.user_id))


def _state_delta(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions")
    delta = actions.get("stateDelta") if isinstance(actions, dict) else None
    return delta if isinstance(delta, dict) else {}


def _stored_body(body: dict[str, Any]) -> dict[str, Any]:
    """The event as stored: not its own fields (they are columns), and `temp:` keys leave its state
    delta, as they never reach storage."""
    if not EVENT_FIELDS.isdisjoint(body):
        body = {k: v for k, v in body.items() if k not in EVENT_FIELDS}
    actions = body.get("actions")
    if isinstance(actions, dict) and isinstance(actions.get("stateDelta"), dict):
        return {**body, "actions": {**actions, "stateDelta": without_temp(actions["stateDelta"])}}
    return body
