"""Hostile input through HTTP: every case answers a problem+json 4xx and changes nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from app.factory import create_app
from app.stores import migrate_all
from tests.api.conftest import app_config

Client = TestClient  # type: ignore[type-arg]
U = {"X-User-Id": "owner"}
JSON = {"content-type": "application/json", **U}
BUBBLES = json.dumps([{"type": "agent", "text": "kept"}])
TASKS = "/api/v1/sessions/s1/chat-tasks"
EVENTS = "/api/v1/agents/agent-a/sessions/s1/events"
DEEP = "[" * 10_000 + "]" * 10_000
HUGE = "x" * (11 * 1024 * 1024)

# (name, method, path, raw body or None, extra headers)
CASES: list[tuple[str, str, str, bytes | None, dict[str, str]]] = [
    ("truncated json", "POST", "/api/v1/sessions", b'{"name": "x"', JSON),
    ("not json", "POST", "/api/v1/sessions", b"name=x", JSON),
    ("empty body", "POST", TASKS, b"", JSON),
    ("json null", "POST", TASKS, b"null", JSON),
    ("json array", "POST", TASKS, b"[]", JSON),
    ("json string", "POST", TASKS, b'"task"', JSON),
    ("invalid utf-8", "POST", "/api/v1/sessions", b'{"name": "\xff\xfe"}', JSON),
    ("lone surrogate", "POST", "/api/v1/sessions", b'{"name": "\\ud800"}', JSON),
    ("nul byte in id", "POST", "/api/v1/sessions", b'{"id": "a\\u0000b"}', JSON),
    ("10,000-deep nesting", "POST", TASKS, f'{{"taskId": "t9", "messageBubbles": {DEEP}}}'.encode(), JSON),
    (
        "deep nesting in metadata",
        "POST",
        TASKS,
        f'{{"taskId": "t9", "messageBubbles": "[1]", "taskMetadata": {DEEP}}}'.encode(),
        JSON,
    ),
    ("11 MB string", "POST", TASKS, json.dumps({"taskId": "t9", "messageBubbles": HUGE}).encode(), JSON),
    ("11 MB name", "POST", "/api/v1/sessions", json.dumps({"name": HUGE}).encode(), JSON),
    (
        "wrong content type",
        "POST",
        TASKS,
        b'{"taskId": "t9", "messageBubbles": "[1]"}',
        {"content-type": "text/plain", **U},
    ),
    ("form content type", "POST", TASKS, b"taskId=t9", {"content-type": "application/x-www-form-urlencoded", **U}),
    ("number as name", "POST", "/api/v1/sessions", b'{"name": 12}', JSON),
    ("object as name", "POST", "/api/v1/sessions", b'{"name": {"$ne": 1}}', JSON),
    ("empty name", "POST", "/api/v1/sessions", b'{"name": ""}', JSON),
    ("256-char name", "PATCH", "/api/v1/sessions/s1", json.dumps({"name": "n" * 256}).encode(), JSON),
    ("bubbles not an array", "POST", TASKS, b'{"taskId": "t9", "messageBubbles": "{\\"a\\": 1}"}', JSON),
    ("bubbles empty array", "POST", TASKS, b'{"taskId": "t9", "messageBubbles": "[]"}', JSON),
    ("bubbles number", "POST", TASKS, b'{"taskId": "t9", "messageBubbles": 5}', JSON),
    ("metadata array", "POST", TASKS, b'{"taskId": "t9", "messageBubbles": "[1]", "taskMetadata": "[1]"}', JSON),
    ("task id with slash", "POST", TASKS, b'{"taskId": "../t1", "messageBubbles": "[1]"}', JSON),
    ("task id with sql", "POST", TASKS, b'{"taskId": "t1\' OR 1=1 --", "messageBubbles": "[1]"}', JSON),
    ("task id of 300 chars", "POST", TASKS, json.dumps({"taskId": "t" * 300, "messageBubbles": "[1]"}).encode(), JSON),
    ("task id emoji", "POST", TASKS, json.dumps({"taskId": "🔥", "messageBubbles": "[1]"}).encode(), JSON),
    ("session id with sql", "POST", "/api/v1/sessions", b'{"id": "s1; DROP TABLE sessions"}', JSON),
    ("session id path traversal", "GET", "/api/v1/sessions/..%2F..%2Fetc%2Fpasswd", None, U),
    ("session id with quote", "GET", "/api/v1/sessions/s1'--", None, U),
    ("huge page number", "GET", "/api/v1/sessions?pageNumber=99999999999999999999", None, U),
    ("negative page number", "GET", "/api/v1/sessions?pageNumber=-1", None, U),
    ("zero page size", "GET", "/api/v1/sessions?pageSize=0", None, U),
    ("huge page size", "GET", "/api/v1/sessions?pageSize=1000000", None, U),
    ("page size not a number", "GET", "/api/v1/sessions?pageSize=ten", None, U),
    ("forged cursor", "GET", "/api/v1/sessions?cursor=eyJhIjoxfQ", None, U),
    ("cursor garbage", "GET", "/api/v1/sessions?cursor=%00%01%02", None, U),
    ("negative limit", "GET", f"{TASKS}?limit=-5", None, U),
    ("user header with slash", "GET", "/api/v1/sessions", None, {"X-User-Id": "../admin"}),
    ("user header sql", "GET", "/api/v1/sessions", None, {"X-User-Id": "x' OR '1'='1"}),
    (
        "feedback type unknown",
        "POST",
        "/api/v1/feedback",
        b'{"taskId": "t1", "sessionId": "s1", "feedbackType": "meh"}',
        JSON,
    ),
    (
        "feedback on a 300-char task id",
        "POST",
        "/api/v1/feedback",
        json.dumps({"taskId": "t" * 300, "sessionId": "s1", "feedbackType": "up"}).encode(),
        JSON,
    ),
    ("feedback list with a bad date", "GET", "/api/v1/feedback?start_date=%27%20OR%201%3D1", None, U),
    ("sessions of an unknown source", "GET", "/api/v1/sessions?source=%27;DROP", None, U),
    ("project move without projectId", "PATCH", "/api/v1/sessions/s1/project", b'{"name": "x"}', JSON),
    (
        "project id of 300 chars",
        "PATCH",
        "/api/v1/sessions/s1/project",
        json.dumps({"projectId": "p" * 300}).encode(),
        JSON,
    ),
    (
        "import of garbage bytes",
        "POST",
        "/api/v1/users/me/import",
        b"\xff\xfe\x00{",
        {**JSON, "content-type": "application/x-ndjson"},
    ),
    (
        "import as text/plain",
        "POST",
        "/api/v1/users/me/import",
        b'{"kind": "session"}',
        {"content-type": "text/plain", **U},
    ),
    (
        "import of an event at a 20-digit time",
        "POST",
        "/api/v1/users/me/import",
        json.dumps(
            {
                "kind": "agentEvent",
                "agent": "agent-a",
                "sessionId": "s1",
                "id": "e9",
                "invocationId": "i",
                "author": "a",
                "timestamp": 10**20,
            }
        ).encode(),
        {**JSON, "content-type": "application/x-ndjson"},
    ),
    (
        "import of an agent session created at a 20-digit time",
        "POST",
        "/api/v1/users/me/import",
        json.dumps({"kind": "agentSession", "agent": "agent-a", "id": "s9", "createdTime": 10**20}).encode(),
        {**JSON, "content-type": "application/x-ndjson"},
    ),
    (
        "import of a session without its fields",
        "POST",
        "/api/v1/users/me/import",
        b'{"kind": "session", "id": "x"}',
        {**JSON, "content-type": "application/x-ndjson"},
    ),
    (
        "save into a session never made",
        "POST",
        "/api/v1/sessions/ghost/chat-tasks",
        b'{"taskId": "t9", "messageBubbles": "[1]"}',
        JSON,
    ),
    ("event without author", "POST", EVENTS, b'{"invocationId": "i"}', JSON),
    ("event actions not an object", "POST", EVENTS, b'{"invocationId": "i", "author": "a", "actions": "x"}', JSON),
    ("event negative timestamp", "POST", EVENTS, b'{"invocationId": "i", "author": "a", "timestamp": -1}', JSON),
    ("event stale if-match", "POST", EVENTS, b'{"invocationId": "i", "author": "a"}', {**JSON, "If-Match": '"99"'}),
    ("event bad if-match", "POST", EVENTS, b'{"invocationId": "i", "author": "a"}', {**JSON, "If-Match": "'; DROP"}),
    ("negative numRecentEvents", "GET", "/api/v1/agents/agent-a/sessions/s1?numRecentEvents=-3", None, U),
    ("unknown agent", "POST", "/api/v1/agents/..%2Fagent-b/sessions", b"{}", JSON),
    ("duplicate keys", "POST", TASKS, b'{"taskId": "t1", "taskId": "../x", "messageBubbles": "[1]"}', JSON),
]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    config = app_config("sqlite", tmp_path)
    migrate_all(config)
    with TestClient(create_app(config)) as test_client:
        test_client.post("/api/v1/sessions", json={"id": "s1"}, headers=U)
        test_client.post(TASKS, json={"taskId": "t1", "messageBubbles": BUBBLES, "userMessage": "kept"}, headers=U)
        test_client.post("/api/v1/agents/agent-a/sessions", json={"sessionId": "s1", "state": {"k": 1}}, headers=U)
        yield test_client


def snapshot(client: Client) -> dict[str, Any]:
    return {
        "sessions": client.get("/api/v1/sessions", headers=U).json()["data"],
        "tasks": client.get(TASKS, headers=U).json(),
        "agent": client.get("/api/v1/agents/agent-a/sessions/s1", headers=U).json(),
        "feedback": client.get("/api/v1/feedback", headers=U).json(),
        "ghost": client.get("/api/v1/sessions/ghost", headers=U).status_code,
    }


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(("name", "method", "path", "body", "headers"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input_is_a_4xx_problem_and_changes_nothing(
    client: Client, name: str, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> None:
    before = snapshot(client)
    response = client.request(method, path, content=body, headers=headers)
    assert 400 <= response.status_code < 500, (name, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json"), name
    assert response.json()["status"] == response.status_code
    assert snapshot(client) == before, name
