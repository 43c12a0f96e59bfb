"""Two server processes, 16 clients each, writing to the same agent session and the same gateway
session: no write lost or doubled, agent sequences 1..N."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.databases import fresh_database
from tests.e2e.server import Server, one_database_config

CLIENTS_PER_SERVER, WRITES = 16, 6
BUBBLES = json.dumps([{"type": "agent", "text": "together"}])


@pytest.fixture(params=["postgres", "mysql"])
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    with fresh_database(request.param) as url:
        yield url


def test_two_servers_thirty_two_clients_one_session_each_store(tmp_path: Path, database: str) -> None:
    config = one_database_config(tmp_path, database)
    servers = [Server(config, tmp_path).start(), Server(config, tmp_path).start()]
    headers = {"X-User-Id": "crowd"}
    errors: list[str] = []
    try:
        for server in servers:
            server.wait_ready()
        with httpx.Client(base_url=servers[0].url, headers=headers) as client:
            assert client.post("/api/v1/agents/a/sessions", json={"sessionId": "shared"}).status_code == 201
            assert client.post("/api/v1/sessions", json={"id": "shared"}).status_code == 201

        def client_loop(server: Server, worker: int) -> None:
            with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
                for i in range(WRITES):
                    task = {"taskId": f"c{worker}-t{i}", "messageBubbles": BUBBLES}
                    event = {"id": f"c{worker}-e{i}", "invocationId": f"c{worker}", "author": "a"}
                    for path, body in (
                        ("/api/v1/sessions/shared/chat-tasks", task),
                        ("/api/v1/agents/a/sessions/shared/events", event),
                    ):
                        response = client.post(path, json=body)
                        if response.status_code != 201:
                            errors.append(f"{path} {response.status_code} {response.text[:120]}")

        threads = [
            threading.Thread(target=client_loop, args=(servers[w % 2], w)) for w in range(2 * CLIENTS_PER_SERVER)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert errors == []
        expected = 2 * CLIENTS_PER_SERVER * WRITES
        with httpx.Client(base_url=servers[1].url, headers=headers) as client:
            tasks = client.get("/api/v1/sessions/shared/chat-tasks").json()["tasks"]
            session = client.get("/api/v1/agents/a/sessions/shared").json()
        assert sorted(t["taskId"] for t in tasks) == sorted(
            f"c{w}-t{i}" for w in range(2 * CLIENTS_PER_SERVER) for i in range(WRITES)
        )
        assert [e["sequence"] for e in session["events"]] == list(range(1, expected + 1))
        assert len({e["id"] for e in session["events"]}) == expected
    finally:
        for server in servers:
            server.stop()
