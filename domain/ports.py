"""The ports: what the use cases need from a store, whatever holds it (memory or SQL).

Every adapter runs the same contract suite (tests/contract), so behaviour cannot drift between them.
Reads that return one row by id are deliberately not scoped to a user: the service decides what
the caller may see, and turns someone else's row into NotFound.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from domain.agent.model import AgentSession, Event, Run, StateDelta
from domain.gateway.model import ChatTask, Feedback, FeedbackType, Session
from domain.paging import SortKey
from domain.platform.model import Connector, Deployment, PlatformAgent


@dataclass(frozen=True, slots=True)
class SessionFilter:
    user_id: str
    agent_id: str | None = None
    project_id: str | None = None
    # Matches the session name or the text of any of its tasks, case-insensitively.
    text: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackFilter:
    user_id: str
    session_id: str | None = None
    task_id: str | None = None
    rating: FeedbackType | None = None
    since: int | None = None
    until: int | None = None


class SessionRepository(Protocol):
    async def add(self, session: Session) -> None: ...

    async def get(self, session_id: str, *, for_update: bool = False) -> Session | None:
        """`for_update` locks the row until the unit of work ends: writers of one session take turns."""
        ...

    async def update(self, session: Session) -> None: ...

    async def delete(self, session_id: str) -> None: ...

    async def list(
        self, where: SessionFilter, *, limit: int, offset: int = 0, after: SortKey | None = None
    ) -> list[Session]:
        """Newest activity first: ordered by (updated_time, id) descending; `after` is exclusive."""
        ...

    async def count(self, where: SessionFilter) -> int: ...

    async def list_counted(
        self, where: SessionFilter, *, limit: int, offset: int = 0
    ) -> tuple[builtins.list[Session], int]:
        """A page as `list` gives it, and how many sessions match in all (in one round trip where it can)."""
        ...


class ChatTaskRepository(Protocol):
    async def add(self, task: ChatTask) -> None: ...

    async def get(self, task_id: str) -> ChatTask | None: ...

    async def update(self, task: ChatTask) -> None: ...

    async def list_for_session(
        self, session_id: str, *, limit: int | None = None, after: SortKey | None = None
    ) -> list[ChatTask]:
        """Oldest first: ordered by (created_time, id) ascending; `after` is exclusive."""
        ...

    async def delete_for_session(self, session_id: str) -> None: ...

    async def list_for_owner(
        self, user_id: str, session_id: str, *, limit: int | None = None, after: SortKey | None = None
    ) -> list[ChatTask] | None:
        """As list_for_session, with the ownership check in the same read: None when the session
        is missing or someone else's (the history read is one round trip)."""
        ...


class FeedbackRepository(Protocol):
    async def add(self, feedback: Feedback) -> None: ...

    async def list(
        self, where: FeedbackFilter, *, limit: int, offset: int = 0, after: SortKey | None = None
    ) -> list[Feedback]:
        """Newest first: ordered by (created_time, id) descending; `after` is exclusive."""
        ...

    async def count(self, where: FeedbackFilter) -> int: ...

    async def delete_for_session(self, session_id: str) -> None: ...


class GatewayUnitOfWork(Protocol):
    """One transaction over the gateway store. Leaving the block without `commit()` undoes every write."""

    sessions: SessionRepository
    tasks: ChatTaskRepository
    feedback: FeedbackRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class GatewayStore(Protocol):
    """Where the gateway's data lives: hands out units of work and says whether it is reachable."""

    persistent: bool

    def unit_of_work(self, *, read_only: bool = False) -> GatewayUnitOfWork:
        """`read_only` promises no writes, which lets a store skip the transaction around them."""
        ...

    async def save_task(self, user_id: str, task: ChatTask) -> tuple[ChatTask, bool] | None:
        """Create or update `task` atomically, creating its session for `user_id` when missing and
        moving the session's activity to now; an update keeps the stored user message when the new
        one is missing, and feedback merged into the stored metadata unless the new metadata has its
        own. Returns (the stored task, created?); None, with nothing written, when the session is
        someone else's or the task id is another user's or another session's. The hot path of the
        gateway: a store may do it in one statement (`domain.gateway.service.save_task_in` is the
        portable way)."""
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

    async def list(self, *, limit: int, offset: int = 0, after: SortKey | None = None) -> list[R]:
        """Oldest first: ordered by (created_time, id); `after` is exclusive."""
        ...

    async def count(self) -> int: ...


class PlatformUnitOfWork(Protocol):
    agents: RegistryRepository[PlatformAgent]
    connectors: RegistryRepository[Connector]
    deployments: RegistryRepository[Deployment]

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


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as an identity adapter established it."""

    user_id: str
    scopes: frozenset[str] = frozenset()
    # Made up for a browser that brought no identity: the app hands it a cookie to keep.
    anonymous: bool = False


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

    async def advance(
        self,
        user_id: str,
        session_id: str,
        *,
        state_delta: dict[str, Any],
        now: int,
        expected_version: int | None = None,
    ) -> AgentSession | None:
        """Move the session on by one event, atomically, and lock it until the unit of work ends:
        version + 1, last_sequence + 1, `state_delta` merged shallowly into its state, last update
        `now`. Returns the session as it now is; None (and no change) when it does not exist or is
        not at `expected_version`. One statement where the database allows it: this is the append path."""
        ...

    async def delete(self, user_id: str, session_id: str) -> None:
        """Delete the session with its events."""
        ...

    async def list(self, user_id: str, *, limit: int, after: SortKey | None = None) -> list[AgentSession]:
        """Newest first: ordered by (last_update_time, id) descending; `after` is exclusive."""
        ...


class EventRepository(Protocol):
    async def add(self, user_id: str, session_id: str, event: Event) -> bool:
        """Store the event; False (and nothing written) when its id is already stored in the session."""
        ...

    async def get(self, user_id: str, session_id: str, event_id: str) -> Event | None: ...

    async def recent(
        self, user_id: str, session_id: str, *, limit: int | None = None, after_timestamp: int | None = None
    ) -> list[Event]:
        """The newest `limit` events (all when None) with a timestamp after `after_timestamp`, oldest first."""
        ...

    async def page(self, user_id: str, session_id: str, *, after_sequence: int, limit: int) -> list[Event]:
        """Events with a sequence above `after_sequence`, in order."""
        ...


class StateRepository(Protocol):
    """The agent-wide (`app:`) and per-user (`user:`) state scopes."""

    async def app(self) -> dict[str, Any]: ...

    async def user(self, user_id: str) -> dict[str, Any]: ...

    async def merge_app(self, delta: dict[str, Any]) -> None:
        """Shallow-merge `delta` into the agent's state, atomically with the unit of work."""
        ...

    async def merge_user(self, user_id: str, delta: dict[str, Any]) -> None: ...


class RunRepository(Protocol):
    async def add(self, run: Run) -> None: ...

    async def get(self, run_id: str) -> Run | None: ...

    async def update(self, run: Run) -> None: ...


class AgentUnitOfWork(Protocol):
    sessions: AgentSessionRepository
    events: EventRepository
    states: StateRepository
    runs: RunRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class AgentStore(Protocol):
    """Where one agent's memory lives."""

    persistent: bool

    def unit_of_work(self, *, read_only: bool = False) -> AgentUnitOfWork: ...

    async def append(
        self,
        user_id: str,
        session_id: str,
        event: Event,
        delta: StateDelta,
        *,
        now: int,
        expected_version: int | None = None,
    ) -> AgentSession | None:
        """Append `event` atomically: the next sequence (its own is ignored), `delta` merged into
        the three state scopes, version + 1, last update `now`. Returns the session as it now is;
        None, with nothing written, when the session is missing, is not at `expected_version`, or
        already holds an event with this id. The hot path of the product: a store may do it in
        one statement (`domain.agent.service.append_in` is the portable way)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
