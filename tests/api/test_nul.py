"""A NUL character (U+0000) anywhere in what a client sends is a 422 naming the field, and nothing is
written: PostgreSQL cannot store one in text or jsonb, and one user's NUL must never break the rows
other users share (an agent's `app:` state). The rule is kept at the edge, for every backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from app.factory import create_app
from app.stores import migrate_all
from infrastructure.config.model import AgentConfig, Config, SessionServiceConfig, StoreType
from tests.conftest import GATEWAY_TABLES, empty_tables, migrated_url

Client = TestClient  # type: ignore[type-arg]
ALICE, BOB = {"X-User-Id": "alice"}, {"X-User-Id": "bob"}
BUBBLES = json.dumps([{"type": "agent", "text": "hi"}])
A = "/api/v1/agents/agent-a"


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Client]:
    if request.param == "memory":
        gateway = agent = SessionServiceConfig(StoreType.MEMORY)
    elif request.param == "sqlite":
        gateway = SessionServiceConfig(StoreType.SQL, f"sqlite:///{tmp_path / 'g.db'}")
        agent = SessionServiceConfig(StoreType.SQL, f"sqlite:///{tmp_path / 'a.db'}")
    else:
        gateway = SessionServiceConfig(StoreType.SQL, migrated_url(request, "postgres", "gateway"))
        agent = SessionServiceConfig(StoreType.SQL, migrated_url(request, "postgres", "agent"))
    config = Config(session_service=gateway, agents=[AgentConfig("agent-a", agent)])
    migrate_all(config)
    with TestClient(create_app(config)) as test_client:
        yield test_client
    if request.param == "postgres":
        empty_tables(str(gateway.database_url), *GATEWAY_TABLES)
        empty_tables(str(agent.database_url), "agent_events", "agent_sessions", "agent_app_states", "agent_user_states")


def refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["invalid-params"][0]["name"] == field


def test_nul_in_any_gateway_field_is_refused_and_nothing_is_written(client: Client) -> None:
    assert client.post("/api/v1/sessions", json={"id": "s1", "name": "ok"}, headers=ALICE).status_code == 201
    refused(client.post("/api/v1/sessions", json={"id": "s2", "name": "a\u0000b"}, headers=ALICE), "name")
    refused(client.patch("/api/v1/sessions/s1", json={"name": "x\u0000"}, headers=ALICE), "name")
    bad_bubbles = json.dumps([{"type": "agent", "text": "a\u0000"}])
    task = {"taskId": "t1", "messageBubbles": bad_bubbles}
    refused(client.post("/api/v1/sessions/s1/chat-tasks", json=task, headers=ALICE), "messageBubbles[0].text")
    bubbles_as_array = {"taskId": "t1", "messageBubbles": [{"type": "agent", "text": "\u0000"}]}
    as_array = client.post("/api/v1/sessions/s1/chat-tasks", json=bubbles_as_array, headers=ALICE)
    refused(as_array, "messageBubbles[0].text")
    metadata = {"taskId": "t1", "messageBubbles": BUBBLES, "taskMetadata": json.dumps({"k\u0000": 1})}
    refused(client.post("/api/v1/sessions/s1/chat-tasks", json=metadata, headers=ALICE), "taskMetadata.k\\u0000")
    user_message = {"taskId": "t1", "messageBubbles": BUBBLES, "userMessage": "\u0000"}
    refused(client.post("/api/v1/sessions/s1/chat-tasks", json=user_message, headers=ALICE), "userMessage")
    refused(client.get("/api/v1/sessions/search", params={"query": "a\u0000"}, headers=ALICE), "query")
    # Nothing was written, and the session still takes a normal update.
    assert client.get("/api/v1/sessions/s1/chat-tasks", headers=ALICE).json()["tasks"] == []
    assert client.patch("/api/v1/sessions/s1", json={"name": "renamed"}, headers=ALICE).status_code == 200
    assert client.get("/api/v1/sessions", headers=ALICE).json()["meta"]["pagination"]["count"] == 1


def test_one_users_nul_never_breaks_the_state_other_users_share(client: Client) -> None:
    for user in (ALICE, BOB):
        assert client.post(f"{A}/sessions", json={"sessionId": "s"}, headers=user).status_code == 201
    poisoned = {"invocationId": "i", "author": "user", "actions": {"stateDelta": {"app:x": "\u0000"}}}
    refused(client.post(f"{A}/sessions/s/events", json=poisoned, headers=ALICE), "actions.stateDelta.app:x")
    in_a_key = {"invocationId": "i", "author": "user", "actions": {"stateDelta": {"app:\u0000": 1}}}
    refused(client.post(f"{A}/sessions/s/events", json=in_a_key, headers=ALICE), "actions.stateDelta.app:\\u0000")
    with_state = client.post(f"{A}/sessions", json={"sessionId": "t", "state": {"k": ["\u0000"]}}, headers=ALICE)
    refused(with_state, "state.k[0]")
    fine = {"invocationId": "i", "author": "user", "actions": {"stateDelta": {"app:x": "shared"}}}
    assert client.post(f"{A}/sessions/s/events", json=fine, headers=BOB).status_code == 201
    bobs = client.get(f"{A}/sessions/s", headers=BOB).json()
    assert bobs["state"] == {"app:x": "shared"} and len(bobs["events"]) == 1
    assert client.get(f"{A}/sessions/s", headers=ALICE).json()["events"] == []


def test_an_import_line_with_a_nul_is_refused_by_its_number(client: Client) -> None:
    ndjson = {**ALICE, "content-type": "application/x-ndjson"}
    session = {"kind": "session", "id": "s1", "name": None, "agentId": None, "projectId": None, "projectName": None}
    session |= {"userId": "alice", "source": "chat", "hasRunningBackgroundTask": False, "scheduledTaskId": None}
    session |= {"scheduledTaskName": None, "createdTime": 1, "updatedTime": 2, "lastViewedAt": None}
    lines = [json.dumps(session), json.dumps({**session, "id": "s2", "name": "a\u0000b"})]
    answer = client.post("/api/v1/users/me/import", content="\n".join(lines).encode(), headers=ndjson)
    assert answer.status_code == 422, answer.text
    assert answer.json()["invalid-params"][0]["name"] == "line 2"
    assert "name" in answer.json()["detail"] and "NUL" in answer.json()["detail"]
    listed = client.get("/api/v1/sessions", headers=ALICE).json()["data"]
    assert [s["id"] for s in listed] == ["s1"]  # the line before it is in, nothing of line 2


def test_a_nul_in_a_chunked_body_is_refused_too(client: Client) -> None:
    body = json.dumps({"id": "s2", "name": "a\u0000b"}).encode()

    def chunks() -> Iterator[bytes]:  # no content-length: the body's size is not known ahead
        yield from (body[:5], body[5:])

    refused(
        client.post("/api/v1/sessions", content=chunks(), headers={**ALICE, "content-type": "application/json"}), "name"
    )
    assert client.get("/api/v1/sessions", headers=ALICE).json()["data"] == []
