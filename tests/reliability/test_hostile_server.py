"""Hostile input against real server processes on SQLite and PostgreSQL: every case is a 4xx
problem+json (never a 5xx), and the server's log holds no traceback and none of what was sent.

tests/reliability/test_hostile_input.py covers the request shapes in-process; this covers what
reaches the database (over-long ids, numbers past what a column holds, odd preconditions) and
bytes no HTTP client library will send (raw sockets).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.databases import fresh_database
from tests.e2e.server import Server

MARK = "USERTEXT"  # in every body: the log must never show it
LONG = "x" * 10_000
HUGE = 99_999_999_999_999_999_999  # 20 digits
EV = "/api/v1/agents/a/sessions/s1/events"
EVENT: dict[str, Any] = {"invocationId": "i", "author": "a", "content": {"parts": [{"text": MARK}]}}


def event(**fields: Any) -> dict[str, Any]:
    return {**EVENT, **fields}


# (name, method, path, json body, extra headers)
CASES: list[tuple[str, str, str, Any, dict[str, str]]] = [
    ("long session id: read", "GET", f"/api/v1/sessions/{LONG}", None, {}),
    ("long session id: rename", "PATCH", f"/api/v1/sessions/{LONG}", {"name": MARK}, {}),
    ("long session id: delete", "DELETE", f"/api/v1/sessions/{LONG}", None, {}),
    (
        "long session id: save",
        "POST",
        f"/api/v1/sessions/{LONG}/chat-tasks",
        {"taskId": "t", "messageBubbles": "[1]"},
        {},
    ),
    ("long session id: history", "GET", f"/api/v1/sessions/{LONG}/chat-tasks", None, {}),
    ("long session id: messages", "GET", f"/api/v1/sessions/{LONG}/messages", None, {}),
    ("long session id: create", "POST", "/api/v1/sessions", {"id": LONG, "name": MARK}, {}),
    ("long task id", "POST", "/api/v1/sessions/s1/chat-tasks", {"taskId": LONG, "messageBubbles": "[1]"}, {}),
    ("long feedback ids", "POST", "/api/v1/feedback", {"taskId": LONG, "sessionId": LONG, "feedbackType": "up"}, {}),
    ("long agent session id: create", "POST", "/api/v1/agents/a/sessions", {"sessionId": LONG}, {}),
    ("long agent session id: read", "GET", f"/api/v1/agents/a/sessions/{LONG}", None, {}),
    ("long agent session id: append", "POST", f"/api/v1/agents/a/sessions/{LONG}/events", EVENT, {}),
    ("long agent session id: events", "GET", f"/api/v1/agents/a/sessions/{LONG}/events", None, {}),
    ("long agent session id: delete", "DELETE", f"/api/v1/agents/a/sessions/{LONG}", None, {}),
    ("long event id", "POST", EV, event(id=LONG), {}),
    ("long run session id", "POST", "/api/v1/agents/a/runs", {"sessionId": LONG}, {}),
    ("long run id", "POST", f"/api/v1/agents/a/runs/{LONG}/end", None, {}),
    ("long agent name", "GET", f"/api/v1/agents/{LONG}/sessions", None, {}),
    ("20-digit page number", "GET", f"/api/v1/sessions?pageNumber={HUGE}", None, {}),
    ("20-digit page size", "GET", f"/api/v1/sessions?pageSize={HUGE}", None, {}),
    ("20-digit history limit", "GET", f"/api/v1/sessions/s1/chat-tasks?limit={HUGE}", None, {}),
    ("20-digit feedback page", "GET", f"/api/v1/feedback?page={HUGE}", None, {}),
    ("20-digit feedback page size", "GET", f"/api/v1/feedback?page_size={HUGE}", None, {}),
    ("year 99999 feedback start", "GET", "/api/v1/feedback?start_date=99999-01-01", None, {}),
    ("20-digit numRecentEvents", "GET", f"/api/v1/agents/a/sessions/s1?numRecentEvents={HUGE}", None, {}),
    ("20-digit afterTimestamp", "GET", f"/api/v1/agents/a/sessions/s1?afterTimestamp={HUGE}", None, {}),
    ("-20-digit afterTimestamp", "GET", f"/api/v1/agents/a/sessions/s1?afterTimestamp=-{HUGE}", None, {}),
    ("20-digit afterSequence", "GET", f"{EV}?afterSequence={HUGE}", None, {}),
    ("20-digit events limit", "GET", f"{EV}?limit={HUGE}", None, {}),
    ("20-digit event timestamp", "POST", EV, event(timestamp=HUGE), {}),
    ("1e20 event timestamp", "POST", EV, event(timestamp=1e20), {}),
    ("If-Match: two etags", "POST", EV, EVENT, {"If-Match": '"1", "2"'}),
    ("If-Match: 30-digit version", "POST", EV, EVENT, {"If-Match": '"' + "9" * 30 + '"'}),
    ("If-Match: negative", "POST", EV, EVENT, {"If-Match": '"-1"'}),
    (
        "metadata with NaN",
        "POST",
        "/api/v1/sessions/s1/chat-tasks",
        {"taskId": "t9", "messageBubbles": "[1]", "taskMetadata": '{"n": NaN}'},
        {},
    ),
    (
        "bubbles with Infinity",
        "POST",
        "/api/v1/sessions/s1/chat-tasks",
        {"taskId": "t9", "messageBubbles": "[Infinity]"},
        {},
    ),
    ("search query of 10,000 characters", "GET", f"/api/v1/sessions/search?query={LONG}", None, {}),
]
# Accepted on purpose (docs/agents.md): a weak ETag is compared as a strong one; `*` matches any version.
ALLOWED = [
    ("If-Match: weak", "POST", EV, EVENT, {"If-Match": 'W/"1"'}),
    ("If-Match: any", "POST", EV, EVENT, {"If-Match": "*"}),
]
# Bytes on the wire that no client library sends: (name, request head).
RAW = [
    ("non-ASCII cookie value", b"Cookie: session_store=\xff\xfe\xc3\x28abc\r\n"),
    ("non-ASCII cookie name", b"Cookie: \xff\xfe=\xc3\x28\r\n"),
    ("non-ASCII user header", b"X-User-Id: \xff\xfe\r\n"),
    ("non-ASCII bearer token", b"Authorization: Bearer \xff\xfe\r\n"),
    ("non-ASCII request id", b"X-Request-ID: \xff\xfe\r\n"),
    ("non-ASCII If-Match", b'If-Match: "\xff"\r\n'),
    ("Arabic-Indic digit in If-Match", b'If-Match: "\xd9\xa1"\r\n'),
]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp(f"hostile-{request.param}")
    with fresh_database(request.param) if request.param == "postgres" else _sqlite(directory) as url:
        config = directory / "c.yaml"
        config.write_text(
            f'session_service: {{type: sql, database_url: "{url}"}}\n'
            f'agents:\n  - name: a\n    session_service: {{type: sql, database_url: "{url}"}}\n'
        )
        running = Server(config, directory).start().wait_ready()
        try:
            with running.client("owner") as http:
                http.post("/api/v1/sessions", json={"id": "s1"}).raise_for_status()
                http.post("/api/v1/agents/a/sessions", json={"sessionId": "s1"}).raise_for_status()
            yield running
        finally:
            running.stop()


class _sqlite:
    def __init__(self, directory: Path) -> None:
        self.url = f"sqlite:///{directory / 'store.db'}"

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *_: object) -> None:
        return None


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) + len(ALLOWED) + len(RAW) >= 40


@pytest.mark.parametrize(("name", "method", "path", "body", "headers"), CASES, ids=[c[0] for c in CASES])
def test_a_hostile_request_is_a_4xx_problem(
    server: Server, name: str, method: str, path: str, body: Any, headers: dict[str, str]
) -> None:
    with server.client("owner") as http:
        answer = http.request(method, path, json=body, headers=headers)
    assert 400 <= answer.status_code < 500, (name, answer.status_code, answer.text[:200])
    assert answer.headers["content-type"].startswith("application/problem+json"), name
    assert LONG not in answer.text and MARK not in answer.text


@pytest.mark.parametrize(("name", "method", "path", "body", "headers"), ALLOWED, ids=[c[0] for c in ALLOWED])
def test_documented_odd_preconditions_are_answered(
    server: Server, name: str, method: str, path: str, body: Any, headers: dict[str, str]
) -> None:
    with server.client("owner") as http:
        assert http.request(method, path, json=body, headers=headers).status_code in (200, 201, 412), name


@pytest.mark.parametrize(("name", "header"), RAW, ids=[r[0] for r in RAW])
def test_raw_bytes_in_headers_are_never_a_5xx(server: Server, name: str, header: bytes) -> None:
    request = b"POST /api/v1/agents/a/sessions/s1/events HTTP/1.1\r\nHost: x\r\nX-Request-Source: test\r\n"
    body = json.dumps(EVENT).encode()
    request += header + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request)
        status = connection.recv(65536).split(b"\r\n", 1)[0]
    assert status.startswith(b"HTTP/1.1 ") and not status.startswith(b"HTTP/1.1 5"), (name, status)


def test_the_log_shows_no_traceback_and_nothing_that_was_sent(server: Server) -> None:
    for _, method, path, body, headers in CASES:
        with server.client("owner") as http:
            http.request(method, path, json=body, headers=headers)
    time.sleep(0.2)
    log = server.output()
    assert "Traceback" not in log and "unhandled error" not in log
    assert MARK not in log and LONG not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    refused = [line for line in lines if line.get("event") == "request" and 400 <= line.get("status", 0) < 500]
    assert len(refused) >= len(CASES)


@pytest.fixture(scope="module")
def jwt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("hostile-jwt")
    config = directory / "c.yaml"
    config.write_text(
        "session_service: {type: memory}\nagents: []\n"
        "auth:\n  mode: jwt\n  jwt: {secret: hostile-secret-of-32-characters!!}\n"
    )
    running = Server(config, directory).start().wait_ready()
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize(
    "claims",
    [{"scope": 12}, {"scope": {"a": 1}}, {"scp": [1, 2]}, {"sub": 42}, {"sub": LONG}, {"sub": ""}, {"exp": "soon"}],
    ids=["numeric scope", "object scope", "numeric scp list", "numeric sub", "long sub", "empty sub", "string exp"],
)
def test_odd_claims_are_a_401(jwt_server: Server, claims: dict[str, Any]) -> None:
    token = jwt.encode({"sub": "u1", "exp": int(time.time()) + 60, **claims}, "hostile-secret-of-32-characters!!")
    answer = httpx.get(f"{jwt_server.url}/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code in (400, 401), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in jwt_server.output()
