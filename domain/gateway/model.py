"""The gateway store's entities: what the web UI shows after a refresh or a restart."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from domain.checks import check_name, refuse_nul
from domain.errors import InvalidInput
from domain.paging import SortKey
from domain.search import bubble_text, fold, indexed


def new_session_id() -> str:
    return f"web-session-{uuid.uuid4().hex}"


# What the UI sends in place of a session id when it has none: they name no session (404).
_NO_SESSION_IDS = ("null", "undefined")


def names_no_session(session_id: str) -> bool:
    return not session_id.strip() or session_id in _NO_SESSION_IDS


class SessionSource(StrEnum):
    """Where a conversation comes from: a user's chat, or a scheduled task's run."""

    CHAT = "chat"
    SCHEDULER = "scheduler"


@dataclass(frozen=True, slots=True)
class Session:
    """One conversation as the gateway knows it; its id is what the agents key their memory on."""

    id: str
    user_id: str
    name: str | None
    agent_id: str | None
    project_id: str | None
    created_time: int
    updated_time: int
    project_name: str | None = None
    source: SessionSource = SessionSource.CHAT
    has_running_background_task: bool = False
    scheduled_task_id: str | None = None
    scheduled_task_name: str | None = None
    # When the user last opened it: the UI marks it unseen while updated_time is later.
    last_viewed_at: int | None = None

    @property
    def sort_key(self) -> SortKey:
        return SortKey(self.updated_time, self.id)

    def search_name(self) -> str | None:
        return fold(self.name)


@dataclass(frozen=True, slots=True)
class Tombstone:
    """What a deleted session leaves: its id may not come back (a late save must not revive it)."""

    session_id: str
    user_id: str
    deleted_time: int


def session_name(name: str) -> str:
    """A name as stored: trimmed, 1-255 characters."""
    return check_name("name", name.strip())


@dataclass(frozen=True, slots=True)
class ChatTask:
    """One exchange of a chat (the user's message and the bubbles answering it), as the UI renders it.

    `message_bubbles` and `task_metadata` are JSON text: the UI owns their shape, we keep them verbatim.
    """

    id: str
    session_id: str
    user_id: str
    user_message: str | None
    message_bubbles: str
    task_metadata: str | None
    created_time: int
    updated_time: int

    @property
    def size(self) -> int:
        """About what the task takes in memory and on the wire, in characters."""
        return len(self.message_bubbles) + len(self.user_message or "") + len(self.task_metadata or "")

    @property
    def sort_key(self) -> SortKey:
        return SortKey(self.created_time, self.id)

    def metadata(self) -> dict[str, Any]:
        return json.loads(self.task_metadata) if self.task_metadata else {}

    def search_message(self) -> str | None:
        """The words of the user's message, as message search indexes them (domain.search)."""
        return None if self.user_message is None else indexed([self.user_message])

    def search_bubbles(self) -> str:
        """The words of the bubbles' visible text, as message search indexes them."""
        return indexed(self.bubble_texts())

    def bubble_texts(self) -> list[str]:
        try:
            bubbles = json.loads(self.message_bubbles)
        except ValueError:
            bubbles = []
        return [bubble_text(b) for b in bubbles] if isinstance(bubbles, list) else []

    def visible_texts(self) -> list[str]:
        """What the UI shows of the task: the user's message, then each bubble's text."""
        return [self.user_message or "", *self.bubble_texts()]

    def resaved(self, draft: ChatTask) -> ChatTask:
        """This stored task saved again as `draft`: the new bubbles and metadata, the stored user message
        when none is sent, feedback merged in since kept (a client re-saving a task does not know of
        it) unless the new metadata has its own, the update time never moving back."""
        return replace(
            self,
            user_message=draft.user_message if draft.user_message is not None else self.user_message,
            message_bubbles=draft.message_bubbles,
            task_metadata=self._keep_feedback(draft.task_metadata),
            updated_time=max(draft.updated_time, self.updated_time),
        )

    def _keep_feedback(self, new_metadata: str | None) -> str | None:
        old = self.metadata().get("feedback")
        metadata = parse_metadata(new_metadata) or {}
        if old is None or "feedback" in metadata:
            return new_metadata
        return json.dumps({"feedback": old, **metadata})


class FeedbackType(StrEnum):
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class Feedback:
    """A user's thumbs up or down on one chat task."""

    id: str
    session_id: str
    task_id: str
    user_id: str
    rating: FeedbackType
    comment: str | None
    created_time: int

    @property
    def sort_key(self) -> SortKey:
        return SortKey(self.created_time, self.id)


@dataclass(frozen=True, slots=True)
class MessageHit:
    """A chat task that holds what a message search asked for, and where (`snippet`)."""

    session_id: str
    session_name: str | None
    task_id: str
    snippet: str
    created_time: int


@dataclass(frozen=True, slots=True)
class LegacyMessage:
    """One bubble of a task, flattened: the shape of the incumbent's `/messages` view."""

    id: str
    session_id: str
    message: str
    sender_type: str
    sender_name: str
    message_type: str
    created_time: int


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON: a browser's JSON.parse refuses it")


def strict_json(text: str) -> Any:
    """JSON as browsers read it: Python's NaN and Infinity extensions are refused."""
    return json.loads(text, parse_constant=_not_json)


def parse_bubbles(text: str) -> list[Any]:
    """The UI sends bubbles as a JSON string; it must hold a non-empty array."""
    try:
        bubbles = strict_json(text)
    except ValueError as exc:
        raise InvalidInput("messageBubbles", f"is not valid JSON ({exc})") from exc
    if not isinstance(bubbles, list) or not bubbles:
        raise InvalidInput("messageBubbles", "must be a JSON string holding a non-empty array")
    refuse_nul(bubbles, "messageBubbles")
    return bubbles


def parse_metadata(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        metadata = strict_json(text)
    except ValueError as exc:
        raise InvalidInput("taskMetadata", f"is not valid JSON ({exc})") from exc
    if not isinstance(metadata, dict):
        raise InvalidInput("taskMetadata", "must be a JSON string holding an object")
    refuse_nul(metadata, "taskMetadata")
    return metadata


def flatten_messages(task: ChatTask) -> list[LegacyMessage]:
    """Flatten a task's bubbles into the incumbent's legacy message list."""
    agent_name = str(task.metadata().get("agent_name") or task.metadata().get("agentName") or "agent")
    messages = []
    for index, bubble in enumerate(json.loads(task.message_bubbles)):
        if not isinstance(bubble, dict):
            bubble = {"text": bubble}
        sender = str(bubble.get("type") or bubble.get("senderType") or "agent")
        text = bubble.get("text", bubble.get("message", ""))
        messages.append(
            LegacyMessage(
                id=str(bubble.get("id") or f"{task.id}-{index}"),
                session_id=task.session_id,
                message=text if isinstance(text, str) else json.dumps(text),
                sender_type=sender,
                sender_name=task.user_id if sender == "user" else agent_name,
                message_type=str(bubble.get("messageType") or "text"),
                created_time=task.created_time,
            )
        )
    return messages
