"""Examples of the gateway routes' requests and answers, as the WebUI sends and reads them, for the
OpenAPI document (each route shows one request and one answer)."""

from __future__ import annotations

import json
from typing import Any

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body

# The element shape of `messageBubbles` (the UI's serializeChatMessage): kept verbatim, keys the UI
# adds later included; `type` and `text` are what the legacy message view and search read.
BUBBLE_SCHEMA: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "`msg-<uuid>`"},
            "type": {"type": "string", "enum": ["user", "agent"]},
            "text": {"type": "string", "description": "What the bubble shows; may embed `«artifact_return:<name>»`."},
            "parts": {"type": "array", "items": {"type": "object"}},
            "uploadedFiles": {"type": "array", "items": {"type": "object"}},
            "attachedArtifacts": {"type": "array", "items": {"type": "object"}},
            "isError": {"type": "boolean"},
            "displayHtml": {"type": "string"},
            "contextQuote": {"type": "string"},
            "contextQuoteSourceId": {"type": "string"},
            "progressUpdates": {"type": "array", "items": {}},
            "thinkingContent": {"type": "string"},
            "isThinkingComplete": {"type": "boolean"},
        },
        "additionalProperties": True,
    },
}
BUBBLES_TEXT: dict[str, Any] = {
    "description": "A JSON string holding a non-empty array of the UI's message bubbles (`contentSchema`), "
    "kept verbatim.",
    "extra": {"contentMediaType": "application/json", "contentSchema": BUBBLE_SCHEMA},
}

NOW = 1_764_057_600_123
BUBBLES = json.dumps(
    [
        {"id": "msg-1f0e", "type": "user", "text": "How warm is Lisbon in May?", "parts": [{"kind": "text"}]},
        {"id": "msg-2a9c", "type": "agent", "text": "Around 22 °C in the afternoon.", "parts": [{"kind": "text"}]},
    ],
    ensure_ascii=False,
)
METADATA = json.dumps({"schema_version": 1, "status": "completed", "agent_name": "OrchestratorAgent"})
SESSION: dict[str, Any] = {
    "id": "web-session-5f1c",
    "userId": "ana",
    "name": "Lisbon weather",
    "agentId": "OrchestratorAgent",
    "projectId": None,
    "projectName": None,
    "source": "chat",
    "hasRunningBackgroundTask": False,
    "scheduledTaskId": None,
    "scheduledTaskName": None,
    "createdTime": NOW,
    "updatedTime": NOW + 63_000,
    "lastViewedAt": NOW + 70_000,
}
PAGINATION = {"pageSize": 20, "pageNumber": 1, "count": 1, "nextPage": None, "totalPages": 1, "nextCursor": None}
TASK: dict[str, Any] = {
    "taskId": "task-7c2d",
    "sessionId": "web-session-5f1c",
    "userMessage": "How warm is Lisbon in May?",
    "messageBubbles": BUBBLES,
    "taskMetadata": METADATA,
    "createdTime": NOW + 1_000,
    "updatedTime": NOW + 63_000,
}
MESSAGE = {
    "id": "msg-2a9c",
    "sessionId": "web-session-5f1c",
    "message": "Around 22 °C in the afternoon.",
    "senderType": "agent",
    "senderName": "OrchestratorAgent",
    "messageType": "text",
    "createdTime": NOW + 1_000,
}
FEEDBACK = {
    "id": "3b8e0f",
    "session_id": "web-session-5f1c",
    "task_id": "task-7c2d",
    "user_id": "ana",
    "rating": "down",
    "comment": "too vague",
    "created_time": NOW + 90_000,
}
HIT = {
    "sessionId": "web-session-5f1c",
    "sessionName": "Lisbon weather",
    "taskId": "task-7c2d",
    "snippet": "How warm is <mark>Lisbon</mark> in May?",
    "createdTime": NOW + 1_000,
}

# Request bodies, by route.
SESSION_CREATE = {"id": "web-session-5f1c", "agentId": "OrchestratorAgent", "name": "Lisbon weather"}
RENAME = {"name": "Lisbon weather"}
MOVE = {"projectId": "proj-42"}
TASK_SAVE = {"taskId": "task-7c2d", "userMessage": "How warm is Lisbon in May?", "messageBubbles": BUBBLES,
             "taskMetadata": METADATA}  # fmt: skip
FEEDBACK_CREATE = {"taskId": "task-7c2d", "sessionId": "web-session-5f1c", "feedbackType": "down",
                   "feedbackText": "too vague"}  # fmt: skip


def body(value: Any, summary: str = "As the WebUI sends it") -> Any:
    """A request body parameter (JSON) with its example."""
    return Body(examples=[Example(summary=summary, value=value)])


def answer(data: Any, value: Any, description: str, status: int = 200) -> dict[int, ResponseSpec]:
    """The success answer of a route, with its example."""
    example = Example(summary="As the WebUI reads it", value=value)
    return {status: ResponseSpec(data, description=description, examples=[example], generate_examples=False)}
