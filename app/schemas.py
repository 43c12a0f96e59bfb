"""The wire format: msgspec Structs, camelCase on the wire, times in epoch milliseconds.

Field names and shapes follow the incumbent gateway so its web UI and REST clients work unchanged.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import msgspec

from app.examples import BUBBLES_TEXT
from domain.gateway.model import ChatTask, Feedback, LegacyMessage, MessageHit, Session
from domain.paging import Page

NonEmptyName = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
EpochMs = Annotated[int, msgspec.Meta(description="Milliseconds since the Unix epoch.")]


class CamelStruct(msgspec.Struct, rename="camel"):
    pass


Source = Literal["chat", "scheduler"]
NameText = Annotated[str, msgspec.Meta(description="Trimmed; 1-255 characters after trimming.")]


class SessionCreate(CamelStruct):
    id: Annotated[str | None, msgspec.Meta(description="Defaults to `web-session-<uuid4 hex>`.")] = None
    name: NameText | None = None
    agent_id: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    source: Source = "chat"
    has_running_background_task: bool = False
    scheduled_task_id: str | None = None
    scheduled_task_name: str | None = None


class SessionRename(CamelStruct):
    name: NameText


class ProjectMove(CamelStruct):
    project_id: Annotated[
        str | None, msgspec.Meta(description="The project to move the session into; null: out of any.")
    ]
    project_name: Annotated[str | None, msgspec.Meta(description="Shown as the session's project badge.")] = None


class ViewedRequest(CamelStruct):
    """The UI sends `{}`; nothing in it is read."""


class Viewed(CamelStruct):
    last_viewed_at: EpochMs


class SessionResponse(CamelStruct):
    id: str
    user_id: str
    name: str | None
    agent_id: str | None
    project_id: str | None
    project_name: str | None
    source: Source
    has_running_background_task: bool
    scheduled_task_id: str | None
    scheduled_task_name: str | None
    created_time: EpochMs
    updated_time: EpochMs
    last_viewed_at: Annotated[int | None, msgspec.Meta(description="When the user last opened it (epoch ms).")]

    @classmethod
    def of(cls, s: Session) -> SessionResponse:
        return cls(
            s.id,
            s.user_id,
            s.name,
            s.agent_id,
            s.project_id,
            s.project_name,
            s.source.value,
            s.has_running_background_task,
            s.scheduled_task_id,
            s.scheduled_task_name,
            s.created_time,
            s.updated_time,
            s.last_viewed_at,
        )


class SessionEnvelope(CamelStruct):
    data: SessionResponse


class Pagination(CamelStruct):
    page_size: int
    page_number: int | None
    count: Annotated[int | None, msgspec.Meta(description="Total rows; null when paging by cursor.")]
    next_page: int | None
    total_pages: int | None
    next_cursor: Annotated[str | None, msgspec.Meta(description="Pass as `cursor` for the next page (keyset paging).")]

    @classmethod
    def of(cls, page: Page[Any]) -> Pagination:
        by_cursor = page.request.after is not None
        return cls(
            page_size=page.request.size,
            page_number=None if by_cursor else page.request.number,
            count=page.total,
            next_page=page.next_page,
            total_pages=page.total_pages,
            next_cursor=page.next_cursor,
        )


class PageMeta(CamelStruct):
    pagination: Pagination


class SessionList(CamelStruct):
    data: list[SessionResponse]
    meta: PageMeta

    @classmethod
    def of(cls, page: Page[Session]) -> SessionList:
        return cls([SessionResponse.of(s) for s in page.items], PageMeta(Pagination.of(page)))


class TaskSave(CamelStruct):
    task_id: str
    message_bubbles: Annotated[
        str | list[Any],
        msgspec.Meta(
            extra_json_schema={
                **BUBBLES_TEXT,
                "description": BUBBLES_TEXT["description"] + " An array is accepted too.",
            }
        ),
    ]
    user_message: str | None = None
    task_metadata: Annotated[
        str | dict[str, Any] | None, msgspec.Meta(description="A JSON string holding an object (or the object).")
    ] = None

    def bubbles_text(self) -> str:
        return self.message_bubbles if isinstance(self.message_bubbles, str) else json.dumps(self.message_bubbles)

    def metadata_text(self) -> str | None:
        if self.task_metadata is None or isinstance(self.task_metadata, str):
            return self.task_metadata
        return json.dumps(self.task_metadata)


class TaskResponse(CamelStruct):
    task_id: str
    session_id: str
    user_message: str | None
    message_bubbles: Annotated[str, msgspec.Meta(extra_json_schema=BUBBLES_TEXT)]
    task_metadata: str | None
    created_time: EpochMs
    updated_time: EpochMs

    @classmethod
    def of(cls, t: ChatTask) -> TaskResponse:
        return cls(
            t.id, t.session_id, t.user_message, t.message_bubbles, t.task_metadata, t.created_time, t.updated_time
        )


class TaskList(CamelStruct):
    tasks: list[TaskResponse]
    next_cursor: Annotated[str | None, msgspec.Meta(description="Set when `limit` cut the history short.")] = None


class MessageHitResponse(CamelStruct):
    session_id: str
    session_name: str | None
    task_id: str
    snippet: Annotated[str, msgspec.Meta(description="HTML-escaped text; each match between <mark> and </mark>.")]
    created_time: EpochMs

    @classmethod
    def of(cls, hit: MessageHit) -> MessageHitResponse:
        return cls(hit.session_id, hit.session_name, hit.task_id, hit.snippet, hit.created_time)


class MessageHitList(CamelStruct):
    data: list[MessageHitResponse]
    next_cursor: Annotated[str | None, msgspec.Meta(description="Pass as `cursor` for the next page.")]


class MessageResponse(CamelStruct):
    id: str
    session_id: str
    message: str
    sender_type: str
    sender_name: str
    message_type: str
    created_time: EpochMs

    @classmethod
    def of(cls, m: LegacyMessage) -> MessageResponse:
        return cls(m.id, m.session_id, m.message, m.sender_type, m.sender_name, m.message_type, m.created_time)


class FeedbackCreate(CamelStruct):
    task_id: str
    session_id: str
    feedback_type: Literal["up", "down"]
    feedback_text: Annotated[str, msgspec.Meta(max_length=10_000)] | None = None


class FeedbackAccepted(CamelStruct):
    status: str = "feedback received"


class FeedbackResponse(msgspec.Struct):
    """One feedback row as the gateway lists it (snake_case, as its clients read it)."""

    id: str
    session_id: str
    task_id: str
    user_id: str
    rating: Literal["up", "down"]
    comment: str | None
    created_time: EpochMs

    @classmethod
    def of(cls, f: Feedback) -> FeedbackResponse:
        return cls(f.id, f.session_id, f.task_id, f.user_id, f.rating.value, f.comment, f.created_time)


class Health(CamelStruct):
    status: str


class StoreHealth(CamelStruct, omit_defaults=True):
    type: str
    reachable: bool
    error: str | None = None
    scenario: Annotated[
        str | None, msgspec.Meta(description="For an agent: the scenario of this agent with the gateway.")
    ] = None


class Readiness(CamelStruct):
    status: Literal["ready", "unavailable"]
    scenario: Annotated[str, msgspec.Meta(description="A, B, C or D, as the session-storage guide defines them.")]
    scenario_meaning: str
    stores: dict[str, StoreHealth]
    agents: Annotated[dict[str, StoreHealth], msgspec.Meta(description="Each configured agent's store.")]


class InvalidParam(msgspec.Struct):
    name: str
    reason: str
    # Where the parameter was: body, query, path or header.
    in_: str | None = msgspec.field(default=None, name="in")


class ProblemDetails(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details, the body of every error (`application/problem+json`)."""

    status: int
    title: str
    detail: str
    type: str = "about:blank"
    invalid_params: list[InvalidParam] | None = msgspec.field(default=None, name="invalid-params")
