"""A whole history is streamed: server memory stays flat whatever its size, and other requests do
not wait behind it. Measured on a real server: memory from /proc, /health answered during the read."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx

from tests.e2e.server import Server

TASKS, TASK_MB = 160, 1


def rss_mb(server: Server) -> float:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:"))


def serve(tmp_path: Path) -> Server:
    """A server with the gateway and agent `a` on SQLite files of their own."""
    config = tmp_path / "c.yaml"
    config.write_text(
        f'session_service: {{type: sql, database_url: "sqlite:///{tmp_path}/g.db"}}\n'
        f'agents:\n  - name: a\n    session_service: {{type: sql, database_url: "sqlite:///{tmp_path}/a.db"}}\n'
    )
    return Server(config, tmp_path).start().wait_ready()


def large_text(i: int) -> str:
    """Item i's text: its number, then TASK_MB of filler."""
    return f"{i:02}" + "w" * (TASK_MB * 1024 * 1024)


def test_a_large_history_streams_with_flat_memory_and_no_stall(tmp_path: Path) -> None:
    server = serve(tmp_path)
    try:
        with server.client() as http:
            http.post("/api/v1/sessions", json={"id": "big"}).raise_for_status()
            for i in range(TASKS):
                bubbles = json.dumps([{"type": "agent", "text": large_text(i)}])
                saved = http.post(
                    "/api/v1/sessions/big/chat-tasks", json={"taskId": f"t{i:02}", "messageBubbles": bubbles}
                )
                assert saved.status_code == 201
        received, growth, p99, body = read_streamed(server, "/api/v1/sessions/big/chat-tasks")
        history = json.loads(body)
        assert [t["taskId"] for t in history["tasks"]] == [f"t{i:02}" for i in range(TASKS)]
        assert history["nextCursor"] is None
        assert received > TASKS * TASK_MB * 1024 * 1024
        print(f"history {received / 2**20:.0f} MB: server memory +{growth:.0f} MB, /health p99 {p99:.1f} ms")
        assert growth < TASKS * TASK_MB / 2.5, f"memory grew {growth:.0f} MB for a {received / 2**20:.0f} MB history"
        assert p99 < 250
        with server.client() as http:
            with http.stream("GET", "/api/v1/sessions/big/chat-tasks") as answer:
                next(answer.iter_raw())  # a client that goes away mid-stream
            assert http.get("/health").status_code == 200
            messages = http.get("/api/v1/sessions/big/messages").json()
            assert len(messages) == TASKS and messages[0]["message"].startswith("00")
            assert http.get("/api/v1/sessions/none/chat-tasks").status_code == 404
            assert http.get("/api/v1/sessions/none/messages").status_code == 404
        assert "Traceback" not in server.output() and "unhandled error" not in server.output()
    finally:
        server.stop()


def read_streamed(server: Server, path: str) -> tuple[int, float, float, bytes]:
    """Reads `path` as a client streams it, while another client asks /health and the server's
    memory is sampled: (bytes received, server memory growth MB, /health p99 ms, the body)."""
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

    body = bytearray()
    reading.set()
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with server.client() as http, http.stream("GET", path) as answer:
            assert answer.status_code == 200
            for chunk in answer.iter_bytes():
                body += chunk
    finally:
        reading.clear()
        watcher.join()
    assert len(health) >= 3, "/health was not answered during the read"
    health.sort()
    return len(body), peak - before, health[int(len(health) * 0.99) - 1], bytes(body)


def test_a_large_agent_session_streams_with_flat_memory(tmp_path: Path) -> None:
    server = serve(tmp_path)
    try:
        with server.client() as http:
            http.post("/api/v1/agents/a/sessions", json={"sessionId": "big"}).raise_for_status()
            for i in range(TASKS):
                event = {"invocationId": "i", "author": "tool", "content": {"parts": [{"text": large_text(i)}]}}
                http.post("/api/v1/agents/a/sessions/big/events", json=event).raise_for_status()
        received, growth, p99, body = read_streamed(server, "/api/v1/agents/a/sessions/big")
        session = json.loads(body)
        assert [e["sequence"] for e in session["events"]] == list(range(1, TASKS + 1))
        assert session["id"] == "big" and session["version"] == TASKS + 1  # created, then one per event
        print(f"agent session {received / 2**20:.0f} MB: server memory +{growth:.0f} MB, /health p99 {p99:.1f} ms")
        assert growth < TASKS * TASK_MB / 2.5 and p99 < 250
    finally:
        server.stop()
