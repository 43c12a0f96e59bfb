"""The configuration never silently ignores what it is told: each case starts the real CLI."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, free_port
from tests.e2e.test_cli import STORE_VARIABLES, cli


def test_without_a_config_file_the_variables_of_env_example_are_read(tmp_path: Path) -> None:
    env = {
        "WEB_UI_GATEWAY_DATABASE_URL": "postgresql://webui:pw@db:5432/webui",
        "PLATFORM_DATABASE_URL": "postgresql://platform:pw@db:5432/platform",
        "AGENT_DATABASE_URL": "sqlite:///agents.db",
    }
    result = cli("check-config", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "gateway store: sql (postgresql://webui:***@db:5432/webui)" in result.stdout
    assert "platform store: postgresql://platform:***@db:5432/platform" in result.stdout
    assert "agent default: sql (sqlite:///agents.db)" in result.stdout
    unset = cli("check-config", cwd=tmp_path)
    assert "gateway store: sql (sqlite:///data/webui-gateway.db)" in unset.stdout
    assert "platform store: not configured" in unset.stdout


def test_a_database_url_without_a_type_is_an_error_naming_the_field(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        'session_service:\n  type: sql\n  database_url: "sqlite:///g.db"\n'
        'agents:\n  - name: helper\n    session_service: {database_url: "sqlite:///a.db"}\n'
    )
    result = cli("check-config", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "session-store: config error: agents[0].session_service (agent 'helper').type is missing: "
        "a store with a database_url needs type: sql (type: memory keeps nothing across restarts)"
    )
    config.write_text('session_service:\n  database_url: "sqlite:///g.db"\n')
    assert "session_service.type is missing" in cli("check-config", "--config", str(config), cwd=tmp_path).stderr


def test_a_dot_env_file_in_the_working_directory_sets_what_the_environment_does_not(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# as .env.example\n"
        "WEB_UI_GATEWAY_DATABASE_URL=postgresql://webui:from-dot-env@db:5432/webui\n"
        "PLATFORM_DATABASE_URL='postgresql://platform:quoted@db:5432/platform'\n"
    )
    result = cli("check-config", cwd=tmp_path, env={"PLATFORM_DATABASE_URL": "postgresql://p:env@other:5432/p"})
    assert result.returncode == 0, result.stderr
    assert "gateway store: sql (postgresql://webui:***@db:5432/webui)" in result.stdout
    assert "platform store: postgresql://p:***@other:5432/p" in result.stdout  # the environment wins
    assert "from-dot-env" not in result.stdout + result.stderr


def test_serve_does_not_log_what_dot_env_holds(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"SESSION_SECRET_KEY=dot-env-secret-{'x' * 32}\nPORT={free_port()}\n")
    server = Server(tmp_path / "unused.yaml", tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in (*STORE_VARIABLES, "SESSION_SECRET_KEY", "PORT")}
    port = int((tmp_path / ".env").read_text().split("PORT=")[1])
    server.port, server.url = port, f"http://127.0.0.1:{port}"
    try:
        server.start(args=[], env=env).wait_ready()
        assert "SESSION_SECRET_KEY is not set" not in server.output()  # the key came from .env
        assert "dot-env-secret" not in server.output()
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("logging:\n  level: LOUD\n", "logging.level"),
        ('session_service:\n  type: sql\n  database_url: "sqlite://data/x.db"\n', "three slashes"),
        ('session_service:\n  type: sql\n  database_url: "sqlite://"\n', "use type: memory"),
    ],
)
def test_check_config_refuses_what_serve_would_fail_on(tmp_path: Path, text: str, needle: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(text)
    checked = cli("check-config", "--config", str(config), cwd=tmp_path)
    assert checked.returncode == 2 and needle in checked.stderr
    served = cli("serve", "--config", str(config), "--port", str(free_port()), cwd=tmp_path)
    assert served.returncode == 2 and needle in served.stderr
    assert "Traceback" not in checked.stderr + served.stderr


def test_logging_levels_are_taken_in_any_case(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("session_service:\n  type: memory\nlogging:\n  level: debug\n")
    assert cli("check-config", "--config", str(config), cwd=tmp_path).returncode == 0


def test_a_port_in_use_is_one_line_and_exit_status_4(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("session_service:\n  type: memory\nagents: []\n")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = cli("serve", "--config", str(config), "--port", str(port), cwd=tmp_path)
    assert result.returncode == 4
    assert (
        result.stderr.strip().splitlines()[-1]
        == f"session-store: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert "Traceback" not in result.stderr
    bad = cli("serve", "--config", str(config), cwd=tmp_path, env={"PORT": "eighty"})
    assert bad.returncode == 2 and "PORT: 'eighty' is not a port number" in bad.stderr


def test_a_password_in_the_query_string_is_masked_too(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        'session_service:\n  type: sql\n  database_url: "postgresql://u@127.0.0.1:1/x?password=hunter2"\n'
        'platform_service:\n  database_url: "mysql+pymysql://u@127.0.0.1:1/p?passwd=hunter3"\n'
    )
    checked = cli("check-config", "--config", str(config), cwd=tmp_path)
    assert "postgresql://u@127.0.0.1:1/x?password=***" in checked.stdout
    assert "mysql+pymysql://u@127.0.0.1:1/p?passwd=***" in checked.stdout
    served = cli("serve", "--config", str(config), "--port", str(free_port()), cwd=tmp_path)
    assert served.returncode == 1
    everything = checked.stdout + checked.stderr + served.stdout + served.stderr
    assert "hunter2" not in everything and "hunter3" not in everything
    assert "password=***" in served.stderr


def test_trusted_header_sent_twice_is_a_400_whichever_comes_first(tmp_path: Path) -> None:
    # A real server: a test client merges repeated headers into one before the app sees them.
    config = tmp_path / "c.yaml"
    config.write_text(
        "session_service:\n  type: memory\nagents: []\n"
        "auth:\n  mode: trusted-header\n  trusted_header:\n    header: X-Auth-User\n    token: proxy-token\n"
    )
    server = Server(config, tmp_path)
    proxy = ("Authorization", "Bearer proxy-token")
    try:
        server.start().wait_ready()
        for headers in (
            [("X-Auth-User", "mallory"), proxy, ("X-Auth-User", "carol")],  # a client's own ahead of the proxy's
            [proxy, ("X-Auth-User", "carol"), ("X-Auth-User", "mallory")],
            [proxy, ("Authorization", "Bearer proxy-token"), ("X-Auth-User", "carol")],
        ):
            response = httpx.post(f"{server.url}/api/v1/sessions", json={"id": "s1"}, headers=headers)
            assert response.status_code == 400, response.text
            assert response.json()["invalid-params"][0]["name"] in ("x-auth-user", "authorization")
        non_ascii = [("Authorization", b"Bearer pr\xf6xy-token"), ("X-Auth-User", "carol")]
        assert httpx.get(f"{server.url}/api/v1/sessions", headers=non_ascii).status_code == 401  # not a 500
        mine = httpx.get(f"{server.url}/api/v1/sessions", headers=[proxy, ("X-Auth-User", "carol")])
        assert mine.status_code == 200 and mine.json()["data"] == []  # nothing was created
    finally:
        server.stop()
