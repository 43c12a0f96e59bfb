"""An export of 100,000 chat tasks streams with flat server memory (memory from /proc, /health
answered during the read), every task in it once; it imports whole into a fresh server, though it is
larger than a request body may be, and exports from there the same."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from domain.gateway.model import ChatTask
from tests.e2e.test_streaming import read_streamed, rss_mb, serve

SESSIONS, TASKS_EACH = 1_000, 100
BUBBLES = json.dumps([{"type": "agent", "text": "Around 22 degrees in Lisbon in May, cooler at night."}])


def seed(database: Path) -> None:
    """alice's 1,000 sessions of 100 tasks each, written as the server writes them (search columns too)."""
    task = ChatTask("t", "s", "alice", "How warm is Lisbon?", BUBBLES, None, 0, 0)
    message, bubbles = task.search_message(), task.search_bubbles()
    with sqlite3.connect(database) as db:
        db.executemany(
            "INSERT INTO sessions (id, user_id, created_time, updated_time) VALUES (?, 'alice', ?, ?)",
            ((f"s{n:04}", n, n) for n in range(SESSIONS)),
        )
        db.executemany(
            "INSERT INTO chat_tasks (id, session_id, user_id, user_message, message_bubbles, created_time,"
            " updated_time, search_message, search_bubbles)"
            " VALUES (?, ?, 'alice', 'How warm is Lisbon?', ?, ?, ?, ?, ?)",
            (
                (f"s{n:04}-t{i:03}", f"s{n:04}", BUBBLES, i, i, message, bubbles)
                for n in range(SESSIONS)
                for i in range(TASKS_EACH)
            ),
        )


def test_an_export_of_100000_tasks_streams_with_flat_memory(tmp_path: Path) -> None:
    server = serve(tmp_path)
    try:
        seed(tmp_path / "g.db")
        received, growth, p99, body = read_streamed(server, "/api/v1/users/me/export")
        kinds: dict[str, int] = {}
        for line in body.splitlines():
            kind = json.loads(line)["kind"]
            kinds[kind] = kinds.get(kind, 0) + 1
        assert kinds == {"session": SESSIONS, "chatTask": SESSIONS * TASKS_EACH, "userState": 1}
        print(f"export of {SESSIONS * TASKS_EACH:,} tasks, {received / 2**20:.0f} MB: server memory +{growth:.0f} MB, "
              f"/health p99 {p99:.1f} ms")  # fmt: skip
        assert growth < 30, f"memory grew {growth:.0f} MB for a {received / 2**20:.0f} MB export"
        assert p99 < 250
    finally:
        server.stop()

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    other = serve(fresh)
    try:
        assert len(body) > 10 * 1024 * 1024  # over server.max_body_size: read line by line, not whole

        def chunks() -> Iterator[bytes]:
            yield from (body[i : i + 65536] for i in range(0, len(body), 65536))

        before, started = rss_mb(other), time.monotonic()
        headers = {"X-User-Id": "alice", "content-type": "application/x-ndjson"}
        imported = httpx.post(f"{other.url}/api/v1/users/me/import", content=chunks(), headers=headers, timeout=600)
        took, growth = time.monotonic() - started, rss_mb(other) - before
        assert imported.status_code == 200, imported.text
        assert imported.json()["added"] == {"session": SESSIONS, "chatTask": SESSIONS * TASKS_EACH}
        print(f"import of the same: {took:.0f} s, server memory +{growth:.0f} MB")
        assert growth < 60, f"memory grew {growth:.0f} MB importing a {len(body) / 2**20:.0f} MB file"
        with other.client() as alice:
            again = alice.get("/api/v1/users/me/export").content
        assert sorted(again.splitlines()) == sorted(bytes(body).splitlines())
    finally:
        other.stop()
