"""The `session-store` command as an operator uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.server import Server, free_port


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_db_upgrade_then_current(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f'session_service:\n  type: sql\n  database_url: "sqlite:///{tmp_path}/g.db"\n')
    assert cli("db", "current", "--config", str(config), cwd=tmp_path).stdout.strip() == (
        "gateway store: empty (behind head 0001)"
    )
    upgraded = cli("db", "upgrade", "--config", str(config), cwd=tmp_path)
    assert upgraded.returncode == 0 and upgraded.stdout.strip() == "gateway store: empty -> 0001"
    assert cli("db", "upgrade", "--config", str(config), cwd=tmp_path).stdout.strip() == "gateway store: 0001 (current)"
    assert cli("db", "current", "--config", str(config), cwd=tmp_path).stdout.strip() == "gateway store: 0001 (current)"


def test_check_config_shows_the_stores_with_passwords_masked(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text('session_service:\n  type: sql\n  database_url: "${WEB_UI_GATEWAY_DATABASE_URL}"\n')
    result = cli(
        "check-config",
        "--config",
        str(config),
        cwd=tmp_path,
        env={"WEB_UI_GATEWAY_DATABASE_URL": "postgresql://u:topsecret@db:5432/webui"},
    )
    assert result.returncode == 0
    assert "gateway store: sql (postgresql://u:***@db:5432/webui)" in result.stdout
    assert "topsecret" not in result.stdout + result.stderr


def test_serve_takes_config_host_and_port_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text('session_service:\n  type: "memory"\n')
    port = free_port()
    env = {**os.environ, "SESSION_STORE_CONFIG": str(config), "HOST": "127.0.0.1", "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = Server(config, tmp_path, port)
    server.process = process  # type: ignore[assignment]
    try:
        server.wait_ready()
        assert httpx.get(f"{server.url}/health/ready").json()["stores"]["gateway"]["type"] == "memory"
    finally:
        server.stop()


def test_make_run_default_is_sqlite_under_data(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "SESSION_STORE_CONFIG"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server(tmp_path / "unused.yaml", tmp_path, port)
    server.process = process  # type: ignore[assignment]
    try:
        server.wait_ready()
        with server.client() as client:
            assert client.post("/api/v1/sessions", json={"name": "kept"}).status_code == 201
        assert (tmp_path / "data" / "webui-gateway.db").exists()
    finally:
        server.stop()
