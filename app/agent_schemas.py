"""Wire format of the agent stores (camelCase, epoch milliseconds)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from app.schemas import CamelStruct, EpochMs
from domain.agent.model import Event, EventRecord, Run, SessionView

_encode = msgspec.json.encode

StateMap = dict[str, Any]


class AgentInfo(CamelStruct):
    name: str
    store_type: Literal["sql", "memory"]
    default_behavior: Literal["PERSISTENT", "RUN_BASED"]


class AgentList(CamelStruct):
    data: list[AgentInfo]


class AgentSessionCreate(CamelStruct):
    session_id: Annotated[str | None, msgspec.Meta(description="Generated when absent.")] = None
    state: Annotated[
        StateMap | None, msgspec.Meta(description="Initial state; `app:`/`user:` keys go to those scopes.")
    ] = None


class EventCreate(CamelStruct):
    """An event to append. Fields not named here are kept as given and returned with the event."""

    invocation_id: Annotated[str, msgspec.Meta(max_length=255, description="May be empty, as ADK's default is.")]
    author: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    id: Annotated[str | None, msgspec.Meta(description="Re-sending an id already stored is a no-op.")] = None
    timestamp: Annotated[float, msgspec.Meta(ge=0, description="Epoch ms; defaults to the time of storing.")] | None = (
        None
    )
    content: Any = None
    actions: Annotated[
        dict[str, Any] | None, msgspec.Meta(description="`stateDelta` in here is merged into the state.")
    ] = None


class EventResponse(CamelStruct):
    """A stored event: what was sent, plus its `sequence` (1..N in its session) and defaults."""

    id: str
    invocation_id: str
    author: str
    timestamp: EpochMs
    sequence: int
    content: Any = None
    actions: dict[str, Any] | None = None


# An event on the wire, as EventResponse describes it: stored bodies go out spliced, unparsed.
EventJson = Annotated[msgspec.Raw, msgspec.Meta(description="An event (see EventResponse).")]


def _own_fields(event: Event | EventRecord) -> dict[str, Any]:
    return {
        "id": event.id,
        "invocationId": event.invocation_id,
        "author": event.author,
        "timestamp": event.timestamp,
        "sequence": event.sequence,
    }


def event_json(event: Event) -> dict[str, Any]:
    """The event as sent, with what the store decided (id, sequence, timestamp) beside it."""
    return {**event.body, **_own_fields(event)}


def record_json(record: EventRecord) -> msgspec.Raw:
    """A stored event as event_json gives it, its body's stored text spliced in unparsed. The body
    never holds the event's own fields (domain.agent.model.EVENT_FIELDS): no key twice."""
    inner = record.body_json.strip()[1:-1].strip()
    head = _encode(_own_fields(record))
    return msgspec.Raw(head[:-1] + b"," + inner + b"}" if inner else head)


class AgentSessionResponse(CamelStruct):
    id: str
    app_name: str
    user_id: str
    state: StateMap
    events: Annotated[list[EventJson], msgspec.Meta(description="Events oldest first (see EventResponse).")]
    last_update_time: EpochMs
    version: int

    @classmethod
    def of(cls, app_name: str, view: SessionView) -> AgentSessionResponse:
        s = view.session
        return cls(
            s.id, app_name, s.user_id, view.state, [record_json(e) for e in view.events], s.last_update_time, s.version
        )


class UserState(CamelStruct):
    user_id: str
    state: Annotated[StateMap, msgspec.Meta(description="The user's scope, keys without `user:`.")]


class AgentSessionList(CamelStruct):
    data: list[AgentSessionResponse]
    next_cursor: str | None


class EventList(CamelStruct):
    data: Annotated[list[EventJson], msgspec.Meta(description="Events in sequence order (see EventResponse).")]
    next_after_sequence: Annotated[
        int | None, msgspec.Meta(description="Pass as `afterSequence` for the next page; null at the end.")
    ]


class RunCreate(CamelStruct):
    session_id: str
    behavior: Literal["PERSISTENT", "RUN_BASED"] | None = None


class RunResponse(CamelStruct):
    run_id: str
    session_id: str
    requested_session_id: str
    behavior: Literal["PERSISTENT", "RUN_BASED"]
    created_time: EpochMs
    ended_time: EpochMs | None

    @classmethod
    def of(cls, run: Run) -> RunResponse:
        return cls(
            run.id, run.session_id, run.requested_session_id, run.behavior.value, run.created_time, run.ended_time
        )
