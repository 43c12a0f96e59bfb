"""Agents' memory with real server processes: crashes, restarts, two servers on one database."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import fresh_database
from tests.e2e.server import Server


def config_file(tmp_path: Path, agents: dict[str, str], gateway: str | None = None) -> Path:
    lines = ["session_service:"]
    lines += [f'  type: sql\n  database_url: "{gateway}"'] if gateway else ["  type: memory"]
    lines.append("agents:")
    for name, url in agents.items():
        lines.append(f'  - name: {name}\n    session_service:\n      type: sql\n      database_url: "{url}"')
    path = tmp_path / "agents.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(params=["postgres", "mysql"])
def server_database(request: pytest.FixtureRequest) -> Iterator[str]:
    with fresh_database(request.param) as url:
        yield url


def say(server: Server, session: str, text: str, user: str = "alice", **delta: object) -> dict[str, object]:
    body: dict[str, object] = {"invocationId": "inv", "author": "user", "content": {"parts": [{"text": text}]}}
    if delta:
        body["actions"] = {"stateDelta": delta}
    with server.client(user) as client:
        response = client.post(f"/api/v1/agents/agent-a/sessions/{session}/events", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


def test_the_agent_remembers_after_sigkill_and_restart(tmp_path: Path) -> None:
    config = config_file(tmp_path, {"agent-a": f"sqlite:///{tmp_path / 'agent-a.db'}"})
    server = Server(config, tmp_path).start().wait_ready()
    try:
        with server.client() as client:
            assert client.post("/api/v1/agents/agent-a/runs", json={"sessionId": "web-session-7"}).status_code == 201
        say(server, "web-session-7", "My name is Ana", **{"user:name": "Ana", "topic": "intro"})
        say(server, "web-session-7", "I live in Lisbon", **{"app:seen": 1})
        server.kill()  # mid-conversation: no shutdown, nothing flushed on purpose
        server.start().wait_ready()
        with server.client() as client:
            session = client.get("/api/v1/agents/agent-a/sessions/web-session-7").json()
        assert [e["content"]["parts"][0]["text"] for e in session["events"]] == ["My name is Ana", "I live in Lisbon"]
        assert session["state"] == {"topic": "intro", "user:name": "Ana", "app:seen": 1}
        assert say(server, "web-session-7", "What is my name?")["sequence"] == 3
    finally:
        server.stop()


def test_each_agent_keeps_its_own_database(tmp_path: Path) -> None:
    urls = {"agent-a": f"sqlite:///{tmp_path / 'a.db'}", "agent-b": f"sqlite:///{tmp_path / 'b.db'}"}
    server = Server(config_file(tmp_path, urls), tmp_path).start().wait_ready()
    try:
        with server.client() as client:
            client.post("/api/v1/agents/agent-a/sessions", json={"sessionId": "s1", "state": {"app:k": "a"}})
        say(server, "s1", "for agent a only")
    finally:
        server.stop()
    with sqlite3.connect(tmp_path / "b.db") as b:
        for table in ("agent_sessions", "agent_events", "agent_app_states", "agent_user_states", "agent_runs"):
            assert b.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table
    with sqlite3.connect(tmp_path / "a.db") as a:
        assert a.execute("SELECT COUNT(*) FROM agent_events").fetchone() == (1,)


def test_two_servers_appending_to_one_session_lose_nothing(tmp_path: Path, server_database: str) -> None:
    config = config_file(tmp_path, {"agent-a": server_database})
    servers = [Server(config, tmp_path).start(), Server(config, tmp_path).start()]
    try:
        for server in servers:
            server.wait_ready()
        with servers[0].client() as client:
            assert client.post("/api/v1/agents/agent-a/sessions", json={"sessionId": "hot"}).status_code == 201
        errors: list[str] = []

        def appender(server: Server, worker: int) -> None:
            with server.client() as client:
                for i in range(15):
                    body = {
                        "id": f"w{worker}-e{i}",
                        "invocationId": f"w{worker}",
                        "author": "agent",
                        "actions": {"stateDelta": {f"app:w{worker}": i, "last": f"w{worker}-{i}"}},
                    }
                    response = client.post("/api/v1/agents/agent-a/sessions/hot/events", json=body)
                    if response.status_code != 201:
                        errors.append(f"{response.status_code} {response.text}")

        threads = [threading.Thread(target=appender, args=(servers[w % 2], w)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with servers[1].client() as client:
            session = client.get("/api/v1/agents/agent-a/sessions/hot").json()
        assert [e["sequence"] for e in session["events"]] == list(range(1, 121))
        assert sorted(e["id"] for e in session["events"]) == sorted(f"w{w}-e{i}" for w in range(8) for i in range(15))
        assert session["version"] == 121
        assert {k: v for k, v in session["state"].items() if k.startswith("app:")} == {
            f"app:w{w}": 14 for w in range(8)
        }
        # Every event's own order is preserved: worker w's events appear in the order it sent them.
        for w in range(8):
            mine = [e["id"] for e in session["events"] if e["invocationId"] == f"w{w}"]
            assert mine == [f"w{w}-e{i}" for i in range(15)]
    finally:
        for server in servers:
            server.stop()


def test_the_server_ends_runs_left_open_past_their_ttl(tmp_path: Path) -> None:
    config = config_file(tmp_path, {"agent-a": f"sqlite:///{tmp_path / 'agent-a.db'}"})
    config.write_text(config.read_text() + "runs:\n  ttl_seconds: 1\n  copy_recent_events: 2\n")
    server = Server(config, tmp_path).start().wait_ready()
    try:
        with server.client() as client:
            assert client.post("/api/v1/agents/agent-a/sessions", json={"sessionId": "chat"}).status_code == 201
        for text in ("one", "two", "three"):
            say(server, "chat", text)
        with server.client() as client:
            run = client.post("/api/v1/agents/agent-a/runs", json={"sessionId": "chat", "behavior": "RUN_BASED"}).json()
            copied = client.get(f"/api/v1/agents/agent-a/sessions/{run['sessionId']}").json()
            assert [e["content"]["parts"][0]["text"] for e in copied["events"]] == ["two", "three"]
            deadline = time.monotonic() + 10
            while client.get(f"/api/v1/agents/agent-a/sessions/{run['sessionId']}").status_code != 404:
                assert time.monotonic() < deadline, "the run's session outlived runs.ttl_seconds by 10 s"
                time.sleep(0.2)
            ended = client.post(f"/api/v1/agents/agent-a/runs/{run['runId']}/end").json()
            assert ended["endedTime"] is not None
            assert len(client.get("/api/v1/agents/agent-a/sessions/chat").json()["events"]) == 3
        assert "expired runs ended" in server.output()
    finally:
        server.stop()
