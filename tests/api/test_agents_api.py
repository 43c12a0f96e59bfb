"""Agent stores through HTTP: sessions, events, state, versions, runs, isolation."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

Client = TestClient  # type: ignore[type-arg]
A = "/api/v1/agents/agent-a"
ALICE = {"X-User-Id": "alice"}


def append(client: Client, session: str, text: str, headers: dict[str, str] | None = None, **extra: Any) -> Any:
    body = {"invocationId": "inv-1", "author": "user", "content": {"parts": [{"text": text}]}, **extra}
    return client.post(f"{A}/sessions/{session}/events", json=body, headers={**ALICE, **(headers or {})})


def test_agents_are_listed_without_their_urls(client: Client) -> None:
    listed = client.get("/api/v1/agents")
    assert listed.status_code == 200
    assert [(a["name"], a["defaultBehavior"]) for a in listed.json()["data"]] == [
        ("agent-a", "PERSISTENT"),
        ("agent-b", "RUN_BASED"),
    ]
    assert "sqlite" not in listed.text and "db" not in listed.text


def test_a_conversation_with_state_and_history(client: Client) -> None:
    created = client.post(
        f"{A}/sessions", json={"sessionId": "web-session-1", "state": {"user:name": "Ana"}}, headers=ALICE
    )
    assert created.status_code == 201 and created.headers["etag"] == '"1"'
    body = created.json()
    assert {k: body[k] for k in ("id", "appName", "userId", "state", "events", "version")} == {
        "id": "web-session-1",
        "appName": "agent-a",
        "userId": "alice",
        "state": {"user:name": "Ana"},
        "events": [],
        "version": 1,
    }
    first = append(
        client, "web-session-1", "Hi, I am Ana", actions={"stateDelta": {"topic": "intro"}}, customField={"kept": True}
    )
    assert first.status_code == 201 and first.headers["etag"] == '"2"'
    stored = first.json()
    assert stored["sequence"] == 1 and stored["customField"] == {"kept": True} and stored["id"]
    append(client, "web-session-1", "What is my name?")
    read = client.get(f"{A}/sessions/web-session-1", headers=ALICE)
    assert read.headers["etag"] == '"3"'
    session = read.json()
    assert session["state"] == {"topic": "intro", "user:name": "Ana"}
    assert [e["content"]["parts"][0]["text"] for e in session["events"]] == ["Hi, I am Ana", "What is my name?"]
    recent = client.get(f"{A}/sessions/web-session-1?numRecentEvents=1", headers=ALICE).json()
    assert [e["sequence"] for e in recent["events"]] == [2]
    assert client.get(f"{A}/sessions/web-session-1?numRecentEvents=0", headers=ALICE).json()["events"] == []
    bad = client.get(f"{A}/sessions/web-session-1?numRecentEvents=-1", headers=ALICE)
    assert bad.status_code == 422 and "numRecentEvents" in bad.json()["detail"]


def test_if_match_refuses_a_stale_write(client: Client) -> None:
    client.post(f"{A}/sessions", json={"sessionId": "s1"}, headers=ALICE)
    assert append(client, "s1", "one", {"If-Match": '"1"'}).status_code == 201
    stale = append(client, "s1", "two", {"If-Match": '"1"'}, actions={"stateDelta": {"x": 1}})
    assert stale.status_code == 412 and stale.headers["content-type"].startswith("application/problem+json")
    assert stale.json()["currentVersion"] == 2
    session = client.get(f"{A}/sessions/s1", headers=ALICE).json()
    assert len(session["events"]) == 1 and session["state"] == {}
    assert append(client, "s1", "x", {"If-Match": "garbage"}).status_code == 400


def test_a_resent_event_is_accepted_once(client: Client) -> None:
    client.post(f"{A}/sessions", json={"sessionId": "s1"}, headers=ALICE)
    first = append(client, "s1", "once", id="evt-42")
    again = append(client, "s1", "once", id="evt-42")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(client.get(f"{A}/sessions/s1", headers=ALICE).json()["events"]) == 1


def test_long_histories_page_by_sequence(client: Client) -> None:
    client.post(f"{A}/sessions", json={"sessionId": "s1"}, headers=ALICE)
    for i in range(7):
        append(client, "s1", f"m{i}")
    seen, after = [], 0
    while after is not None:
        page = client.get(f"{A}/sessions/s1/events?afterSequence={after}&limit=3", headers=ALICE).json()
        seen += [e["sequence"] for e in page["data"]]
        after = page["nextAfterSequence"]
    assert seen == list(range(1, 8))


def test_sessions_list_newest_first_without_events(client: Client) -> None:
    for i in range(3):
        client.post(f"{A}/sessions", json={"sessionId": f"s{i}"}, headers=ALICE)
        append(client, f"s{i}", "hello")
    page = client.get(f"{A}/sessions?pageSize=2", headers=ALICE).json()
    assert [s["id"] for s in page["data"]] == ["s2", "s1"] and all(s["events"] == [] for s in page["data"])
    rest = client.get(f"{A}/sessions?pageSize=2&cursor={page['nextCursor']}", headers=ALICE).json()
    assert [s["id"] for s in rest["data"]] == ["s0"] and rest["nextCursor"] is None


def test_isolation_between_users_and_agents(client: Client) -> None:
    client.post(f"{A}/sessions", json={"sessionId": "s1"}, headers=ALICE)
    append(client, "s1", "private")
    bob = {"X-User-Id": "bob"}
    assert client.get(f"{A}/sessions/s1", headers=bob).status_code == 404
    assert (
        client.post(f"{A}/sessions/s1/events", json={"invocationId": "i", "author": "a"}, headers=bob).status_code
        == 404
    )
    assert client.get("/api/v1/agents/agent-b/sessions/s1", headers=ALICE).status_code == 404
    unknown = client.get("/api/v1/agents/agent-z/sessions", headers=ALICE)
    assert unknown.status_code == 404 and "agent-z" in unknown.json()["detail"]
    assert client.delete(f"{A}/sessions/s1", headers=bob).status_code == 404
    assert client.delete(f"{A}/sessions/s1", headers=ALICE).status_code == 204
    assert client.get(f"{A}/sessions/s1", headers=ALICE).status_code == 404


def test_duplicate_session_is_409_and_bad_events_are_422(client: Client) -> None:
    client.post(f"{A}/sessions", json={"sessionId": "s1"}, headers=ALICE)
    assert client.post(f"{A}/sessions", json={"sessionId": "s1"}, headers=ALICE).status_code == 409
    missing = client.post(f"{A}/sessions/s1/events", json={"author": "a"}, headers=ALICE)
    assert missing.status_code == 422 and "invocationId" in missing.json()["detail"]
    wrong = client.post(
        f"{A}/sessions/s1/events", json={"invocationId": "i", "author": "a", "actions": []}, headers=ALICE
    )
    assert wrong.status_code == 422 and "actions" in wrong.json()["detail"]


def test_runs_persistent_and_run_based(client: Client) -> None:
    run = client.post(f"{A}/runs", json={"sessionId": "web-session-9"}, headers=ALICE)
    assert run.status_code == 201
    assert run.json()["behavior"] == "PERSISTENT" and run.json()["sessionId"] == "web-session-9"
    assert client.get(f"{A}/sessions/web-session-9", headers=ALICE).status_code == 200
    based = client.post("/api/v1/agents/agent-b/runs", json={"sessionId": "web-session-9"}, headers=ALICE).json()
    assert based["behavior"] == "RUN_BASED"
    assert based["sessionId"] == f"web-session-9:{based['runId']}:run"
    run_session = f"/api/v1/agents/agent-b/sessions/{based['sessionId']}"
    assert client.get(run_session, headers=ALICE).status_code == 200
    ended = client.post(f"/api/v1/agents/agent-b/runs/{based['runId']}/end", headers=ALICE)
    assert ended.status_code == 200 and ended.json()["endedTime"] is not None
    assert client.get(run_session, headers=ALICE).status_code == 404
    assert (
        client.post(f"/api/v1/agents/agent-b/runs/{based['runId']}/end", headers={"X-User-Id": "bob"}).status_code
        == 404
    )
    assert client.post(f"{A}/runs", json={"sessionId": "x", "behavior": "SOMETIMES"}, headers=ALICE).status_code == 422


def test_stored_events_come_back_whole_with_each_field_once(client: Client) -> None:
    client.post(f"{A}/sessions", json={"sessionId": "s"}, headers=ALICE)
    sent = {"content": {"parts": [{"text": 'a "quoted" ünïcode 👋 text'}]}, "actions": None, "nested": {"a": [1, 2.5]}}
    assert append(client, "s", "ignored", id="e1", sequence=7, **sent).status_code == 201
    assert (
        client.post(f"{A}/sessions/s/events", json={"invocationId": "i2", "author": "model"}, headers=ALICE).status_code
        == 201
    )
    for path in ("/sessions/s", "/sessions/s?numRecentEvents=5", "/sessions/s/events"):
        read = client.get(f"{A}{path}", headers=ALICE)
        events = read.json()["events" if "events" in read.json() else "data"]
        assert [(e["id"], e["sequence"], e["author"]) for e in events] == [
            ("e1", 1, "user"),
            (events[1]["id"], 2, "model"),
        ]
        assert {k: events[0][k] for k in sent} == sent
        assert set(events[1]) == {"id", "invocationId", "author", "timestamp", "sequence"}
        # Each key once in the text itself (a JSON parser would hide a duplicate by keeping the last).
        assert read.text.count('"sequence"') == 2 and read.text.count('"id"') == 2 + ("data" not in read.json())


def test_a_users_state_reads_without_a_session(client: Client) -> None:
    assert client.get(f"{A}/users/alice/state", headers=ALICE).json() == {"userId": "alice", "state": {}}
    client.post(
        f"{A}/sessions", json={"sessionId": "s1", "state": {"user:lang": "pt", "app:x": 1, "k": 2}}, headers=ALICE
    )
    assert client.get(f"{A}/users/alice/state", headers=ALICE).json() == {"userId": "alice", "state": {"lang": "pt"}}
    assert client.get(f"{A}/users/bob/state", headers=ALICE).json()["state"] == {}
    assert client.get(f"{A}/users/{'u' * 300}/state", headers=ALICE).status_code == 422
    assert client.get("/api/v1/agents/nope/users/alice/state", headers=ALICE).status_code == 404


def test_an_event_may_have_an_empty_invocation_id_as_adk_gives_it(client: Client) -> None:
    client.post(f"{A}/sessions", json={"sessionId": "s1"}, headers=ALICE)
    stored = client.post(f"{A}/sessions/s1/events", json={"invocationId": "", "author": "user"}, headers=ALICE)
    assert stored.status_code == 201 and stored.json()["invocationId"] == ""
