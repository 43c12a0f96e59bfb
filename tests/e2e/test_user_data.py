"""A user's data as a whole against real servers on SQLite, PostgreSQL and MariaDB: export from one,
import into a fresh SQLite server, export again: the same records; then delete everything of mine
leaves no row of the user's in any table of any database, and nobody else's is touched."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.databases import rows_of
from tests.e2e.server import Server, one_database_config

BUBBLES = json.dumps([{"type": "agent", "text": "Around 22 degrees in Lisbon in May"}])
NDJSON = {"content-type": "application/x-ndjson"}


def fill(http: httpx.Client, user: str) -> None:
    """Two chats with a task each and feedback, an agent session with an event and `user:` state."""
    for n in range(2):
        http.post("/api/v1/sessions", json={"id": f"{user}-s{n}", "name": f"Lisbon ñ {n}"}).raise_for_status()
        task = {"taskId": f"{user}-t{n}", "messageBubbles": BUBBLES, "userMessage": "How warm is Lisbon? 😀"}
        http.post(f"/api/v1/sessions/{user}-s{n}/chat-tasks", json=task).raise_for_status()
        feedback = {"taskId": f"{user}-t{n}", "sessionId": f"{user}-s{n}", "feedbackType": "up", "feedbackText": "ok"}
        http.post("/api/v1/feedback", json=feedback).raise_for_status()
    state = {"sessionId": "trip", "state": {"user:units": "metric", "city": "Lisbon"}}
    http.post("/api/v1/agents/a/sessions", json=state).raise_for_status()
    event = {"invocationId": "i1", "author": "user", "actions": {"stateDelta": {"user:home": "Porto"}}}
    http.post("/api/v1/agents/a/sessions/trip/events", json=event).raise_for_status()


def server_on(url: str, directory: Path) -> Server:
    directory.mkdir()
    return Server(one_database_config(directory, url), directory).start().wait_ready()


def test_export_import_export_then_delete_everything_of_mine(empty_database: str, tmp_path: Path) -> None:
    url = empty_database
    source = server_on(url, tmp_path / "source")
    fresh = server_on(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path / "fresh")
    try:
        with source.client("alice") as alice, source.client("bob") as bob:
            fill(alice, "alice")
            fill(bob, "bob")
            exported = alice.get("/api/v1/users/me/export")
            assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/x-ndjson")
            records = [json.loads(line) for line in exported.text.splitlines()]
            kinds = sorted(r["kind"] for r in records)
            expected = (
                ["session"] * 2 + ["chatTask"] * 2 + ["feedback"] * 2 + ["userState", "agentSession", "agentEvent"]
            )
            assert kinds == sorted(expected)
            assert "bob" not in exported.text

        with fresh.client("alice") as alice:
            first = alice.post("/api/v1/users/me/import", content=exported.content, headers=NDJSON)
            assert first.status_code == 200, first.text
            assert first.json()["skipped"] == []
            again = alice.post("/api/v1/users/me/import", content=exported.content, headers=NDJSON).json()
            assert again["added"] == {} and sum(again["kept"].values()) == len(records)
            # The round trip: the same records, each as it was (ids, times, texts).
            round_trip = alice.get("/api/v1/users/me/export").text.splitlines()
            assert sorted(map(json.loads, round_trip), key=json.dumps) == sorted(records, key=json.dumps)
            history = alice.get("/api/v1/sessions/alice-s1/chat-tasks").json()["tasks"]
            assert [(t["taskId"], t["userMessage"]) for t in history] == [("alice-t1", "How warm is Lisbon? 😀")]

        with source.client("alice") as alice, source.client("bob") as bob:
            erased = alice.delete("/api/v1/users/me/data")
            assert erased.status_code == 200, erased.text
            assert erased.json()["gateway"] == {
                "status": "erased",
                "removed": {"feedback": 2, "chatTasks": 2, "sessions": 2},
            }
            assert erased.json()["agents"]["a"]["removed"] == {"events": 1, "sessions": 1, "userState": 1, "runs": 0}
            alices = rows_of(url, "alice")
            assert {"sessions", "chat_tasks", "feedback", "agent_sessions", "agent_events"} <= set(alices)
            assert set(alices.values()) == {0}, alices
            bobs = rows_of(url, "bob")
            assert all(bobs[t] > 0 for t in ("sessions", "chat_tasks", "feedback", "agent_sessions", "agent_events"))
            assert [s["id"] for s in bob.get("/api/v1/sessions").json()["data"]] == ["bob-s1", "bob-s0"]
            assert alice.get("/api/v1/users/me/export").text.splitlines() == [
                json.dumps({"kind": "userState", "agent": "a", "state": {}}, separators=(",", ":"))
            ]
            repeat = alice.delete("/api/v1/users/me/data").json()
            assert repeat["gateway"]["removed"] == {"feedback": 0, "chatTasks": 0, "sessions": 0}
    finally:
        source.stop()
        fresh.stop()
