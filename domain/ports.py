"""The ports: what the use cases need from a store, whatever holds it (memory or SQL).

Every adapter runs the same contract suite (tests/contract), so behaviour cannot drift between them.
Reads that return one row by id are deliberately not scoped to a user: the service decides what
the caller may see, and turns someone else's row into NotFound.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from domain.access import Caller
from domain.agent.model import AgentSession, Event, EventRecord, Run, StateDelta
from domain.gateway.model import ChatTask, Feedback, FeedbackType, Session, SessionSource, Tombstone
from domain.paging import Batches, SortKey
from domain.platform.model import Connector, Deployment, PlatformAgent


@dataclass(frozen=True, slots=True)
class SessionFilter:
    user_id: str
    agent_id: str | None = None
    project_id: str | None = None
    source: SessionSource | None = None
    # Folded (domain.search.needle): found in the session's name (domain.search).
    text: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackFilter:
    user_id: str
    session_id: str | None = None
    task_id: str | None = None
    rating: FeedbackType | None = None
    since: int | None = None
    until: int | None = None


@dataclass(frozen=True, slots=True)
class FoundTask:
    """A task a message search found, with its session's name."""

    task: ChatTask
    session_name: str | None


class SessionRepository(Protocol):
    async def add(self, session: Session) -> None: ...

    async def get(self, session_id: str, *, for_update: bool = False) -> Session | None:
        """`for_update` locks the row until the unit of work ends: writers of one session take turns."""
        ...

    async def update(self, session: Session) -> None: ...

    async def delete(self, session_ids: Collection[str]) -> None:
        """Delete these sessions (their tasks and feedback are the caller's to delete first)."""
        ...

    async def bury(self, tombstone: Tombstone) -> None:
        """Remember that a session was deleted, so that nothing brings its id back."""
        ...

    async def buried(self, session_id: str) -> bool:
        """Whether a session of this id was deleted (and its tombstone not yet purged)."""
        ...

    async def delete_for_user(self, user_id: str) -> int:
        """Delete every session of the user's (and their tombstones); how many there were."""
        ...

    async def stale(self, before: int, limit: int) -> list[str]:
        """The ids of up to `limit` sessions last updated before `before` (epoch ms), the oldest
        first, locked until the unit of work ends (a save waits, then finds them gone)."""
        ...

    async def count_stale(self, before: int) -> int:
        """How many sessions were last updated before `before`."""
        ...

    async def unbury(self, before: int, limit: int) -> int:
        """Forget up to `limit` tombstones of sessions deleted before `before`; how many."""
        ...

    async def count_buried(self, before: int) -> int:
        """How many tombstones are of sessions deleted before `before`."""
        ...

    async def find(
        self, where: SessionFilter, *, limit: int, offset: int = 0, after: SortKey | None = None
    ) -> list[Session]:
        """Newest activity first: ordered by (updated_time, id) descending; `after` is exclusive."""
        ...

    async def count(self, where: SessionFilter) -> int: ...

    async def find_counted(self, where: SessionFilter, *, limit: int, offset: int = 0) -> tuple[list[Session], int]:
        """A page as `find` gives it, and how many sessions match in all (in one round trip where it can)."""
        ...


class ChatTaskRepository(Protocol):
    async def add(self, task: ChatTask) -> None: ...

    async def get(self, task_id: str) -> ChatTask | None: ...

    async def update(self, task: ChatTask) -> None: ...

    async def delete_for_sessions(self, session_ids: Collection[str]) -> None: ...

    async def list_for_owner(
        self, user_id: str, session_id: str, *, limit: int | None = None, after: SortKey | None = None
    ) -> list[ChatTask] | None:
        """The session's tasks oldest first, ordered by (created_time, id); `after` is exclusive. None
        when the session is missing or someone else's (ownership and history in one read)."""
        ...

    async def sizes(
        self, user_id: str, session_id: str, *, limit: int, after: SortKey | None = None
    ) -> list[int] | None:
        """`ChatTask.size` of the tasks `list_for_owner` would return with this `limit` and `after`,
        without reading them (how a whole read cuts its batches). None as `list_for_owner`."""
        ...

    async def delete_for_user(self, user_id: str) -> int:
        """Delete every row of the user's here; how many there were."""
        ...


class FeedbackRepository(Protocol):
    async def add(self, feedback: Feedback) -> None: ...

    async def get(self, feedback_id: str) -> Feedback | None: ...

    async def find(
        self, where: FeedbackFilter, *, limit: int, offset: int = 0, after: SortKey | None = None
    ) -> list[Feedback]:
        """Newest first: ordered by (created_time, id) descending; `after` is exclusive."""
        ...

    async def count(self, where: FeedbackFilter) -> int: ...

    async def delete_for_sessions(self, session_ids: Collection[str]) -> None: ...

    async def delete_for_user(self, user_id: str) -> int:
        """Delete every row of the user's here; how many there were."""
        ...


class GatewayRepositories(Protocol):
    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def tasks(self) -> ChatTaskRepository: ...

    @property
    def feedback(self) -> FeedbackRepository: ...


class GatewayUnitOfWork(GatewayRepositories, Protocol):
    """One transaction over the gateway store. Leaving the block without `commit()` undoes every write."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


T = TypeVar("T")

# A store's optional one-statement form of a hot write (see GatewayService.save_task, AgentService.append_event).
SaveTaskAtOnce = Callable[[str, ChatTask, bool], Awaitable[tuple[ChatTask, bool] | None]]
HistoryBatchAtOnce = Callable[[str, str, Batches, SortKey | None], Awaitable[tuple[list[ChatTask], bool] | None]]
AppendAtOnce = Callable[[str, str, str, Event, StateDelta, int, int | None], Awaitable[AgentSession | None]]


class GatewayStore(Protocol):
    """Where the gateway's data lives: hands out units of work and says whether it is reachable."""

    @property
    def persistent(self) -> bool: ...

    def unit_of_work(self, *, read_only: bool = False) -> GatewayUnitOfWork:
        """`read_only` promises no writes, which lets a store skip the transaction around them."""
        ...

    async def run(self, work: Callable[[GatewayRepositories], Awaitable[T]]) -> T:
        """`work` in one transaction, committed when it returns: a store may run it whole somewhere
        cheaper than statement by statement. `work` awaits nothing but the repositories."""
        ...

    @property
    def save_task_at_once(self) -> SaveTaskAtOnce | None:
        """`save_task_in` as one statement, where the database allows (None elsewhere): held to the
        rule by the contract suite."""
        ...

    @property
    def history_batch_at_once(self) -> HistoryBatchAtOnce | None:
        """The next batch of a whole history (GatewayService.whole_history) and whether more follow,
        read in one statement where the database allows (None elsewhere): held to domain.paging.Batches
        by the contract suite."""
        ...

    async def search_tasks(self, user_id: str, terms: list[str], *, limit: int, offset: int = 0) -> list[FoundTask]:
        """The user's tasks whose message or bubbles' text holds every one of `terms` (folded words,
        domain.search.words) as a word, through the store's full-text index: the most relevant first
        (each store ranks in its own way), then the newest, then by id."""
        ...

    async def ping(self) -> None:
        """Raise StoreUnavailable when the store cannot answer."""
        ...

    async def close(self) -> None: ...


# Platform store ------------------------------------------------------------------------------

R = TypeVar("R")


class RegistryRepository(Protocol[R]):
    """One kind of platform record (agents, connectors or deployments), keyed by id."""

    async def add(self, record: R) -> None: ...

    async def get(self, record_id: str) -> R | None: ...

    async def update(self, record: R) -> None: ...

    async def delete(self, record_id: str) -> None: ...

    async def find(self, *, limit: int, offset: int = 0, after: SortKey | None = None) -> list[R]:
        """Oldest first: ordered by (created_time, id); `after` is exclusive."""
        ...

    async def count(self) -> int: ...


class PlatformUnitOfWork(Protocol):
    @property
    def agents(self) -> RegistryRepository[PlatformAgent]: ...

    @property
    def connectors(self) -> RegistryRepository[Connector]: ...

    @property
    def deployments(self) -> RegistryRepository[Deployment]: ...

    async def agent_named(self, name: str) -> PlatformAgent | None: ...

    async def deployments_of(self, agent_id: str) -> int: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class PlatformStore(Protocol):
    def unit_of_work(self, *, read_only: bool = False) -> PlatformUnitOfWork: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class IdentityProvider(Protocol):
    """Who is calling: from headers and the (already verified) session cookie's user, if any.
    Raises Unauthenticated when the credentials the mode requires are missing or wrong."""

    def identify(self, headers: Mapping[str, str], cookie_user: str | None) -> Caller: ...


# Agent stores --------------------------------------------------------------------------------
# One store per agent: every repository below is already bound to its agent's name.


class AgentSessionRepository(Protocol):
    async def add(self, session: AgentSession) -> None: ...

    async def get(self, user_id: str, session_id: str, *, for_update: bool = False) -> AgentSession | None:
        """`for_update` locks the session until the unit of work ends: appends to it take turns."""
        ...

    async def update(self, session: AgentSession) -> None: ...

    async def get_with_shared_state(
        self, user_id: str, session_id: str
    ) -> tuple[AgentSession, dict[str, Any], dict[str, Any]] | None:
        """The session with the agent's (`app:`) and the user's (`user:`) state, read together:
        what a reader needs, in one round trip where the store allows."""
        ...

    async def delete(self, user_id: str, session_id: str) -> None:
        """Delete the session with its events."""
        ...

    async def find(self, user_id: str | None, *, limit: int, after: SortKey | None = None) -> list[AgentSession]:
        """The user's sessions (every user's when None), newest first: ordered by (last_update_time,
        id) descending; `after` is exclusive."""
        ...

    async def delete_for_user(self, user_id: str) -> int:
        """Delete every row of the user's here; how many there were."""
        ...

    async def stale(self, before: int, limit: int) -> list[tuple[str, str]]:
        """(user id, session id) of up to `limit` sessions last updated before `before` (epoch ms),
        the oldest first, locked until the unit of work ends."""
        ...

    async def count_stale(self, before: int) -> int:
        """How many sessions were last updated before `before`."""
        ...


class EventRepository(Protocol):
    async def add(self, user_id: str, session_id: str, event: Event) -> None: ...

    async def get(self, user_id: str, session_id: str, event_id: str) -> EventRecord | None: ...

    async def recent(
        self, user_id: str, session_id: str, *, limit: int | None = None, after_timestamp: int | None = None
    ) -> list[EventRecord]:
        """The newest `limit` events (all when None) with a timestamp after `after_timestamp`, oldest first."""
        ...

    async def page(self, user_id: str, session_id: str, *, after_sequence: int, limit: int) -> list[EventRecord]:
        """Events with a sequence above `after_sequence`, in order."""
        ...

    async def sizes(self, user_id: str, session_id: str, *, after_sequence: int, limit: int) -> list[tuple[int, int]]:
        """(sequence, size of its body) of the events `page` would return, without reading them."""
        ...

    async def delete_for_user(self, user_id: str) -> int:
        """Delete every row of the user's here; how many there were."""
        ...


class StateRepository(Protocol):
    """The agent-wide (`app:`) and per-user (`user:`) state scopes."""

    async def app(self) -> dict[str, Any]: ...

    async def user(self, user_id: str) -> dict[str, Any]: ...

    async def merge_app(self, delta: dict[str, Any], now: int) -> None:
        """Shallow-merge `delta` into the agent's state, atomically with the unit of work."""
        ...

    async def merge_user(self, user_id: str, delta: dict[str, Any], now: int) -> None: ...

    async def delete_for_user(self, user_id: str) -> int:
        """Delete the user's scope; 1 if there was one, else 0."""
        ...


class RunRepository(Protocol):
    async def add(self, run: Run) -> None: ...

    async def get(self, run_id: str) -> Run | None: ...

    async def update(self, run: Run) -> None: ...

    async def open_since(self, created_before: int, limit: int) -> list[Run]:
        """Runs not ended and created before `created_before` (epoch ms), oldest first, at most `limit`."""
        ...

    async def delete_for_user(self, user_id: str) -> int:
        """Delete every row of the user's here; how many there were."""
        ...


class AgentRepositories(Protocol):
    @property
    def sessions(self) -> AgentSessionRepository: ...

    @property
    def events(self) -> EventRepository: ...

    @property
    def states(self) -> StateRepository: ...

    @property
    def runs(self) -> RunRepository: ...


class AgentUnitOfWork(AgentRepositories, Protocol):
    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class AgentStore(Protocol):
    """Where one agent's memory lives."""

    @property
    def persistent(self) -> bool: ...

    def unit_of_work(self, *, read_only: bool = False) -> AgentUnitOfWork: ...

    async def run(self, work: Callable[[AgentRepositories], Awaitable[T]]) -> T:
        """As GatewayStore.run."""
        ...

    @property
    def append_at_once(self) -> AppendAtOnce | None:
        """`append_in` as one statement, where the database allows (None elsewhere); called with the
        agent's name first. Held to the rule by the contract suite."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
