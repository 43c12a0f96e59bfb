"""The `session-store` command as an operator uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from infrastructure.sql import migrate
from tests.e2e.server import Server

# The variables a config reads: the tests' own environment must not choose the stores.
STORE_VARIABLES = (
    "SESSION_STORE_CONFIG",
    "WEB_UI_GATEWAY_DATABASE_URL",
    "PLATFORM_DATABASE_URL",
    "AGENT_DATABASE_URL",
)


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in STORE_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **(env or {})},
    )


# The heads of the lineages this test knows, as the code has them.
G, A = migrate.head("gateway"), migrate.head("agent")


def test_db_upgrade_then_current(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    gateway, agent = f"sqlite:///{tmp_path}/g.db", f"sqlite:///{tmp_path}/a.db"
    config.write_text(
        f'session_service:\n  type: sql\n  database_url: "{gateway}"\n'
        f'agents:\n  - name: a\n    session_service:\n      type: sql\n      database_url: "{agent}"\n'
    )

    def run(*command: str) -> list[str]:
        result = cli(*command, "--config", str(config), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()

    assert run("db", "current") == [
        f"gateway store at {gateway}: empty (behind head {G})",
        f"agent store at {agent}: empty (behind head {A})",
    ]
    assert run("db", "upgrade") == [
        f"gateway store at {gateway}: empty -> {G}",
        f"agent store at {agent}: empty -> {A}",
    ]
    assert run("db", "upgrade") == [
        f"gateway store at {gateway}: {G} (current)",
        f"agent store at {agent}: {A} (current)",
    ]
    assert run("db", "current") == [
        f"gateway store at {gateway}: {G} (current)",
        f"agent store at {agent}: {A} (current)",
    ]


def test_db_downgrade_history_and_check(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    gateway, agent = f"sqlite:///{tmp_path}/g.db", f"sqlite:///{tmp_path}/a.db"
    config.write_text(
        f'session_service:\n  type: sql\n  database_url: "{gateway}"\n'
        f'agents:\n  - name: a\n    session_service:\n      type: sql\n      database_url: "{agent}"\n'
    )

    def run(*command: str, status: int = 0) -> str:
        result = cli(*command, "--config", str(config), cwd=tmp_path)
        assert result.returncode == status, result.stderr
        return result.stdout

    run("db", "upgrade")
    assert f"gateway store at {gateway}: matches the schema the code uses" in run("db", "check")
    history = run("db", "history", "--lineage", "agent")
    assert f"agent store at {agent}:" in history and f"{A} (head) (current)" in history
    assert "gateway store" not in history
    assert run("db", "downgrade", "--lineage", "agent", "base").strip() == f"agent store at {agent}: now at empty"
    checked = run("db", "check", status=1)  # the agent store is behind: check says so
    assert f"agent store at {agent}: " in checked and "db upgrade" in checked
    assert run("db", "current").splitlines()[1] == f"agent store at {agent}: empty (behind head {A})"
    run("db", "upgrade")
    assert run("db", "check").count("matches the schema the code uses") == 2


def test_db_upgrade_names_an_unreachable_database_without_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text('session_service:\n  type: sql\n  database_url: "postgresql://u:secret@127.0.0.1:1/x"\n')
    result = cli("db", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("session-store: failed: gateway store at postgresql://u:***@127.0.0.1:1/x")
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


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
    assert result.returncode == 0, result.stdout
    assert "gateway store: sql (postgresql://u:***@db:5432/webui)" in result.stdout
    assert "Scenario A: gateway and agents persistent" in result.stdout
    assert "topsecret" not in result.stdout + result.stderr


def test_serve_takes_config_host_and_port_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text('session_service:\n  type: "memory"\n')
    server = Server(config, tmp_path)
    env = {**os.environ, "SESSION_STORE_CONFIG": str(config), "HOST": "127.0.0.1", "PORT": str(server.port)}
    try:
        server.start(args=[], env=env).wait_ready()
        assert httpx.get(f"{server.url}/health/ready").json()["stores"]["gateway"]["type"] == "memory"
    finally:
        server.stop()


def test_make_run_default_is_sqlite_under_data(tmp_path: Path) -> None:
    server = Server(tmp_path / "unused.yaml", tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("SESSION_STORE_CONFIG", "SESSION_SECRET_KEY")}
    try:
        server.start(args=["--port", str(server.port)], env=env).wait_ready()
        with server.client() as client:
            assert client.post("/api/v1/sessions", json={"name": "kept"}).status_code == 201
        assert (tmp_path / "data" / "webui-gateway.db").exists()
        assert (tmp_path / "data" / "agent-session.db").exists()
        assert "SESSION_SECRET_KEY is not set" in server.output()
    finally:
        server.stop()


SCENARIO_CONFIGS = {
    "A": 'session_service:\n  type: sql\n  database_url: "sqlite:///g.db"\n'
    'agents:\n  - name: a\n    session_service: {type: sql, database_url: "sqlite:///a.db"}\n',
    "B": "session_service:\n  type: memory\nagents:\n  - name: a\n    session_service: {type: memory}\n",
    "C": "session_service:\n  type: memory\n"
    'agents:\n  - name: a\n    session_service: {type: sql, database_url: "sqlite:///a.db"}\n',
    "D": 'session_service:\n  type: sql\n  database_url: "sqlite:///g.db"\n'
    "agents:\n  - name: a\n    session_service: {type: memory}\n",
}


@pytest.mark.parametrize("scenario", sorted(SCENARIO_CONFIGS))
def test_check_config_names_the_scenario(tmp_path: Path, scenario: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(SCENARIO_CONFIGS[scenario])
    result = cli("check-config", "--config", str(config), cwd=tmp_path)
    assert f"Scenario {scenario}:" in result.stdout
    assert result.returncode == (3 if scenario == "D" else 0)
    if scenario == "D":
        assert "broken experience" in result.stdout and "warning:" in result.stdout
    if scenario in "BC":
        assert "note:" in result.stdout


@pytest.mark.parametrize("scenario", sorted(SCENARIO_CONFIGS))
def test_readiness_reports_the_scenario(tmp_path: Path, scenario: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(SCENARIO_CONFIGS[scenario])
    server = Server(config, tmp_path).start()
    try:
        server.wait_ready()
        ready = httpx.get(f"{server.url}/health/ready").json()
        assert ready["scenario"] == scenario and ready["agents"]["a"]["scenario"] == scenario
        if scenario == "D":
            assert "scenario" in server.output() and "broken experience" in server.output()
    finally:
        server.stop()


def test_serving_beyond_loopback_needs_a_session_secret_key(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text('session_service:\n  type: "memory"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSION_SECRET_KEY")}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--config", str(config), "--host", "0.0.0.0", "--port", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2
    assert "SESSION_SECRET_KEY is required when serving on 0.0.0.0" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("scenario", "failing"), [("A", []), ("C", ["history"]), ("D", ["remembers"])])
def test_verify_runs_the_guides_steps_and_fails_where_the_scenario_breaks(
    tmp_path: Path, scenario: str, failing: list[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(SCENARIO_CONFIGS[scenario])
    result = cli("verify", "--config", str(config), cwd=tmp_path)
    lines = result.stdout.splitlines()
    failed = [line for line in lines if line.startswith("FAIL")]
    assert result.returncode == (1 if failing else 0), result.stdout + result.stderr
    assert len(failed) == len(failing)
    for word in failing:
        assert any(word in line for line in failed)
    assert any("restart the application" in line and line.startswith("PASS") for line in lines)


def test_mode_none_beyond_loopback_is_warned_about(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text('session_service:\n  type: "memory"\nagents: []\n')
    server = Server(config, tmp_path)
    args = ["--config", str(config), "--host", "0.0.0.0", "--port", str(server.port)]
    try:
        server.start(args=args, env={**os.environ, "SESSION_SECRET_KEY": "k" * 40}).wait_ready()
    finally:
        server.stop()
    assert "auth.mode is none on a non-loopback address" in server.output()
