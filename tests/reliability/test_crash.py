"""SIGKILL under write load: every write the client saw acknowledged is there after the restart,
and nothing half-written is visible."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.databases import fresh_database
from tests.e2e.server import Server, one_database_config

BUBBLES = json.dumps([{"type": "agent", "text": "written under load"}])


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.db'}"
        return
    with fresh_database("postgres") as url:
        yield url


def test_acknowledged_writes_survive_sigkill(tmp_path: Path, database: str) -> None:
    config = one_database_config(tmp_path, database)
    server = Server(config, tmp_path).start().wait_ready()
    acknowledged: dict[str, list[str]] = {"tasks": [], "events": []}
    stop = threading.Event()
    headers = {"X-User-Id": "loader"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        assert client.post("/api/v1/agents/a/sessions", json={"sessionId": "hot"}).status_code == 201
        for worker in range(6):
            assert client.post("/api/v1/sessions", json={"id": f"s{worker}"}).status_code == 201

    def writer(worker: int) -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=5) as client:
            i = 0
            while not stop.is_set():
                task_id, event_id = f"w{worker}-t{i}", f"w{worker}-e{i}"
                try:
                    saved = client.post(
                        f"/api/v1/sessions/s{worker}/chat-tasks", json={"taskId": task_id, "messageBubbles": BUBBLES}
                    )
                    if saved.status_code == 201:
                        acknowledged["tasks"].append(task_id)
                    event = {
                        "id": event_id,
                        "invocationId": f"w{worker}",
                        "author": "a",
                        "actions": {"stateDelta": {f"w{worker}": i}},
                    }
                    appended = client.post("/api/v1/agents/a/sessions/hot/events", json=event)
                    if appended.status_code == 201:
                        acknowledged["events"].append(event_id)
                except httpx.HTTPError:
                    return  # the server died under us: whatever was not acknowledged may be lost
                i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(10)
    assert len(acknowledged["tasks"]) > 20 and len(acknowledged["events"]) > 20

    server.start().wait_ready()
    try:
        with httpx.Client(base_url=server.url, headers=headers) as client:
            stored_tasks = {
                t["taskId"] for w in range(6) for t in client.get(f"/api/v1/sessions/s{w}/chat-tasks").json()["tasks"]
            }
            session = client.get("/api/v1/agents/a/sessions/hot").json()
        assert set(acknowledged["tasks"]) <= stored_tasks
        stored_events = [e["id"] for e in session["events"]]
        assert set(acknowledged["events"]) <= set(stored_events)
        # Nothing half-written: sequences 1..N with the version N + 1, and the state of every event applied.
        assert [e["sequence"] for e in session["events"]] == list(range(1, len(stored_events) + 1))
        assert session["version"] == len(stored_events) + 1
        for event in session["events"]:
            worker, value = next(iter(event["actions"]["stateDelta"].items()))
            assert session["state"][worker] >= value
    finally:
        server.stop()
