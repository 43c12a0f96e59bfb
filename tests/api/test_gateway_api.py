"""The gateway API through HTTP: the incumbent's wire format, and better where it was weak."""

from __future__ import annotations

import json
from typing import Any

from litestar.testing import TestClient

from tests.api.test_webui_contract import SESSION_KEYS

BUBBLES = json.dumps([{"type": "user", "text": "hi"}, {"type": "agent", "text": "hello there"}])
Client = TestClient  # type: ignore[type-arg]


def save_task(client: Client, session_id: str, task_id: str, user: str = "alice", **extra: Any) -> Any:
    """Save into the user's session `session_id`, made first when missing (as the gateway makes it on
    the first message)."""
    headers = {"X-User-Id": user}
    if client.get(f"/api/v1/sessions/{session_id}", headers=headers).status_code == 404:
        client.post("/api/v1/sessions", json={"id": session_id}, headers=headers)
    body = {"taskId": task_id, "messageBubbles": BUBBLES, "userMessage": "hi", **extra}
    return client.post(f"/api/v1/sessions/{session_id}/chat-tasks", json=body, headers=headers)


def test_create_read_list_rename_delete(client: Client) -> None:
    created = client.post("/api/v1/sessions", json={"name": "Trip", "agentId": "agent-a"})
    assert created.status_code == 201
    session = created.json()["data"]
    # Mode none, no X-User-Id: an anonymous user, remembered by the signed cookie the client keeps.
    assert session["id"].startswith("web-session-") and session["userId"].startswith("anon-")
    assert "session_store" in client.cookies
    assert list(session) == SESSION_KEYS  # the gateway's SessionResponse, in its order
    assert isinstance(session["createdTime"], int) and session["createdTime"] > 1_700_000_000_000

    assert client.get(f"/api/v1/sessions/{session['id']}").json() == {"data": session}
    listed = client.get("/api/v1/sessions").json()
    assert [s["id"] for s in listed["data"]] == [session["id"]]
    assert listed["meta"]["pagination"] == {
        "pageNumber": 1,
        "pageSize": 20,
        "count": 1,
        "nextPage": None,
        "totalPages": 1,
        "nextCursor": None,
    }
    renamed = client.patch(f"/api/v1/sessions/{session['id']}", json={"name": "Lisbon"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Lisbon"
    assert client.delete(f"/api/v1/sessions/{session['id']}").status_code == 204
    gone = client.get(f"/api/v1/sessions/{session['id']}")
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("application/problem+json")


def test_chat_history_round_trip_as_the_web_ui_sends_it(client: Client) -> None:
    first = save_task(client, "web-session-abc", "task-1", taskMetadata=json.dumps({"agent_name": "helper"}))
    assert first.status_code == 201
    assert set(first.json()) == {
        "taskId",
        "sessionId",
        "userMessage",
        "messageBubbles",
        "taskMetadata",
        "createdTime",
        "updatedTime",
    }
    again = save_task(client, "web-session-abc", "task-1", messageBubbles=json.dumps([{"type": "agent", "text": "v2"}]))
    assert again.status_code == 200
    save_task(client, "web-session-abc", "task-2")
    history = client.get("/api/v1/sessions/web-session-abc/chat-tasks", headers={"X-User-Id": "alice"}).json()
    assert [t["taskId"] for t in history["tasks"]] == ["task-1", "task-2"]
    assert json.loads(history["tasks"][0]["messageBubbles"]) == [{"type": "agent", "text": "v2"}]
    messages = client.get("/api/v1/sessions/web-session-abc/messages", headers={"X-User-Id": "alice"}).json()
    assert [m["message"] for m in messages] == ["v2", "hi", "hello there"]
    assert set(messages[0]) == {"id", "sessionId", "message", "senderType", "senderName", "messageType", "createdTime"}


def test_history_pages_with_limit_and_cursor(client: Client) -> None:
    for i in range(5):
        save_task(client, "s1", f"t{i}")
    page = client.get("/api/v1/sessions/s1/chat-tasks?limit=2", headers={"X-User-Id": "alice"}).json()
    ids = [t["taskId"] for t in page["tasks"]]
    while page["nextCursor"]:
        page = client.get(
            f"/api/v1/sessions/s1/chat-tasks?limit=2&cursor={page['nextCursor']}", headers={"X-User-Id": "alice"}
        ).json()
        ids += [t["taskId"] for t in page["tasks"]]
    assert ids == [f"t{i}" for i in range(5)]


def test_sessions_page_by_number_and_by_cursor(client: Client) -> None:
    for i in range(5):
        client.post("/api/v1/sessions", json={"id": f"s{i}"})
    second = client.get("/api/v1/sessions?pageNumber=2&pageSize=2").json()
    assert [s["id"] for s in second["data"]] == ["s2", "s1"]
    assert second["meta"]["pagination"]["nextPage"] == 3 and second["meta"]["pagination"]["totalPages"] == 3
    seen, cursor = [], None
    while True:
        url = "/api/v1/sessions?pageSize=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).json()
        seen += [s["id"] for s in page["data"]]
        cursor = page["meta"]["pagination"]["nextCursor"]
        if not cursor:
            break
    assert seen == ["s4", "s3", "s2", "s1", "s0"]


def test_search_covers_names_only(client: Client) -> None:
    client.post("/api/v1/sessions", json={"id": "named", "name": "Lisbon trip"}, headers={"X-User-Id": "alice"})
    save_task(client, "talked", "t1", userMessage="weather in LISBON?")
    client.post("/api/v1/sessions", json={"id": "bobs", "name": "lisbon"}, headers={"X-User-Id": "bob"})
    found = client.get("/api/v1/sessions/search?query=lisbon", headers={"X-User-Id": "alice"}).json()
    assert [s["id"] for s in found["data"]] == ["named"]
    assert client.get("/api/v1/sessions/search").status_code == 422


def test_every_query_is_scoped_to_the_caller(client: Client) -> None:
    save_task(client, "alices", "t1", user="alice")
    bob = {"X-User-Id": "bob"}
    assert client.get("/api/v1/sessions", headers=bob).json()["data"] == []
    for method, path in [
        ("GET", "/api/v1/sessions/alices"),
        ("PATCH", "/api/v1/sessions/alices"),
        ("DELETE", "/api/v1/sessions/alices"),
        ("GET", "/api/v1/sessions/alices/chat-tasks"),
        ("GET", "/api/v1/sessions/alices/messages"),
        ("POST", "/api/v1/sessions/alices/chat-tasks"),
    ]:
        body = {"name": "x"} if method == "PATCH" else {"taskId": "t9", "messageBubbles": BUBBLES}
        response = client.request(method, path, headers=bob, json=body if method in ("PATCH", "POST") else None)
        # A save answers someone else's session as a missing one: 422, the gateway's answer.
        assert response.status_code == (422 if method == "POST" else 404), (method, path)
        assert "userId" not in response.text and "hi" not in response.json()["detail"]
    stolen = save_task(client, "bobs", "t1", user="bob", userMessage="overwrite")
    assert stolen.status_code == 409
    history = client.get("/api/v1/sessions/alices/chat-tasks", headers={"X-User-Id": "alice"}).json()
    assert [t["userMessage"] for t in history["tasks"]] == ["hi"]


def test_feedback_is_recorded_listed_and_merged(client: Client) -> None:
    save_task(client, "s1", "t1")
    alice = {"X-User-Id": "alice"}
    body = {"taskId": "t1", "sessionId": "s1", "feedbackType": "up", "feedbackText": "great"}
    recorded = client.post("/api/v1/feedback", json=body, headers=alice)
    assert recorded.status_code == 202 and recorded.json() == {"status": "feedback received"}
    listed = client.get("/api/v1/feedback?rating=up", headers=alice).json()
    assert [(f["task_id"], f["rating"], f["comment"]) for f in listed] == [("t1", "up", "great")]
    task = client.get("/api/v1/sessions/s1/chat-tasks", headers=alice).json()["tasks"][0]
    assert json.loads(task["taskMetadata"])["feedback"] == {"type": "up", "text": "great", "submitted": True}
    # Bob's feedback on alice's task is kept as his, as the gateway keeps it, and never reaches her task.
    assert (
        client.post("/api/v1/feedback", json={**body, "feedbackType": "down"}, headers={"X-User-Id": "bob"}).status_code
        == 202
    )
    task = client.get("/api/v1/sessions/s1/chat-tasks", headers=alice).json()["tasks"][0]
    assert json.loads(task["taskMetadata"])["feedback"]["type"] == "up"
    assert [f["user_id"] for f in client.get("/api/v1/feedback", headers={"X-User-Id": "bob"}).json()] == ["bob"]


def test_deleting_a_session_removes_its_tasks_and_feedback(client: Client) -> None:
    alice = {"X-User-Id": "alice"}
    save_task(client, "s1", "t1")
    client.post("/api/v1/feedback", json={"taskId": "t1", "sessionId": "s1", "feedbackType": "down"}, headers=alice)
    assert client.delete("/api/v1/sessions/s1", headers=alice).status_code == 204
    assert client.get("/api/v1/feedback", headers=alice).json() == []
    assert save_task(client, "s2", "t1").status_code == 201  # the task id is free: nothing was left behind


def test_platform_routes_answer_501_naming_the_variable(client: Client) -> None:
    for path in ("/api/v1/platform/agents", "/api/v1/platform/connectors/c1", "/api/v1/platform/deployments"):
        response = client.get(path)
        assert response.status_code == 501
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "PLATFORM_DATABASE_URL" in response.json()["detail"]
    assert client.post("/api/v1/platform/agents", json={"name": "a"}).status_code == 501


def test_health_and_readiness(client: Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["stores"]["gateway"]["reachable"] is True
    assert {name: a["reachable"] for name, a in ready.json()["agents"].items()} == {"agent-a": True, "agent-b": True}


def test_responses_carry_a_request_id(client: Client) -> None:
    assert len(client.get("/health").headers["x-request-id"]) == 32
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
