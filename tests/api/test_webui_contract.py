"""The gateway's session contract as the agent-mesh WebUI and the gateway's REST clients use it
(../shared/reference/webui-gateway-contract.md), on every backend: every field the UI reads, the
answers it tells apart (404, 422, 400), and the places where Session Store is stricter than the
gateway (another user's task id, feedback merged only into the caller's own task)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from litestar.testing import TestClient

Client = TestClient  # type: ignore[type-arg]
ALICE, BOB = {"X-User-Id": "alice"}, {"X-User-Id": "bob"}
BUBBLES = json.dumps([{"id": "msg-1", "type": "user", "text": "hi"}, {"id": "msg-2", "type": "agent", "text": "hello"}])
SESSION_KEYS = [
    "id",
    "userId",
    "name",
    "agentId",
    "projectId",
    "projectName",
    "source",
    "hasRunningBackgroundTask",
    "scheduledTaskId",
    "scheduledTaskName",
    "createdTime",
    "updatedTime",
    "lastViewedAt",
]


def create(client: Client, session_id: str, headers: dict[str, str] = ALICE, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/sessions", json={"id": session_id, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()["data"]
    return session


def save(client: Client, session_id: str, task_id: str, headers: dict[str, str] = ALICE, **fields: Any) -> Any:
    body = {"taskId": task_id, "messageBubbles": BUBBLES, "userMessage": "hi", **fields}
    return client.post(f"/api/v1/sessions/{session_id}/chat-tasks", json=body, headers=headers)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["detail"]
    return body


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["data"]]


# Sessions ---------------------------------------------------------------------------------------


def test_a_session_item_carries_every_field_the_ui_reads_the_same_everywhere(gateway_client: Client) -> None:
    client = gateway_client
    made = create(client, "s1", name="Trip", agentId="A", projectId="p1", projectName="Travel")
    assert list(made) == SESSION_KEYS
    assert (made["source"], made["hasRunningBackgroundTask"], made["lastViewedAt"]) == ("chat", False, None)
    assert (made["scheduledTaskId"], made["scheduledTaskName"], made["projectName"]) == (None, None, "Travel")
    assert isinstance(made["createdTime"], int) and made["createdTime"] == made["updatedTime"]
    scheduled = create(
        client,
        "s2",
        source="scheduler",
        scheduledTaskId="job-1",
        scheduledTaskName="Daily",
        hasRunningBackgroundTask=True,
    )
    assert (scheduled["source"], scheduled["scheduledTaskId"], scheduled["hasRunningBackgroundTask"]) == (
        "scheduler",
        "job-1",
        True,
    )
    read = client.get("/api/v1/sessions/s1", headers=ALICE).json()
    assert read == {"data": made}
    listed = client.get("/api/v1/sessions", headers=ALICE).json()["data"]
    assert [list(s) for s in listed] == [SESSION_KEYS, SESSION_KEYS]
    assert next(s for s in listed if s["id"] == "s1") == made
    found = client.get("/api/v1/sessions/search?query=trip", headers=ALICE).json()["data"]
    assert found == [made]
    renamed = client.patch("/api/v1/sessions/s1", json={"name": "Trip 2"}, headers=ALICE)
    assert list(renamed.json()) == SESSION_KEYS  # bare, not wrapped
    problem(client.post("/api/v1/sessions", json={"id": "s3", "source": "cron"}, headers=ALICE), 422)


@pytest.mark.parametrize("no_id", ["null", "undefined", "%20"])
def test_ids_the_ui_sends_when_it_has_none_name_no_session(gateway_client: Client, no_id: str) -> None:
    problem(gateway_client.get(f"/api/v1/sessions/{no_id}", headers=ALICE), 404)
    problem(gateway_client.get(f"/api/v1/sessions/{no_id}/chat-tasks", headers=ALICE), 404)
    problem(save(gateway_client, no_id, "t1"), 404)


def test_viewed_records_when_the_user_last_opened_a_session(gateway_client: Client) -> None:
    client = gateway_client
    made = create(client, "s1")
    before = int(time.time() * 1000)
    viewed = client.post("/api/v1/sessions/s1/viewed", json={}, headers=ALICE)
    assert viewed.status_code == 200 and list(viewed.json()) == ["lastViewedAt"]
    at = viewed.json()["lastViewedAt"]
    assert isinstance(at, int) and at >= before
    read = client.get("/api/v1/sessions/s1", headers=ALICE).json()["data"]
    assert read["lastViewedAt"] == at and read["updatedTime"] == made["updatedTime"]  # not new activity
    assert client.get("/api/v1/sessions", headers=ALICE).json()["data"][0]["lastViewedAt"] == at
    # The UI's unseen dot: updatedTime > (lastViewedAt ?? createdTime). A new answer makes it unseen again.
    time.sleep(0.005)
    assert save(client, "s1", "t1").status_code in (200, 201)
    after = client.get("/api/v1/sessions/s1", headers=ALICE).json()["data"]
    assert after["updatedTime"] > after["lastViewedAt"]
    assert client.post("/api/v1/sessions/s1/viewed", headers=ALICE).status_code == 200  # no body at all
    problem(client.post("/api/v1/sessions/s1/viewed", json={}, headers=BOB), 404)
    problem(client.post("/api/v1/sessions/nope/viewed", json={}, headers=ALICE), 404)


def test_a_session_moves_into_a_project_and_out_again(gateway_client: Client) -> None:
    client = gateway_client
    create(client, "s1")
    create(client, "s2", projectId="p2")
    moved = client.patch("/api/v1/sessions/s1/project", json={"projectId": "p1"}, headers=ALICE)
    assert moved.status_code == 200 and list(moved.json()) == SESSION_KEYS
    assert moved.json()["projectId"] == "p1"
    assert ids(client.get("/api/v1/sessions?project_id=p1&pageNumber=1&pageSize=100", headers=ALICE)) == ["s1"]
    out = client.patch("/api/v1/sessions/s1/project", json={"projectId": None}, headers=ALICE)
    assert out.status_code == 200 and out.json()["projectId"] is None and out.json()["projectName"] is None
    assert ids(client.get("/api/v1/sessions?project_id=p1", headers=ALICE)) == []
    problem(client.patch("/api/v1/sessions/s1/project", json={}, headers=ALICE), 422)
    problem(client.patch("/api/v1/sessions/s1/project", json={"projectId": "p1"}, headers=BOB), 404)
    assert client.get("/api/v1/sessions/s1", headers=ALICE).json()["data"]["projectId"] is None


def test_the_session_list_pages_as_the_gateway_does(gateway_client: Client) -> None:
    client = gateway_client
    empty = client.get("/api/v1/sessions", headers=ALICE).json()
    assert empty["data"] == []
    assert {
        k: empty["meta"]["pagination"][k] for k in ("pageNumber", "count", "pageSize", "nextPage", "totalPages")
    } == {
        "pageNumber": 1,
        "count": 0,
        "pageSize": 20,
        "nextPage": None,
        "totalPages": 0,
    }
    for i in range(5):
        create(client, f"s{i}", agentId="A" if i % 2 else "B", source="scheduler" if i == 4 else "chat")
        time.sleep(0.002)
    save(client, "s0", "t1")  # newest activity first: s0 moves to the top
    first = client.get("/api/v1/sessions?pageNumber=1&pageSize=2", headers=ALICE).json()
    assert [s["id"] for s in first["data"]] == ["s0", "s4"]
    pagination = first["meta"]["pagination"]
    assert (pagination["count"], pagination["totalPages"], pagination["nextPage"]) == (5, 3, 2)
    last = client.get("/api/v1/sessions?pageNumber=3&pageSize=2", headers=ALICE).json()
    assert [s["id"] for s in last["data"]] == ["s1"]
    assert "nextPage" in last["meta"]["pagination"] and last["meta"]["pagination"]["nextPage"] is None
    assert ids(client.get("/api/v1/sessions?agent_id=A", headers=ALICE)) == ["s3", "s1"]
    assert ids(client.get("/api/v1/sessions?source=scheduler", headers=ALICE)) == ["s4"]
    assert ids(client.get("/api/v1/sessions?source=chat&agent_id=B", headers=ALICE)) == ["s0", "s2"]
    problem(client.get("/api/v1/sessions?source=cron", headers=ALICE), 400)
    for bad in ("pageSize=0", "pageSize=101", "pageNumber=0", "pageNumber=x"):
        problem(client.get(f"/api/v1/sessions?{bad}", headers=ALICE), 422)
    assert ids(client.get("/api/v1/sessions", headers=BOB)) == []


def test_search_finds_names_only_within_the_filters(gateway_client: Client) -> None:
    client = gateway_client
    create(client, "a", name="Lisbon trip", projectId="p1", agentId="A")
    time.sleep(0.002)
    create(client, "b", name="LISBON again", projectId="p2", agentId="B")
    time.sleep(0.002)
    create(client, "c", name="Groceries", projectId="p1")
    save(client, "c", "t1", userMessage="lisbon")  # only in a message: not a name match
    create(client, "bobs", BOB, name="lisbon too")
    search = "/api/v1/sessions/search?pageNumber=1&pageSize=20&query="
    assert ids(client.get(search + "lisbon", headers=ALICE)) == ["b", "a"]
    assert ids(client.get(search + "lisbon&projectId=p1", headers=ALICE)) == ["a"]
    assert ids(client.get(search + "lisbon&agent_id=B", headers=ALICE)) == ["b"]
    assert ids(client.get(search + "%20Lisbon%20", headers=ALICE)) == ["b", "a"]
    paged = client.get("/api/v1/sessions/search?query=lisbon&pageNumber=1&pageSize=1", headers=ALICE).json()
    assert [s["id"] for s in paged["data"]] == ["b"] and paged["meta"]["pagination"]["nextPage"] == 2
    problem(client.get("/api/v1/sessions/search", headers=ALICE), 422)
    problem(client.get(search, headers=ALICE), 422)
    problem(client.get(search + "%20%20", headers=ALICE), 422)


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"name": ""}, 422), ({"name": "   "}, 422), ({"name": "x" * 256}, 422), ({"name": "x" * 1000}, 422)],
)
def test_a_rename_to_no_name_is_a_422(gateway_client: Client, body: dict[str, Any], status: int) -> None:
    create(gateway_client, "s1", name="Kept")
    problem(gateway_client.patch("/api/v1/sessions/s1", json=body, headers=ALICE), status)
    assert gateway_client.get("/api/v1/sessions/s1", headers=ALICE).json()["data"]["name"] == "Kept"


def test_a_rename_is_trimmed_and_keeps_unicode(gateway_client: Client) -> None:
    create(gateway_client, "s1")
    renamed = gateway_client.patch("/api/v1/sessions/s1", json={"name": "  Été à Lisbôa 🌞  "}, headers=ALICE)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Été à Lisbôa 🌞"
    assert gateway_client.patch("/api/v1/sessions/s1", json={"name": "y" * 255}, headers=ALICE).status_code == 200
    problem(gateway_client.patch("/api/v1/sessions/s1", json={"name": "x"}, headers=BOB), 404)


# Chat tasks -------------------------------------------------------------------------------------


def test_a_save_needs_a_session_of_the_callers_that_exists(gateway_client: Client) -> None:
    client = gateway_client
    problem(save(client, "never-made", "t1"), 422)
    problem(client.get("/api/v1/sessions/never-made", headers=ALICE), 404)
    create(client, "s1")
    assert save(client, "s1", "t1").status_code == 201
    problem(save(client, "s1", "t2", BOB), 422)  # someone else's: as if missing
    assert client.delete("/api/v1/sessions/s1", headers=ALICE).status_code == 204
    problem(save(client, "s1", "t3"), 422)  # a late save does not bring a deleted chat back
    problem(client.get("/api/v1/sessions/s1", headers=ALICE), 404)
    problem(client.post("/api/v1/sessions", json={"id": "s1"}, headers=ALICE), 409)


def test_a_task_is_saved_as_the_ui_sends_it(gateway_client: Client) -> None:
    client = gateway_client
    create(client, "s1")
    first = save(client, "s1", "  task-1 ", taskMetadata="")
    assert first.status_code == 201
    assert (first.json()["taskId"], first.json()["taskMetadata"]) == ("task-1", None)
    pending = json.dumps({"schema_version": 1, "status": "pending", "agent_name": "helper"})
    assert save(client, "s1", "task-1", taskMetadata=pending).status_code == 200
    problem(save(client, "s1", "   "), 422)
    problem(save(client, "s1", "t2", messageBubbles="[]"), 422)
    problem(save(client, "s1", "t2", taskMetadata="not json"), 422)
    history = client.get("/api/v1/sessions/s1/chat-tasks", headers=ALICE).json()["tasks"]
    assert [(t["taskId"], json.loads(t["taskMetadata"])["status"]) for t in history] == [("task-1", "pending")]
    assert isinstance(history[0]["createdTime"], int) and json.loads(history[0]["messageBubbles"])[0]["id"] == "msg-1"


# Feedback ---------------------------------------------------------------------------------------


def test_feedback_is_always_accepted_and_merged_into_the_callers_own_task(gateway_client: Client) -> None:
    client = gateway_client
    create(client, "s1")
    save(client, "s1", "t1", taskMetadata=json.dumps({"agent_name": "helper"}))
    accepted = {"status": "feedback received"}
    body = {"taskId": "t1", "sessionId": "s1", "feedbackType": "down", "feedbackText": "wrong"}
    response = client.post("/api/v1/feedback", json=body, headers=ALICE)
    assert (response.status_code, response.json()) == (202, accepted)
    unknown = client.post("/api/v1/feedback", json={**body, "taskId": "not-stored"}, headers=ALICE)
    assert (unknown.status_code, unknown.json()) == (202, accepted)
    task = client.get("/api/v1/sessions/s1/chat-tasks", headers=ALICE).json()["tasks"][0]
    assert json.loads(task["taskMetadata"]) == {
        "agent_name": "helper",
        "feedback": {"type": "down", "text": "wrong", "submitted": True},
    }
    for missing in ("taskId", "sessionId", "feedbackType"):
        problem(
            client.post("/api/v1/feedback", json={k: v for k, v in body.items() if k != missing}, headers=ALICE), 422
        )
    problem(client.post("/api/v1/feedback", json={**body, "feedbackType": "meh"}, headers=ALICE), 422)


def test_the_feedback_list_is_the_gateways(gateway_client: Client) -> None:
    client = gateway_client
    for session_id in ("s1", "s2"):
        create(client, session_id)
    for session_id, task_id in (("s1", "t1"), ("s1", "t2"), ("s2", "t3")):
        save(client, session_id, task_id)
    for session_id, task_id, rating in (("s1", "t1", "up"), ("s1", "t2", "down"), ("s2", "t3", "up")):
        body = {"taskId": task_id, "sessionId": session_id, "feedbackType": rating}
        assert client.post("/api/v1/feedback", json=body, headers=ALICE).status_code == 202
        time.sleep(0.002)
    listed = client.get("/api/v1/feedback", headers=ALICE).json()
    assert isinstance(listed, list) and [f["task_id"] for f in listed] == ["t3", "t2", "t1"]  # newest first
    assert list(listed[0]) == ["id", "session_id", "task_id", "user_id", "rating", "comment", "created_time"]
    assert (listed[0]["user_id"], listed[0]["rating"], listed[0]["comment"]) == ("alice", "up", None)

    def task_ids(query: str) -> list[str]:
        response = client.get(f"/api/v1/feedback?{query}", headers=ALICE)
        assert response.status_code == 200, response.text
        return [f["task_id"] for f in response.json()]

    assert task_ids("task_id=t2") == ["t2"]
    assert task_ids("session_id=s1") == ["t2", "t1"]
    assert task_ids("rating=up") == ["t3", "t1"]
    assert task_ids("page=2&page_size=2") == ["t1"]
    assert task_ids("start_date=2000-01-01T00:00:00Z&end_date=2999-01-01") == ["t3", "t2", "t1"]
    assert task_ids("end_date=2000-01-01") == []
    assert task_ids("start_date=2999-01-01T00:00:00%2B02:00") == []
    problem(client.get("/api/v1/feedback?task_id=nope", headers=ALICE), 404)
    problem(client.get("/api/v1/feedback?task_id=t1", headers=BOB), 404)  # not bob's task
    problem(client.get("/api/v1/feedback?start_date=yesterday", headers=ALICE), 400)
    problem(client.get("/api/v1/feedback?end_date=2026-13-45", headers=ALICE), 400)
    problem(client.get("/api/v1/feedback?rating=meh", headers=ALICE), 422)
    problem(client.get("/api/v1/feedback?page_size=0", headers=ALICE), 422)
    assert client.get("/api/v1/feedback", headers=BOB).json() == []


# Errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "raw"),
    [
        ("POST", "/api/v1/sessions", b'{"name": "x"'),
        ("POST", "/api/v1/sessions/s1/chat-tasks", b"not json"),
        ("PATCH", "/api/v1/sessions/s1", b"{"),
        ("POST", "/api/v1/feedback", b"[1,"),
        ("PATCH", "/api/v1/sessions/s1/project", b"nope"),
    ],
)
def test_malformed_json_is_a_422_everywhere(gateway_client: Client, method: str, path: str, raw: bytes) -> None:
    create(gateway_client, "s1", name="Kept")
    headers = {**ALICE, "content-type": "application/json"}
    problem(gateway_client.request(method, path, content=raw, headers=headers), 422)
    assert gateway_client.get("/api/v1/sessions/s1", headers=ALICE).json()["data"]["name"] == "Kept"


# Message search ---------------------------------------------------------------------------------


def test_message_search_finds_the_callers_words_with_a_marked_snippet(gateway_client: Client) -> None:
    client = gateway_client
    create(client, "s1", name="Trip")
    answer = json.dumps([{"type": "agent", "text": "Lisbon is <b>warm</b> in May"}])
    save(client, "s1", "t1", userMessage="How warm is Lisbon?", messageBubbles=answer)
    save(client, "s1", "t2", userMessage="And Porto?")
    create(client, "bobs", BOB)
    save(client, "bobs", "t-bob", BOB, userMessage="Lisbon too")
    found = client.get("/api/v1/search/messages", params={"query": "LISBON warm"}, headers=ALICE)
    assert found.status_code == 200
    body = found.json()
    assert body == {
        "data": [
            {
                "sessionId": "s1",
                "sessionName": "Trip",
                "taskId": "t1",
                "snippet": "How <mark>warm</mark> is <mark>Lisbon</mark>?",
                "createdTime": body["data"][0]["createdTime"],
            }
        ],
        "nextCursor": None,
    }
    first = client.get("/api/v1/search/messages", params={"query": "porto", "limit": 1}, headers=ALICE).json()
    assert [h["taskId"] for h in first["data"]] == ["t2"] and first["nextCursor"] is None
    assert (
        client.get("/api/v1/search/messages", params={"query": "lisbon"}, headers=BOB).json()["data"][0]["taskId"]
        == "t-bob"
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"query": ""},
        {"query": "?!"},
        {"query": "x" * 256},
        {"query": "a", "limit": 0},
        {"query": "a", "cursor": "x"},
    ],
)
def test_a_bad_message_search_is_a_422(gateway_client: Client, params: dict[str, Any]) -> None:
    problem(gateway_client.get("/api/v1/search/messages", params=params, headers=ALICE), 422)
