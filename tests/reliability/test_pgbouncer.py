"""PgBouncer in transaction mode between Session Store and PostgreSQL (Debian's `pgbouncer`; .ci/run
installs it): the chat loop and agent appends from several clients go through it with no 5xx and
nothing acknowledged lost, the URL saying `prepare_threshold=none`. Migrations go through it too."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.databases import IN_CI
from tests.e2e.server import Server, free_port, one_database_config
from tests.reliability.throwaway_postgres import running_postgres

BUBBLES = json.dumps([{"type": "agent", "text": "ok"}])
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


@pytest.fixture
def bouncer_url() -> Iterator[str]:
    if not Path(PGBOUNCER).exists():
        message = "pgbouncer not installed (Debian's pgbouncer package; .ci/run installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with running_postgres() as postgres:
        port = free_port()
        ini, users = postgres.root / "pgbouncer.ini", postgres.root / "users.txt"
        users.write_text('"postgres" ""\n')
        ini.write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={postgres.port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {users}\n"
            "pool_mode = transaction\ndefault_pool_size = 6\nmax_client_conn = 500\n"
            # A connection parameter PgBouncer cannot pass on: set statement_timeout on the role instead.
            "ignore_startup_parameters = extra_float_digits,options\n"
        )
        shutil.chown(ini, "postgres")
        shutil.chown(users, "postgres")
        command = ["runuser", "-u", "postgres", "--", PGBOUNCER, str(ini)]
        bouncer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    time.sleep(0.1)
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres?prepare_threshold=none"
        finally:
            bouncer.terminate()
            bouncer.wait(10)


def test_the_chat_loop_and_appends_through_pgbouncer_in_transaction_mode(tmp_path: Path, bouncer_url: str) -> None:
    server = Server(one_database_config(tmp_path, bouncer_url), tmp_path).start().wait_ready()
    statuses: list[int] = []
    acknowledged: list[tuple[str, str]] = []
    try:

        def client(worker: int) -> None:
            user = {"X-User-Id": f"u{worker}"}
            with httpx.Client(base_url=server.url, headers=user, timeout=30) as http:
                statuses.append(http.post("/api/v1/sessions", json={"id": f"s{worker}"}).status_code)
                statuses.append(http.post("/api/v1/agents/a/sessions", json={"sessionId": f"s{worker}"}).status_code)
                for i in range(25):  # past psycopg's prepare threshold many times over, on every connection
                    saved = http.post(
                        f"/api/v1/sessions/s{worker}/chat-tasks",
                        json={"taskId": f"w{worker}-{i}", "messageBubbles": BUBBLES},
                    )
                    statuses.append(saved.status_code)
                    if saved.status_code == 201:
                        acknowledged.append((f"s{worker}", f"w{worker}-{i}"))
                    statuses.append(http.get(f"/api/v1/sessions/s{worker}/chat-tasks").status_code)
                    statuses.append(http.get("/api/v1/sessions").status_code)
                    event = {"invocationId": "i", "author": "user", "id": f"e{i}", "actions": {"stateDelta": {"n": i}}}
                    statuses.append(http.post(f"/api/v1/agents/a/sessions/s{worker}/events", json=event).status_code)

        threads = [threading.Thread(target=client, args=(w,)) for w in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert statuses and all(status < 500 for status in statuses), sorted(set(statuses))
        assert len(acknowledged) == 12 * 25
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for worker in range(12):
                user = {"X-User-Id": f"u{worker}"}
                tasks = http.get(f"/api/v1/sessions/s{worker}/chat-tasks", headers=user).json()["tasks"]
                assert len(tasks) == 25
                session = http.get(f"/api/v1/agents/a/sessions/s{worker}", headers=user).json()
                assert len(session["events"]) == 25 and session["state"] == {"n": 24}
    finally:
        server.stop()
    assert "Traceback" not in server.output()
