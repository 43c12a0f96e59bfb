"""The config file as the seed documents it, and clear errors for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.agent.model import Behavior
from infrastructure.config.loader import ConfigError, load_config
from infrastructure.config.model import StoreType


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_no_file_is_scenario_a_on_sqlite_under_data() -> None:
    config = load_config(None, {})
    assert config.session_service.type is StoreType.SQL
    assert config.session_service.database_url == "sqlite:///data/webui-gateway.db"
    assert config.platform_service.database_url is None


def test_the_seeds_gateway_config_takes_its_url_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, 'session_service:\n  type: "sql"\n  database_url: "${WEB_UI_GATEWAY_DATABASE_URL}"\n')
    url = "postgresql://webui_user:secure_pass@db.example.com:5432/webui_db"
    config = load_config(path, {"WEB_UI_GATEWAY_DATABASE_URL": url})
    assert config.session_service.database_url == url


def test_a_default_applies_when_the_variable_is_unset_or_empty(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'session_service:\n  type: sql\n  database_url: "${WEB_UI_GATEWAY_DATABASE_URL, sqlite:///webui-gateway.db}"\n'
        'platform_service:\n  database_url: "${PLATFORM_DATABASE_URL, sqlite:///platform.db}"\n',
    )
    for env in ({}, {"WEB_UI_GATEWAY_DATABASE_URL": ""}):
        config = load_config(path, env)
        assert config.session_service.database_url == "sqlite:///webui-gateway.db"
        assert config.platform_service.database_url == "sqlite:///platform.db"


def test_a_missing_variable_without_default_names_field_and_variable(tmp_path: Path) -> None:
    path = write(tmp_path, 'session_service:\n  type: "sql"\n  database_url: "${WEB_UI_GATEWAY_DATABASE_URL}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    message = str(caught.value)
    assert "session_service.database_url" in message and "WEB_UI_GATEWAY_DATABASE_URL" in message
    assert "\n" not in message


def test_unset_platform_url_means_no_platform_store(tmp_path: Path) -> None:
    path = write(tmp_path, 'platform_service:\n  database_url: "${PLATFORM_DATABASE_URL}"\n')
    assert load_config(path, {}).platform_service.database_url is None


def test_memory_needs_no_url(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'session_service:\n  type: "memory"\n'), {})
    assert config.session_service.type is StoreType.MEMORY


def test_the_seeds_shared_anchor_pattern_loads_as_written(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
session_service: &default_session_service
  type: "sql"
  database_url: "${SESSION_DATABASE_URL, sqlite:///session.db}"
  default_behavior: "PERSISTENT"

agents:
  - name: agent-a
    session_service: *default_session_service

  - name: agent-b
    session_service: *default_session_service
""",
    )
    config = load_config(path, {})
    assert [a.name for a in config.agents] == ["agent-a", "agent-b"]
    assert all(a.session_service.database_url == "sqlite:///session.db" for a in config.agents)
    assert config.agents[0].session_service.default_behavior is Behavior.PERSISTENT


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("session_service:\n  type: sqll\n", "session_service.type"),
        ("session_service:\n  type: sql\n  databse_url: sqlite:///x.db\n", "databse_url"),
        ("sesion_service: {}\n", "sesion_service"),
        (
            "agents:\n  - name: a\n    session_service: {type: memory, default_behavior: SOMETIMES}\n",
            "default_behavior",
        ),
        ("agents:\n  - name: 'a/b'\n", "name"),
        ("agents:\n  - name: a\n  - name: a\n", "duplicate agent name 'a'"),
        ("session_service:\n  type: sql\n  database_url: oracle://x/y\n", "session_service.database_url"),
        ("session_service:\n  type: sql\n  database_url: 'sqlite://'\n", "use type: memory"),
        (
            "agents:\n  - name: a\n    session_service: {type: sql, database_url: 'sqlite:///:memory:'}\n",
            "agents[0].session_service.database_url (agent 'a'): 'sqlite:///:memory:' is an in-memory",
        ),
        ("server:\n  port: lots\n", "server.port"),
        ("auth:\n  cookie:\n    name: 'sid; Path=/admin'\n", "auth.cookie.name"),
        ("session_service: [\n", "not valid YAML"),
        ("- just\n- a list\n", "mapping"),
    ],
)
def test_mistakes_are_one_line_naming_the_field(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), {})
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "absent.yaml", {})


def test_a_value_with_yaml_syntax_cannot_change_the_structure(tmp_path: Path) -> None:
    path = write(tmp_path, 'session_service:\n  type: sql\n  database_url: "${URL}"\n')
    url = "postgresql://u:p#a:ss@h:5432/db"
    assert load_config(path, {"URL": url}).session_service.database_url == url


def test_without_agents_one_default_agent_on_agent_database_url(tmp_path: Path) -> None:
    config = load_config(None, {})
    assert [(a.name, a.session_service.database_url) for a in config.agents or []] == [
        ("default", "sqlite:///data/agent-session.db")
    ]
    env = {"AGENT_DATABASE_URL": "postgresql://agent_user:agent_pass@host:5432/agent_db"}
    omitted = load_config(write(tmp_path, 'session_service:\n  type: "memory"\n'), env)
    assert [a.session_service.database_url for a in omitted.agents or []] == [env["AGENT_DATABASE_URL"]]
    assert load_config(write(tmp_path, "agents: []\n"), env).agents == []


def test_the_seeds_per_agent_pattern_loads_as_written(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
agents:
  - name: agent-a
    session_service:
      type: "sql"
      database_url: "${AGENT_A_DATABASE_URL, sqlite:///agent-a.db}"
      default_behavior: "PERSISTENT"
  - name: agent-b
    session_service:
      type: "sql"
      database_url: "${AGENT_B_DATABASE_URL, sqlite:///agent-b.db}"
      default_behavior: "RUN_BASED"
""",
    )
    config = load_config(path, {"AGENT_B_DATABASE_URL": "postgresql://agent_b_user:pass@host:5432/agent_b_db"})
    assert [
        (a.name, a.session_service.database_url, a.session_service.default_behavior) for a in config.agents or []
    ] == [
        ("agent-a", "sqlite:///agent-a.db", Behavior.PERSISTENT),
        ("agent-b", "postgresql://agent_b_user:pass@host:5432/agent_b_db", Behavior.RUN_BASED),
    ]


def test_an_agent_without_its_variable_names_the_agent(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "agents:\n  - name: agent-a\n    session_service:\n      type: sql\n"
        '      database_url: "${AGENT_A_DATABASE_URL}"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert "agents[0].session_service.database_url (agent 'agent-a')" in str(caught.value)
    assert "AGENT_A_DATABASE_URL" in str(caught.value)


def test_a_jwt_public_key_file_that_is_not_a_key_is_refused_at_load(tmp_path: Path) -> None:
    key = tmp_path / "jwt.pem"
    key.write_text("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    text = f"auth:\n  mode: jwt\n  jwt:\n    public_key_file: {key}\n"
    with pytest.raises(ConfigError, match=r"auth\.jwt\.public_key_file: .* is not a PEM public key"):
        load_config(write(tmp_path, text), {})
