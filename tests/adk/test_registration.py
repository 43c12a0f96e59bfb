"""ADK's CLI (`adk web`, `adk api_server --session_service_uri ...`) finds Session Store by URI,
registered from code or from a `services.yaml` in the agents directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from google.adk.cli.service_registry import get_service_registry, load_services_module
from google.adk.cli.utils.service_factory import create_session_service_from_options
from google.adk.sessions.base_session_service import BaseSessionService

from app.adk import SessionStoreSessionService
from app.adk.registry import from_uri, register


@pytest.fixture
def clean_registry() -> Iterator[None]:
    registry = get_service_registry()
    before = dict(registry._session_factories)
    try:
        yield
    finally:
        registry._session_factories.clear()
        registry._session_factories.update(before)


async def round_trip(service: BaseSessionService) -> None:
    assert isinstance(service, SessionStoreSessionService)
    try:
        await service.create_session(app_name="helper", user_id="ana", session_id="s1", state={"k": 1})
        read = await service.get_session(app_name="helper", user_id="ana", session_id="s1")
        assert read is not None and read.state == {"k": 1}
    finally:
        await service.close()


@pytest.mark.usefixtures("clean_registry")
async def test_the_cli_resolves_a_sessionstore_uri_once_registered(tmp_path: Path) -> None:
    register()
    service = create_session_service_from_options(
        base_dir=tmp_path, session_service_uri=f"sessionstore+sqlite:///{tmp_path / 'agents.db'}"
    )
    await round_trip(service)
    assert (tmp_path / "agents.db").exists()
    await round_trip(create_session_service_from_options(base_dir=tmp_path, session_service_uri="sessionstore://"))


@pytest.mark.usefixtures("clean_registry")
async def test_a_services_yaml_registers_it_without_code(tmp_path: Path) -> None:
    (tmp_path / "services.yaml").write_text(
        "services:\n  - scheme: sessionstore+sqlite\n    type: session\n    class: app.adk.registry.from_uri\n"
    )
    load_services_module(str(tmp_path))
    service = get_service_registry().create_session_service(
        f"sessionstore+sqlite:///{tmp_path / 'yaml.db'}", agents_dir=str(tmp_path)
    )
    assert service is not None
    await round_trip(service)


def test_a_uri_of_another_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="sessionstore"):
        from_uri("postgresql://db/agents")
