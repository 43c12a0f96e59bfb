"""The gateway store's entities: what the web UI shows after a refresh or a restart."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.errors import InvalidInput
from domain.paging import SortKey

MAX_NAME_LENGTH = 255
# Ids travel in URL paths and log lines: keep them to a character set that needs no escaping.
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,254}")


def check_id(field: str, value: str) -> str:
    if not _ID_PATTERN.fullmatch(value):
        raise InvalidInput(
            field, "must be 1-255 characters of letters, digits and . _ : @ -, starting with a letter or digit"
        )
    return value


def check_name(field: str, value: str) -> str:
    if not value.strip():
        raise InvalidInput(field, "must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(field, f"must be at most {MAX_NAME_LENGTH} characters")
    return value


def new_session_id() -> str:
    return f"web-session-{uuid.uuid4().hex}"


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

    @property
    def sort_key(self) -> SortKey:
        return SortKey(self.updated_time, self.id)


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
    def sort_key(self) -> SortKey:
        return SortKey(self.created_time, self.id)

    def metadata(self) -> dict[str, Any]:
        return json.loads(self.task_metadata) if self.task_metadata else {}


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
class LegacyMessage:
    """One bubble of a task, flattened: the shape of the incumbent's `/messages` view."""

    id: str
    session_id: str
    message: str
    sender_type: str
    sender_name: str
    message_type: str
    created_time: int


def parse_bubbles(text: str) -> list[Any]:
    """The UI sends bubbles as a JSON string; it must hold a non-empty array."""
    try:
        bubbles = json.loads(text)
    except ValueError as exc:
        raise InvalidInput("messageBubbles", f"is not valid JSON ({exc})") from exc
    if not isinstance(bubbles, list) or not bubbles:
        raise InvalidInput("messageBubbles", "must be a JSON string holding a non-empty array")
    return bubbles


def parse_metadata(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        metadata = json.loads(text)
    except ValueError as exc:
        raise InvalidInput("taskMetadata", f"is not valid JSON ({exc})") from exc
    if not isinstance(metadata, dict):
        raise InvalidInput("taskMetadata", "must be a JSON string holding an object")
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
