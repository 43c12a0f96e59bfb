"""The seed's promise, with a real server process: what was saved is there after a crash and restart."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from infrastructure.sql import migrate
from infrastructure.sql.urls import sync_url
from tests.databases import fresh_database
from tests.e2e.server import Server


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "session-store.yaml"
    path.write_text(f'session_service:\n  type: "sql"\n  database_url: "{url}"\n')
    return path


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_database("postgres") as url:
        yield url


@pytest.fixture(params=["postgres", "mysql"])
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database on each shared-server backend."""
    with fresh_database(request.param) as url:
        yield url


def converse(server: Server, session_id: str, turns: range) -> list[str]:
    with server.client() as client:
        if client.get(f"/api/v1/sessions/{session_id}").status_code == 404:
            assert client.post("/api/v1/sessions", json={"id": session_id}).status_code == 201
        for i in turns:
            bubbles = json.dumps([{"type": "user", "text": f"q{i}"}, {"type": "agent", "text": f"a{i}"}])
            response = client.post(
                f"/api/v1/sessions/{session_id}/chat-tasks",
                json={"taskId": f"{session_id}-t{i}", "userMessage": f"q{i}", "messageBubbles": bubbles},
            )
            assert response.status_code == 201, response.text
        history = client.get(f"/api/v1/sessions/{session_id}/chat-tasks").json()["tasks"]
    return [t["userMessage"] for t in history]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_history_survives_sigkill_and_restart(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'gateway.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    server = Server(write_config(tmp_path, url), tmp_path).start().wait_ready()
    try:
        with server.client() as client:
            created = client.post("/api/v1/sessions", json={"name": "Before the crash"}).json()["data"]
        before = converse(server, created["id"], range(3))
        server.kill()
        server.start().wait_ready()
        with server.client() as client:
            assert client.get(f"/api/v1/sessions/{created['id']}").json()["data"]["name"] == "Before the crash"
        assert converse(server, created["id"], range(3, 4)) == [*before, "q3"]
        assert "schema current" in server.output()
    finally:
        server.stop()


def test_two_instances_starting_together_both_migrate_safely(tmp_path: Path, server_url: str) -> None:
    config = write_config(tmp_path, server_url)
    servers = [Server(config, tmp_path), Server(config, tmp_path)]
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        engine = create_engine(sync_url(server_url))
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= {"sessions", "chat_tasks", "feedback"}
            versions = connection.execute(text("SELECT version_num FROM gateway_alembic_version")).all()
            assert versions == [(migrate.head("gateway"),)]
        engine.dispose()
        logs = [s.output() for s in servers]
        assert sum("schema migrated" in log for log in logs) == 1
        assert sum("schema current" in log for log in logs) == 1
        # Both serve the same database.
        threads = [threading.Thread(target=converse, args=(s, f"s{i}", range(2))) for i, s in enumerate(servers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with servers[0].client() as client:
            assert client.get("/api/v1/sessions").json()["meta"]["pagination"]["count"] == 2
    finally:
        for server in servers:
            server.stop()


def test_a_failed_migration_stops_startup_with_the_reason(tmp_path: Path, postgres_url: str) -> None:
    engine = create_engine(sync_url(postgres_url))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE sessions (squatter INTEGER)"))
    engine.dispose()
    command = [sys.executable, "-m", "app.cli", "serve", "--config", str(write_config(tmp_path, postgres_url))]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("session-store: cannot start: gateway store at postgresql://")
    assert "already exists" in last
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    config = write_config(tmp_path, "postgresql://user:s3cret-pw@127.0.0.1:1/db")
    command = [sys.executable, "-m", "app.cli", "serve", "--config", str(config)]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "s3cret-pw" not in result.stderr + result.stdout
    assert "gateway store at postgresql://user:***@127.0.0.1:1/db" in result.stderr


def test_a_config_mistake_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("session_service:\n  type: sqll\n")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--config", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "session_service.type" in result.stderr


def test_database_passwords_never_reach_the_logs(tmp_path: Path, postgres_url: str) -> None:
    # The test server trusts local connections, so any password works: all that matters is where it shows.
    secret = "hunter2-do-not-log"
    url = postgres_url.replace("postgres@", f"postgres:{secret}@", 1)
    assert secret in url
    server = Server(write_config(tmp_path, url), tmp_path).start().wait_ready()
    try:
        converse(server, "s1", range(2))
        with server.client() as client:
            client.get("/api/v1/sessions/nope")
            client.post("/api/v1/sessions/s1/chat-tasks", content=b"{broken")
            ready = client.get("/health/ready").text
            schema = client.get("/schema/openapi.json").text
    finally:
        server.stop()
    log = server.output()
    assert "postgres:***@" in log and '"request_id"' in log
    assert secret not in log + ready + schema


def test_a_request_waiting_on_the_database_does_not_block_the_others(tmp_path: Path, postgres_url: str) -> None:
    server = Server(write_config(tmp_path, postgres_url), tmp_path).start().wait_ready()
    engine = create_engine(sync_url(postgres_url))
    try:
        converse(server, "s1", range(1))
        with engine.connect() as locker:
            locker.execute(text("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE"))  # held until rollback
            results: dict[str, int] = {}

            def blocked_write() -> None:
                with server.client() as client:
                    body = {"taskId": "t-late", "messageBubbles": json.dumps([{"type": "agent", "text": "late"}])}
                    results["write"] = client.post("/api/v1/sessions/s1/chat-tasks", json=body).status_code

            writer = threading.Thread(target=blocked_write)
            writer.start()
            time.sleep(0.3)
            assert writer.is_alive()  # stuck behind the lock, inside the server
            with server.client() as client:
                started = time.perf_counter()
                for _ in range(20):
                    assert client.get("/health").status_code == 200
                assert time.perf_counter() - started < 1.0  # 20 answers while the write waits
            locker.rollback()
        writer.join(10)
        assert results == {"write": 201}
    finally:
        engine.dispose()
        server.stop()
