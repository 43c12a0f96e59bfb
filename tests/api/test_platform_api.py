"""The platform registry through HTTP, with PLATFORM_DATABASE_URL set."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from litestar.testing import TestClient

from app.factory import create_app
from app.stores import migrate_all
from infrastructure.config.model import (
    AuthConfig,
    AuthMode,
    Config,
    JwtConfig,
    PlatformServiceConfig,
    SessionServiceConfig,
    StoreType,
)

Client = TestClient  # type: ignore[type-arg]
P = "/api/v1/platform"
SECRET = "platform-test-secret-of-enough-length!"


def platform_client(tmp_path: Path, auth: AuthConfig | None = None) -> Client:
    config = Config(
        session_service=SessionServiceConfig(StoreType.MEMORY),
        agents=[],
        platform_service=PlatformServiceConfig(f"sqlite:///{tmp_path / 'platform.db'}"),
        auth=auth or AuthConfig(),
    )
    migrate_all(config)
    return TestClient(create_app(config))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with platform_client(tmp_path) as c:
        yield c


def test_agents_crud_with_unique_names(client: Client) -> None:
    created = client.post(f"{P}/agents", json={"name": "helper", "description": "d", "config": {"model": "m"}})
    assert created.status_code == 201
    agent = created.json()
    assert set(agent) == {"id", "name", "description", "config", "createdTime", "updatedTime"}
    assert client.post(f"{P}/agents", json={"name": "helper"}).status_code == 409
    patched = client.patch(f"{P}/agents/{agent['id']}", json={"description": "better"})
    assert patched.status_code == 200 and patched.json()["description"] == "better"
    assert patched.json()["config"] == {"model": "m"}  # untouched by a PATCH that did not name it
    listed = client.get(f"{P}/agents").json()
    assert [a["name"] for a in listed["data"]] == ["helper"] and listed["meta"]["pagination"]["count"] == 1
    assert client.delete(f"{P}/agents/{agent['id']}").status_code == 204
    assert client.get(f"{P}/agents/{agent['id']}").status_code == 404


def test_deployments_need_an_existing_agent_which_then_cannot_go(client: Client) -> None:
    unknown = client.post(f"{P}/deployments", json={"agentId": "nope"})
    assert unknown.status_code == 422 and "agentId" in unknown.json()["detail"]
    agent = client.post(f"{P}/agents", json={"name": "helper"}).json()
    deployment = client.post(f"{P}/deployments", json={"agentId": agent["id"], "config": {"replicas": 2}}).json()
    assert deployment["status"] == "pending"
    assert client.patch(f"{P}/deployments/{deployment['id']}", json={"status": "running"}).json()["status"] == "running"
    assert client.patch(f"{P}/deployments/{deployment['id']}", json={"status": "flying"}).status_code == 422
    assert client.delete(f"{P}/agents/{agent['id']}").status_code == 409
    assert client.delete(f"{P}/deployments/{deployment['id']}").status_code == 204
    assert client.delete(f"{P}/agents/{agent['id']}").status_code == 204


def test_connector_secrets_are_stored_but_never_shown(client: Client) -> None:
    config = {"url": "https://crm.example.com", "api_key": "sk-live-123", "auth": {"password": "hunter2"}}
    created = client.post(f"{P}/connectors", json={"name": "crm", "type": "http", "config": config})
    assert created.status_code == 201
    for shown in (
        created.json(),
        client.get(f"{P}/connectors/{created.json()['id']}").json(),
        client.get(f"{P}/connectors").json()["data"][0],
    ):
        assert shown["config"] == {"url": "https://crm.example.com", "api_key": "***", "auth": "***"}
    assert "sk-live-123" not in client.get(f"{P}/connectors").text


def test_jwt_mode_needs_platform_scopes(tmp_path: Path) -> None:
    auth = AuthConfig(mode=AuthMode.JWT, jwt=JwtConfig(secret=SECRET))

    def bearer(scope: str) -> dict[str, str]:
        claims = {"sub": "ops", "exp": int(time.time()) + 60, "scope": scope}
        return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}

    with platform_client(tmp_path, auth) as client:
        assert client.get(f"{P}/agents").status_code == 401
        assert client.get(f"{P}/agents", headers=bearer("")).status_code == 403
        assert client.get(f"{P}/agents", headers=bearer("platform:read")).status_code == 200
        assert client.post(f"{P}/agents", json={"name": "a"}, headers=bearer("platform:read")).status_code == 403
        assert (
            client.post(f"{P}/agents", json={"name": "a"}, headers=bearer("platform:read platform:write")).status_code
            == 201
        )
