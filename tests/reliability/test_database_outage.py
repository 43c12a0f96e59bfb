"""The database goes away under load and comes back: 503s with Retry-After meanwhile (no 500, no
hang), the same server process recovers by itself within 5 s, and no acknowledged write is lost."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, one_database_config
from tests.reliability.throwaway_postgres import ThrowawayPostgres, running_postgres

BUBBLES = json.dumps([{"type": "agent", "text": "during an outage"}])


@pytest.fixture
def cluster() -> Iterator[ThrowawayPostgres]:
    with running_postgres() as postgres:
        yield postgres


def test_an_outage_is_503_then_the_server_recovers_alone(tmp_path: Path, cluster: ThrowawayPostgres) -> None:
    config = one_database_config(tmp_path, cluster.url)
    server = Server(config, tmp_path).start().wait_ready()
    headers = {"X-User-Id": "u"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        for session_id in ("s0", "s1", "s2", "s3", "probe"):
            assert client.post("/api/v1/sessions", json={"id": session_id}).status_code == 201
    acknowledged: list[str] = []
    statuses: list[int] = []
    slowest = [0.0]
    stop = threading.Event()

    def writer(worker: int) -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=15) as client:
            i = 0
            while not stop.is_set():
                task_id = f"w{worker}-{i}"
                started = time.perf_counter()
                response = client.post(
                    f"/api/v1/sessions/s{worker}/chat-tasks", json={"taskId": task_id, "messageBubbles": BUBBLES}
                )
                slowest[0] = max(slowest[0], time.perf_counter() - started)
                statuses.append(response.status_code)
                if response.status_code == 201:
                    acknowledged.append(task_id)
                elif response.status_code == 503:
                    assert response.headers["retry-after"]
                    assert response.headers["content-type"].startswith("application/problem+json")
                i += 1
                time.sleep(0.01)

    try:
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        cluster.stop()
        time.sleep(1.5)
        with httpx.Client(base_url=server.url, headers=headers, timeout=15) as client:
            down = client.get("/health/ready")
            assert down.status_code == 503 and down.json()["stores"]["gateway"]["reachable"] is False
            assert client.get("/health").status_code == 200  # alive, just not ready
        cluster.start()
        back_at = time.monotonic()
        recovered = None
        with httpx.Client(base_url=server.url, headers=headers, timeout=15) as client:
            while time.monotonic() - back_at < 5:
                if (
                    client.post(
                        "/api/v1/sessions/probe/chat-tasks",
                        json={"taskId": f"probe-{time.monotonic_ns()}", "messageBubbles": BUBBLES},
                    ).status_code
                    == 201
                ):
                    recovered = time.monotonic() - back_at
                    break
                time.sleep(0.1)
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(20)
        assert recovered is not None, "the server did not recover within 5 s of the database's return"
        assert 503 in statuses and 500 not in statuses, sorted(set(statuses))
        assert slowest[0] < 10
        with httpx.Client(base_url=server.url, headers=headers) as client:
            stored = {
                t["taskId"] for w in range(4) for t in client.get(f"/api/v1/sessions/s{w}/chat-tasks").json()["tasks"]
            }
        assert set(acknowledged) <= stored
    finally:
        stop.set()
        server.stop()
