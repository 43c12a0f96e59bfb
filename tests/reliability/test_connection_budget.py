"""Many instances on one database: four `session-store serve` processes, each with a gateway and two
agents on one PostgreSQL URL, against a server whose max_connections is 60, under the chat loop and
agent appends from 16 clients per instance. PostgreSQL never sees more connections than the formula
of docs/operations.md says (4 instances x 1 URL x pool_size 10 = 40), no request fails with a 5xx,
and nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.e2e.server import Server
from tests.reliability.throwaway_postgres import ThrowawayPostgres, running_postgres

INSTANCES, CLIENTS, SECONDS, POOL_SIZE = 4, 16, 30, 10
BUBBLES = json.dumps([{"type": "agent", "text": "ok"}])
OTHERS = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"


@pytest.fixture
def small_postgres() -> Iterator[ThrowawayPostgres]:
    with running_postgres(max_connections="60") as postgres:
        yield postgres


def instance_config(directory: Path, url: str) -> Path:
    store = f'{{type: sql, database_url: "{url}", pool_size: {POOL_SIZE}}}'
    config = directory / "c.yaml"
    config.write_text(
        f"session_service: {store}\n"
        f"agents:\n  - name: a\n    session_service: {store}\n  - name: b\n    session_service: {store}\n"
        "logging: {level: WARNING}\n"
    )
    return config


def sample_connections(url: str, stop: threading.Event, seen: list[int]) -> None:
    with psycopg.connect(url, autocommit=True) as db:
        while not stop.is_set():
            count = db.execute(OTHERS).fetchone()
            seen.append(int(count[0]) if count else 0)
            time.sleep(0.1)


async def chat(base: str, user: str, until: float, statuses: list[int], saved: list[tuple[str, str, str]]) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"X-User-Id": user}, timeout=60) as http:
        for path, body in (
            ("/api/v1/sessions", {"id": f"{user}-chat"}),
            ("/api/v1/agents/a/sessions", {"sessionId": "chat"}),
            ("/api/v1/agents/b/sessions", {"sessionId": "chat"}),
        ):
            statuses.append((await http.post(path, json=body)).status_code)
        turn = 0
        while time.monotonic() < until:
            task = {"taskId": f"{user}-{turn}", "messageBubbles": BUBBLES}
            response = await http.post(f"/api/v1/sessions/{user}-chat/chat-tasks", json=task)
            statuses.append(response.status_code)
            if response.status_code == 201:
                saved.append((user, "task", task["taskId"]))
            statuses.append((await http.get(f"/api/v1/sessions/{user}-chat/chat-tasks?limit=20")).status_code)
            statuses.append((await http.get("/api/v1/sessions?pageSize=20")).status_code)
            agent = "ab"[turn % 2]
            event = {"invocationId": "i", "author": "user", "id": f"{user}-e{turn}"}
            response = await http.post(f"/api/v1/agents/{agent}/sessions/chat/events", json=event)
            statuses.append(response.status_code)
            if response.status_code == 201:
                saved.append((user, agent, event["id"]))
            turn += 1


async def load(servers: list[Server], statuses: list[int], saved: list[tuple[str, str, str]]) -> None:
    until = time.monotonic() + SECONDS
    await asyncio.gather(
        *(chat(s.url, f"i{n}-c{c}", until, statuses, saved) for n, s in enumerate(servers) for c in range(CLIENTS))
    )


async def stored(servers: list[Server]) -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for n, server in enumerate(servers):
        for c in range(CLIENTS):
            user = f"i{n}-c{c}"
            async with httpx.AsyncClient(base_url=server.url, headers={"X-User-Id": user}, timeout=60) as http:
                answer = await http.get(f"/api/v1/sessions/{user}-chat/chat-tasks")
                assert answer.status_code == 200, answer.text
                tasks = answer.json()["tasks"]
                found |= {(user, "task", t["taskId"]) for t in tasks}
                for agent in "ab":
                    events = (await http.get(f"/api/v1/agents/{agent}/sessions/chat")).json()["events"]
                    found |= {(user, agent, e["id"]) for e in events}
    return found


def test_four_instances_keep_within_the_connection_budget(tmp_path: Path, small_postgres: ThrowawayPostgres) -> None:
    servers = []
    for n in range(INSTANCES):
        directory = tmp_path / f"i{n}"
        directory.mkdir()
        servers.append(Server(instance_config(directory, small_postgres.url), directory).start())
    stop, seen = threading.Event(), []
    try:
        for server in servers:
            server.wait_ready(60)
        sampler = threading.Thread(target=sample_connections, args=(small_postgres.url, stop, seen))
        sampler.start()
        statuses: list[int] = []
        saved: list[tuple[str, str, str]] = []
        asyncio.run(load(servers, statuses, saved))
        stop.set()
        sampler.join(10)
        assert set(statuses) <= {200, 201}, sorted(set(statuses))
        assert len(saved) > 1000
        assert max(seen) <= INSTANCES * POOL_SIZE, max(seen)
        assert set(saved) <= asyncio.run(stored(servers))
    finally:
        stop.set()
        for server in servers:
            server.stop()
    print(f"connections: at most {max(seen)} of {INSTANCES * POOL_SIZE}; {len(statuses)} requests, {len(saved)} writes")
