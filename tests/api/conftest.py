from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from app.factory import create_app
from app.stores import migrate_all
from domain.agent.model import Behavior
from infrastructure.config.model import (
    AgentConfig,
    Config,
    ServerConfig,
    SessionServiceConfig,
    StoreType,
)
from tests.conftest import GATEWAY_TABLES, empty_tables, gateway_url


def app_config(store: str, tmp_path: Path, max_body_size: int = 10 * 1024 * 1024, **server: Any) -> Config:
    def service(name: str, behavior: Behavior = Behavior.PERSISTENT) -> SessionServiceConfig:
        if store == "memory":
            return SessionServiceConfig(StoreType.MEMORY, default_behavior=behavior)
        return SessionServiceConfig(StoreType.SQL, f"sqlite:///{tmp_path / name}", behavior)

    return Config(
        session_service=service("gateway.db"),
        agents=[
            AgentConfig("agent-a", service("agent-a.db")),
            AgentConfig("agent-b", service("agent-b.db", Behavior.RUN_BASED)),
        ],
        server=ServerConfig(max_body_size=max_body_size, **server),
    )


@pytest.fixture(params=["memory", "sqlite"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:  # type: ignore[type-arg]
    config = app_config(request.param, tmp_path)
    migrate_all(config)
    with TestClient(create_app(config)) as test_client:
        yield test_client


@pytest.fixture(params=["memory", "sqlite", "postgres", "mysql"])
def gateway_client(request: pytest.FixtureRequest) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """The app with its gateway store on each backend (no agents), emptied after each test."""
    if request.param == "memory":
        service = SessionServiceConfig(StoreType.MEMORY)
    else:
        service = SessionServiceConfig(StoreType.SQL, gateway_url(request, request.param))
    config = Config(session_service=service, agents=[])
    try:
        with TestClient(create_app(config)) as test_client:
            yield test_client
    finally:
        if request.param != "memory":
            empty_tables(str(service.database_url), *GATEWAY_TABLES)
