"""Bad input answers a problem+json 4xx that names the field; never a 500, never a half-write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from app.factory import create_app
from app.stores import migrate_all
from tests.api.conftest import app_config

Client = TestClient  # type: ignore[type-arg]
BUBBLES = json.dumps([{"type": "agent", "text": "ok"}])
TASKS = "/api/v1/sessions/s1/chat-tasks"


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/sessions", {"name": ""}, "name"),
        ("POST", "/api/v1/sessions", {"name": "x" * 256}, "name"),
        ("POST", "/api/v1/sessions", {"name": 42}, "name"),
        ("POST", "/api/v1/sessions", {"id": "a/b"}, "id"),
        ("POST", TASKS, {"messageBubbles": BUBBLES}, "taskId"),
        ("POST", TASKS, {"taskId": "t1", "messageBubbles": "[]"}, "messageBubbles"),
        ("POST", TASKS, {"taskId": "t1", "messageBubbles": '{"a": 1}'}, "messageBubbles"),
        ("POST", TASKS, {"taskId": "t1", "messageBubbles": "nope"}, "messageBubbles"),
        ("POST", TASKS, {"taskId": "t1", "messageBubbles": 7}, "messageBubbles"),
        ("POST", TASKS, {"taskId": "t1", "messageBubbles": BUBBLES, "taskMetadata": "[1]"}, "taskMetadata"),
        ("POST", TASKS, {"taskId": "../t1", "messageBubbles": BUBBLES}, "taskId"),
        ("POST", "/api/v1/feedback", {"taskId": "t", "sessionId": "s", "feedbackType": "meh"}, "feedbackType"),
        ("GET", "/api/v1/sessions?pageSize=0", None, "pageSize"),
        ("GET", "/api/v1/sessions?pageSize=101", None, "pageSize"),
        ("GET", "/api/v1/sessions?pageNumber=0", None, "pageNumber"),
        ("GET", "/api/v1/sessions?pageNumber=abc", None, "pageNumber"),
        ("GET", "/api/v1/sessions?cursor=garbage", None, "cursor"),
        ("GET", f"{TASKS}?limit=0", None, "limit"),
        ("GET", "/api/v1/sessions/search?query=", None, "query"),
    ],
)
def test_bad_values_name_their_field(client: Client, method: str, path: str, body: Any, field: str) -> None:
    response = client.request(method, path, json=body) if body is not None else client.request(method, path)
    details = problem(response, 422)  # the gateway's answer to every invalid field
    assert field in details["detail"]
    assert client.get("/api/v1/sessions").json()["data"] == []


@pytest.mark.parametrize("raw", [b'{"name": "x"', b"not json", b"\xff\xfe", b'{"name": "a\x00b"'])
def test_malformed_json_is_a_422(client: Client, raw: bytes) -> None:
    response = client.post("/api/v1/sessions", content=raw, headers={"content-type": "application/json"})
    problem(response, 422)
    assert client.get("/api/v1/sessions").json()["data"] == []


def test_a_bad_user_header_is_a_400(client: Client) -> None:
    assert "X-User-Id" in problem(client.get("/api/v1/sessions", headers={"X-User-Id": "a/b"}), 400)["detail"]


def test_unknown_ids_are_404(client: Client) -> None:
    problem(client.get("/api/v1/sessions/nope"), 404)
    problem(client.get("/api/v1/sessions/nope/chat-tasks"), 404)
    problem(client.delete("/api/v1/sessions/nope"), 404)
    problem(client.get("/api/v1/no-such-route"), 404)


def test_a_taken_session_id_is_a_409(client: Client) -> None:
    client.post("/api/v1/sessions", json={"id": "s1"})
    problem(client.post("/api/v1/sessions", json={"id": "s1"}), 409)


def test_a_body_over_the_limit_is_a_413(tmp_path: Path) -> None:
    config = app_config("sqlite", tmp_path, max_body_size=64 * 1024)
    migrate_all(config)
    with TestClient(create_app(config)) as client:
        big = json.dumps([{"type": "agent", "text": "x" * 100_000}])
        response = client.post(TASKS, json={"taskId": "t1", "messageBubbles": big})
        problem(response, 413)
        assert client.get("/api/v1/sessions").json()["data"] == []
        client.post("/api/v1/sessions", json={"id": "s1"})
        small = client.post(TASKS, json={"taskId": "t1", "messageBubbles": BUBBLES})
        assert small.status_code == 201


def test_an_import_is_read_line_by_line_beyond_the_body_limit_and_stops_at_its_own(tmp_path: Path) -> None:
    config = app_config("sqlite", tmp_path, max_body_size=64 * 1024, max_import_size=512 * 1024)
    migrate_all(config)
    ndjson = {"content-type": "application/x-ndjson"}

    def state(user: int) -> bytes:  # 1 KiB a line
        record = {"kind": "userState", "agent": "agent-a", "state": {"note": "n" * 1000, "n": user}}
        return json.dumps(record).encode()

    with TestClient(create_app(config)) as client:
        whole = b"\n".join(state(n) for n in range(300))  # 300 KiB: over the body limit, under the import's
        imported = client.post("/api/v1/users/me/import", content=whole, headers=ndjson)
        assert imported.status_code == 200, imported.text
        assert imported.json()["added"] == {"userState": 300}  # every line read and applied

        def chunked(body: bytes) -> Any:  # no content-length: the limit is counted as it arrives
            yield from (body[i : i + 16384] for i in range(0, len(body), 16384))

        too_big = b"\n".join(state(n) for n in range(600))
        for body in (too_big, chunked(too_big)):
            refused = problem(client.post("/api/v1/users/me/import", content=body, headers=ndjson), 413)
            assert "server.max_import_size" in refused["detail"]
        long_line = b"\n".join([state(1), json.dumps({"kind": "userState", "x": "y" * 100_000}).encode()])
        refused = problem(client.post("/api/v1/users/me/import", content=long_line, headers=ndjson), 413)
        assert "line 2 is over server.max_body_size" in refused["detail"]


def test_the_default_body_limit_is_10_mib(client: Client) -> None:
    text = "x" * (10 * 1024 * 1024)
    problem(client.post(TASKS, json={"taskId": "t1", "messageBubbles": json.dumps([text])}), 413)
    near = "y" * (9 * 1024 * 1024)
    client.post("/api/v1/sessions", json={"id": "s1"})
    assert client.post(TASKS, json={"taskId": "t1", "messageBubbles": json.dumps([near])}).status_code == 201
