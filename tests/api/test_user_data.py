"""Delete everything of mine: every store, every table, nothing of the caller's left, nobody else's
touched; again is a no-op; a store that cannot be reached is named, not glossed over."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from litestar.testing import TestClient

from app.factory import create_app
from app.stores import migrate_all
from infrastructure.config.model import AgentConfig, Config, SessionServiceConfig, StoreType
from tests.api.conftest import app_config
from tests.databases import rows_of

BUBBLES = json.dumps([{"type": "agent", "text": "hello"}])
AGENTS = ("agent-a", "agent-b")


def fill(client: TestClient, user: str) -> None:  # type: ignore[type-arg]
    me = {"X-User-Id": user}
    for n in range(2):
        client.post("/api/v1/sessions", json={"id": f"{user}-s{n}"}, headers=me)
        client.post(
            f"/api/v1/sessions/{user}-s{n}/chat-tasks",
            json={"taskId": f"{user}-t{n}", "messageBubbles": BUBBLES},
            headers=me,
        )
        feedback = {"taskId": f"{user}-t{n}", "sessionId": f"{user}-s{n}", "feedbackType": "up"}
        client.post("/api/v1/feedback", json=feedback, headers=me)
    for agent in AGENTS:
        base = f"/api/v1/agents/{agent}"
        client.post(f"{base}/sessions", json={"sessionId": "chat", "state": {"user:name": user, "k": 1}}, headers=me)
        event = {"invocationId": "i", "author": "user", "actions": {"stateDelta": {"user:city": "Lisbon"}}}
        client.post(f"{base}/sessions/chat/events", json=event, headers=me)
        client.post(f"{base}/runs", json={"sessionId": "chat"}, headers=me)


@contextmanager
def app_on(directory: Path) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """The app with the gateway and agent-a (PERSISTENT), agent-b (RUN_BASED) on SQLite files in `directory`."""
    config = app_config("sqlite", directory)
    migrate_all(config)
    with TestClient(create_app(config)) as client:
        yield client


def test_everything_of_mine_goes_from_every_table_of_every_store(tmp_path: Path) -> None:
    with app_on(tmp_path) as client:
        fill(client, "alice")
        fill(client, "bob")
        erased = client.delete("/api/v1/users/me/data", headers={"X-User-Id": "alice"})
        assert erased.status_code == 200, erased.text
        assert erased.json() == {
            "gateway": {"status": "erased", "removed": {"feedback": 2, "chatTasks": 2, "sessions": 2}},
            "agents": {  # agent-b is RUN_BASED: its run has a session of its own, the event copied into it
                "agent-a": {"status": "erased", "removed": {"events": 1, "sessions": 1, "userState": 1, "runs": 1}},
                "agent-b": {"status": "erased", "removed": {"events": 2, "sessions": 2, "userState": 1, "runs": 1}},
            },
        }
        databases = [tmp_path / "gateway.db", *(tmp_path / f"{agent}.db" for agent in AGENTS)]
        for database in databases:
            alices = rows_of(f"sqlite:///{database}", "alice")
            assert alices and set(alices.values()) == {0}, (database.name, alices)
            bobs = rows_of(f"sqlite:///{database}", "bob")
            assert sum(bobs.values()) > 0 and min(bobs.values()) >= 0
        assert client.get("/api/v1/sessions", headers={"X-User-Id": "bob"}).json()["meta"]["pagination"]["count"] == 2
        assert client.get("/api/v1/search/messages?query=hello", headers={"X-User-Id": "alice"}).json()["data"] == []
        again = client.delete("/api/v1/users/me/data", headers={"X-User-Id": "alice"}).json()
        assert again["gateway"]["removed"] == {"feedback": 0, "chatTasks": 0, "sessions": 0}
        assert {a: r["removed"]["sessions"] for a, r in again["agents"].items()} == {a: 0 for a in AGENTS}


def test_a_store_out_of_reach_is_named_and_the_others_are_erased(tmp_path: Path) -> None:
    gateway = SessionServiceConfig(StoreType.SQL, f"sqlite:///{tmp_path / 'gateway.db'}")
    config = Config(
        session_service=gateway,
        agents=[
            AgentConfig("near", SessionServiceConfig(StoreType.MEMORY)),
            AgentConfig("far", SessionServiceConfig(StoreType.SQL, "postgresql://postgres@127.0.0.1:9/nowhere")),
        ],
    )
    migrate_all(Config(session_service=gateway, agents=[]))
    with TestClient(create_app(config)) as client:
        me = {"X-User-Id": "alice"}
        client.post("/api/v1/sessions", json={"id": "s1"}, headers=me)
        answer = client.delete("/api/v1/users/me/data", headers=me)
        assert answer.status_code == 503 and answer.headers["retry-after"]
        assert answer.headers["content-type"].startswith("application/problem+json")
        stores = answer.json()["stores"]
        assert stores["gateway"] == {"status": "erased", "removed": {"feedback": 0, "chatTasks": 0, "sessions": 1}}
        assert stores["agents"]["far"] == {"status": "unreachable"}
        assert stores["agents"]["near"]["status"] == "erased"
        assert client.get("/api/v1/sessions/s1", headers=me).status_code == 404


def test_an_export_streams_everything_of_mine_as_ndjson(tmp_path: Path) -> None:
    with app_on(tmp_path) as client:
        fill(client, "alice")
        fill(client, "bob")
        exported = client.get("/api/v1/users/me/export", headers={"X-User-Id": "alice"})
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/x-ndjson")
        records = [json.loads(line) for line in exported.text.splitlines()]
        kinds = [r["kind"] for r in records]
        assert kinds.count("session") == 2 and kinds.count("chatTask") == 2 and kinds.count("feedback") == 2
        assert kinds.count("userState") == 2 and kinds.count("agentSession") == 3 and kinds.count("agentEvent") == 3
        assert {r["userId"] for r in records if r["kind"] in ("session", "chatTask") and "userId" in r} <= {"alice"}
        assert "bob" not in exported.text
        task = next(r for r in records if r["kind"] == "chatTask")
        assert json.loads(task["messageBubbles"]) == json.loads(BUBBLES) and task["sessionId"].startswith("alice-")
        state = next(r for r in records if r["kind"] == "userState" and r["agent"] == "agent-a")
        assert state["state"] == {"name": "alice", "city": "Lisbon"}
        event = next(r for r in records if r["kind"] == "agentEvent" and r["agent"] == "agent-a")
        assert (event["sessionId"], event["sequence"], event["actions"]) == (
            "chat",
            1,
            {"stateDelta": {"user:city": "Lisbon"}},
        )
        empty = client.get("/api/v1/users/me/export", headers={"X-User-Id": "nobody-here"}).text.splitlines()
        assert [json.loads(line)["kind"] for line in empty] == ["userState", "userState"]


def test_an_export_imports_into_another_account_once(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    with app_on(source) as old:
        fill(old, "alice")
        ndjson = old.get("/api/v1/users/me/export", headers={"X-User-Id": "alice"}).content
    target = tmp_path / "target"
    target.mkdir()
    headers = {"X-User-Id": "carol", "content-type": "application/x-ndjson"}
    with app_on(target) as new:
        first = new.post("/api/v1/users/me/import", content=ndjson, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json()["added"] == {
            "session": 2,
            "chatTask": 2,
            "feedback": 2,
            "userState": 2,
            "agentSession": 3,
            "agentEvent": 3,
        }
        assert first.json()["skipped"] == []
        again = new.post("/api/v1/users/me/import", content=ndjson, headers=headers).json()
        assert again["added"] == {} and sum(again["kept"].values()) == 14
        carol = {"X-User-Id": "carol"}
        history = new.get("/api/v1/sessions/alice-s0/chat-tasks", headers=carol).json()["tasks"]
        assert [t["taskId"] for t in history] == ["alice-t0"]  # carol's now, ids and all
        assert new.get("/api/v1/agents/agent-a/users/carol/state", headers=carol).json()["state"] == {
            "name": "alice",
            "city": "Lisbon",
        }
        # Someone else importing the same file: the sessions and tasks are carol's, so they are skipped.
        dave = new.post("/api/v1/users/me/import", content=ndjson, headers={**headers, "X-User-Id": "dave"}).json()
        assert {s["kind"] for s in dave["skipped"]} >= {"session", "chatTask"}
        assert all("another user's" in s["reason"] or "yours" in s["reason"] for s in dave["skipped"])
        assert new.get("/api/v1/sessions/alice-s0", headers=carol).status_code == 200
        # A malformed line: a 422 naming it; the lines before it are in.
        state = next(line for line in ndjson.splitlines() if b'"userState"' in line and b"agent-a" in line)
        broken = b"\n".join([state, b"{not json", state])
        refused = new.post("/api/v1/users/me/import", content=broken, headers={**headers, "X-User-Id": "erin"})
        assert refused.status_code == 422 and "line 2" in refused.json()["detail"]
        erin = new.get("/api/v1/agents/agent-a/users/erin/state", headers={"X-User-Id": "erin"}).json()
        assert erin["state"] == {"name": "alice", "city": "Lisbon"}  # line 1 is in
