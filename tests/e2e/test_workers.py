"""`session-store serve --workers N`: N processes on one port, migrated once before they start, and
on SIGTERM every worker finishes what it was answering."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from infrastructure.sql.urls import sync_url
from tests.databases import fresh_database
from tests.e2e.server import Server

BUBBLES = json.dumps([{"type": "agent", "text": "ok"}])


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def test_workers_share_the_port_migrate_once_and_drain_on_sigterm(tmp_path: Path) -> None:
    with fresh_database("postgres") as url:
        config = tmp_path / "c.yaml"
        config.write_text(f'session_service:\n  type: sql\n  database_url: "{url}"\nagents: []\n')
        server = Server(config, tmp_path)
        server.start(args=["--config", str(config), "--port", str(server.port), "--workers", "2"]).wait_ready()
        assert server.process is not None
        try:
            assert len(children(server.process.pid)) == 2
            with server.client() as client:
                for i in range(8):
                    assert client.post("/api/v1/sessions", json={"id": f"s{i}"}).status_code == 201
                assert client.get("/api/v1/sessions").json()["meta"]["pagination"]["count"] == 8
            assert server.output().count("schema migrated") == 1  # the gateway store, by the parent alone

            # Requests in flight in both workers, held by a lock; SIGTERM; then the lock goes.
            engine = create_engine(sync_url(url))
            statuses: list[int] = []
            with engine.connect() as locker:
                locker.execute(text("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE"))

                def rename(i: int) -> None:
                    with httpx.Client(base_url=server.url, headers={"X-User-Id": "alice"}, timeout=30) as client:
                        statuses.append(client.patch(f"/api/v1/sessions/s{i}", json={"name": "late"}).status_code)

                writers = [threading.Thread(target=rename, args=(i,)) for i in range(6)]
                for writer in writers:
                    writer.start()
                time.sleep(0.5)
                server.process.terminate()
                time.sleep(1.0)
                assert all(writer.is_alive() for writer in writers)  # waiting on the lock, not cut off
                locker.rollback()
            for writer in writers:
                writer.join(30)
            engine.dispose()
            assert statuses == [200] * 6
            assert server.process.wait(30) == 0
        finally:
            server.stop()
