"""A whole history is streamed: server memory stays flat whatever its size, and other requests do
not wait behind it. Measured on a real server: memory from /proc, /health answered during the read."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx

from tests.e2e.server import Server

TASKS, TASK_MB = 80, 2


def rss_mb(server: Server) -> float:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:"))


def test_a_large_history_streams_with_flat_memory_and_no_stall(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f'session_service: {{type: sql, database_url: "sqlite:///{tmp_path}/g.db"}}\nagents: []\n')
    server = Server(config, tmp_path).start().wait_ready()
    try:
        with server.client() as http:
            http.post("/api/v1/sessions", json={"id": "big"}).raise_for_status()
            for i in range(TASKS):
                text = f"{i:02}" + "w" * (TASK_MB * 1024 * 1024)
                bubbles = json.dumps([{"type": "agent", "text": text}])
                saved = http.post(
                    "/api/v1/sessions/big/chat-tasks", json={"taskId": f"t{i:02}", "messageBubbles": bubbles}
                )
                assert saved.status_code == 201
        before, peak = rss_mb(server), 0.0
        health: list[float] = []
        reading = threading.Event()

        def watch() -> None:
            nonlocal peak
            with httpx.Client(base_url=server.url, timeout=10) as other:
                while reading.is_set():
                    peak = max(peak, rss_mb(server))
                    started = time.perf_counter()
                    assert other.get("/health").status_code == 200
                    health.append((time.perf_counter() - started) * 1000)
                    time.sleep(0.01)

        received = 0
        reading.set()
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with server.client() as http, http.stream("GET", "/api/v1/sessions/big/chat-tasks") as answer:
                assert answer.status_code == 200
                body = bytearray()
                for chunk in answer.iter_bytes():
                    received += len(chunk)
                    body += chunk
        finally:
            reading.clear()
            watcher.join()
        history = json.loads(body)
        assert [t["taskId"] for t in history["tasks"]] == [f"t{i:02}" for i in range(TASKS)]
        assert history["nextCursor"] is None
        assert received > TASKS * TASK_MB * 1024 * 1024
        growth = peak - before
        health.sort()
        p99 = health[int(len(health) * 0.99) - 1] if health else 0.0
        print(f"history {received / 2**20:.0f} MB: server memory +{growth:.0f} MB, /health p99 {p99:.1f} ms")
        assert growth < TASKS * TASK_MB / 2.5, f"memory grew {growth:.0f} MB for a {received / 2**20:.0f} MB history"
        assert len(health) >= 3 and p99 < 250, health
        with server.client() as http:
            messages = http.get("/api/v1/sessions/big/messages").json()
            assert len(messages) == TASKS and messages[0]["message"].startswith("00")
            assert http.get("/api/v1/sessions/none/chat-tasks").status_code == 404
            assert http.get("/api/v1/sessions/none/messages").status_code == 404
    finally:
        server.stop()
