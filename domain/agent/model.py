"""An agent's own memory: its sessions, the events of each, and state in three scopes.

State keys follow the incumbent agent-side store: `app:` keys are shared by every session of the
agent, `user:` keys by one user's sessions of the agent, `temp:` keys live for one invocation and
are never stored; other keys belong to the session. Reads merge the scopes back, prefixes kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from domain.paging import SortKey

APP_PREFIX = "app:"
USER_PREFIX = "user:"
TEMP_PREFIX = "temp:"


class Behavior(StrEnum):
    PERSISTENT = "PERSISTENT"  # a run continues the session it names
    RUN_BASED = "RUN_BASED"  # a run gets a session of its own, deleted when the run ends


@dataclass(frozen=True, slots=True)
class RunPolicy:
    """How much of a session a RUN_BASED run starts from, and how long a run may stay open."""

    # The newest events of the named session a RUN_BASED run's own session starts with.
    copy_recent_events: int = 100
    # A run not ended by then is ended (its RUN_BASED session deleted) by the server itself.
    ttl_ms: int = 86_400_000


@dataclass(frozen=True, slots=True)
class StateDelta:
    """A change of state, split by scope; `temp:` keys are already gone."""

    session: dict[str, Any] = field(default_factory=dict)
    app: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def split(cls, delta: dict[str, Any] | None) -> StateDelta:
        parts = cls()
        for key, value in (delta or {}).items():
            if key.startswith(TEMP_PREFIX):
                continue
            if key.startswith(APP_PREFIX):
                parts.app[key.removeprefix(APP_PREFIX)] = value
            elif key.startswith(USER_PREFIX):
                parts.user[key.removeprefix(USER_PREFIX)] = value
            else:
                parts.session[key] = value
        return parts


def merged_state(session: dict[str, Any], app: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    return {
        **session,
        **{APP_PREFIX + k: v for k, v in app.items()},
        **{USER_PREFIX + k: v for k, v in user.items()},
    }


def without_temp(delta: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in delta.items() if not k.startswith(TEMP_PREFIX)}


@dataclass(frozen=True, slots=True)
class AgentSession:
    """One conversation as an agent remembers it; `state` holds only the session's own scope."""

    id: str
    user_id: str
    state: dict[str, Any]
    version: int
    last_sequence: int
    created_time: int
    last_update_time: int

    @property
    def sort_key(self) -> SortKey:
        return SortKey(self.last_update_time, self.id)

    def advanced(self, state_delta: dict[str, Any], now: int) -> AgentSession:
        """The session one event on: the next sequence, version + 1, `state_delta` merged shallowly."""
        return replace(
            self,
            state={**self.state, **state_delta},
            version=self.version + 1,
            last_sequence=self.last_sequence + 1,
            last_update_time=now,
        )


# An event's own fields, as the wire names them: never part of its body.
EVENT_FIELDS = frozenset({"id", "invocationId", "author", "timestamp", "sequence"})


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened in a session (a message, a tool call, a state change).

    `sequence` is its position in the session, 1..N with no gap; `body` keeps every other field
    the client sent (content, actions, and whatever else, never the EVENT_FIELDS), verbatim.
    """

    id: str
    sequence: int
    invocation_id: str
    author: str
    timestamp: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event as a store reads it back (the read model of histories): its body still the stored
    JSON, which a reader may pass on unparsed; a page of 1,000 events need not decode and re-encode
    1,000 bodies to go out over HTTP."""

    id: str
    sequence: int
    invocation_id: str
    author: str
    timestamp: int
    body_json: bytes

    def event(self) -> Event:
        body = json.loads(self.body_json)
        return Event(self.id, self.sequence, self.invocation_id, self.author, self.timestamp, body)


@dataclass(frozen=True, slots=True)
class Run:
    """One run of the agent on a session. A RUN_BASED run works in a session of its own."""

    id: str
    user_id: str
    session_id: str
    requested_session_id: str
    behavior: Behavior
    created_time: int
    ended_time: int | None = None


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session as a reader sees it: merged state and (some of) its events, oldest first."""

    session: AgentSession
    state: dict[str, Any]
    events: list[EventRecord]
