"""The platform registry's contract, through its use cases, on memory, SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from domain.errors import Conflict, NotFound, StoreUnavailable, Unprocessable
from domain.paging import PageRequest, decode_cursor
from domain.platform.model import DeploymentStatus, PlatformAgent, shown
from domain.platform.service import PlatformService
from domain.ports import PlatformStore
from infrastructure.sql import migrate
from infrastructure.sql.platform.store import SqlPlatformStore
from infrastructure.sql.platform.vault import SealedByAnotherKey
from tests.conftest import empty_tables, migrated_url


@pytest.fixture
def platform(platform_store: PlatformStore) -> PlatformService:
    ticks = itertools.count(1000)
    return PlatformService(platform_store, clock=lambda: next(ticks))


async def test_agents_have_unique_names(platform: PlatformService) -> None:
    first = await platform.create_agent("helper", "answers questions", {"model": "m1", "tools": ["search"]})
    assert await platform.get_agent(first.id) == first
    with pytest.raises(Conflict):
        await platform.create_agent("helper", None, {})
    other = await platform.create_agent("writer", None, {})
    with pytest.raises(Conflict):
        await platform.update_agent(other.id, {"name": "helper"})
    renamed = await platform.update_agent(other.id, {"name": "editor", "config": {"x": 1}})
    assert (await platform.get_agent(other.id)) == renamed and renamed.updated_time > renamed.created_time


async def test_deployments_need_their_agent_and_keep_it(platform: PlatformService) -> None:
    agent = await platform.create_agent("helper", None, {})
    with pytest.raises(Unprocessable):
        await platform.create_deployment("no-such-agent", DeploymentStatus.PENDING, {})
    deployment = await platform.create_deployment(agent.id, DeploymentStatus.PENDING, {"replicas": 2})
    running = await platform.update_deployment(deployment.id, {"status": DeploymentStatus.RUNNING})
    assert (await platform.get_deployment(deployment.id)).status is DeploymentStatus.RUNNING == running.status
    with pytest.raises(Conflict):
        await platform.delete_agent(agent.id)
    await platform.delete_deployment(deployment.id)
    await platform.delete_agent(agent.id)
    with pytest.raises(NotFound):
        await platform.get_agent(agent.id)


async def test_connectors_keep_their_config_as_given(platform: PlatformService) -> None:
    config = {"url": "https://crm.example.com", "apiKey": "k-123", "nested": {"password": "p", "user": "u"}}
    connector = await platform.create_connector("crm", "http", config)
    stored = await platform.get_connector(connector.id)
    assert stored.config == config
    assert shown(stored.config) == {
        "url": "https://crm.example.com",
        "apiKey": "***",
        "nested": {"password": "***", "user": "u"},
    }
    await platform.delete_connector(connector.id)
    with pytest.raises(NotFound):
        await platform.delete_connector(connector.id)


async def test_lists_page_by_number_and_cursor(platform: PlatformService) -> None:
    for i in range(5):
        await platform.create_connector(f"c{i}", "http", {})
    second = await platform.list_connectors(PageRequest(size=2, number=2))
    assert [c.name for c in second.items] == ["c2", "c3"] and second.total == 5
    first = await platform.list_connectors(PageRequest(size=3))
    assert first.next_cursor is not None
    rest = await platform.list_connectors(PageRequest(size=3, after=decode_cursor(first.next_cursor)))
    assert [c.name for c in first.items + rest.items] == [f"c{i}" for i in range(5)]


async def test_a_name_taken_meanwhile_is_a_conflict_with_nothing_written(platform_store: PlatformStore) -> None:
    # Two requests registering one name at once both pass the service's check; the table refuses one.
    first, second = PlatformAgent("a1", "same", None, {}, 1, 1), PlatformAgent("a2", "same", None, {}, 2, 2)
    async with platform_store.unit_of_work() as uow:
        await uow.agents.add(first)
        await uow.commit()
    with pytest.raises(Conflict):
        async with platform_store.unit_of_work() as uow:
            await uow.agents.add(second)
            await uow.commit()
    async with platform_store.unit_of_work(read_only=True) as uow:
        assert [a.id for a in await uow.agents.find(limit=10)] == ["a1"]


@pytest.mark.parametrize("url", ["postgresql://u:pw@127.0.0.1:1/none", "mysql+pymysql://u:pw@127.0.0.1:1/none"])
async def test_an_unreachable_platform_database_is_store_unavailable(url: str) -> None:
    store = SqlPlatformStore.at(url, ["test-platform-key"])
    try:
        with pytest.raises(StoreUnavailable):
            await PlatformService(store).list_agents(PageRequest())
        with pytest.raises(StoreUnavailable):
            await store.ping()
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def platform_url(request: pytest.FixtureRequest) -> Iterator[str]:
    url = migrated_url(request, request.param, "platform")
    yield url
    empty_tables(url, "platform_deployments", "platform_connectors", "platform_agents")


def stored_configs(url: str) -> list[str]:
    """What the database holds, as someone with a copy of it would read it."""
    engine = migrate.migration_engine(url)
    try:
        with engine.connect() as connection:
            return [
                row[0]
                for table in ("platform_agents", "platform_connectors", "platform_deployments")
                for row in connection.execute(text(f"SELECT config FROM {table}"))
            ]
    finally:
        engine.dispose()


async def test_configs_are_encrypted_at_rest_and_keys_rotate(platform_url: str) -> None:
    secret = {"url": "postgresql://crm:S3CRET-pw@db/crm", "apiKey": "S3CRET-key"}
    old = SqlPlatformStore.at(platform_url, ["key-of-2025"])
    try:
        agent = await PlatformService(old).create_agent("helper", None, {"token": "S3CRET-agent"})
        connector = await PlatformService(old).create_connector("crm", "http", secret)
        await PlatformService(old).create_deployment(agent.id, DeploymentStatus.PENDING, {"dsn": "S3CRET-dsn"})
    finally:
        await old.close()
    at_rest = stored_configs(platform_url)
    assert len(at_rest) == 3 and not any("S3CRET" in value or "crm" in value for value in at_rest)

    # A new key alone cannot read what the old one sealed, and says what to do.
    new_only = SqlPlatformStore.at(platform_url, ["key-of-2026"])
    try:
        with pytest.raises(SealedByAnotherKey, match="PLATFORM_SECRET_KEY_PREVIOUS"):
            await PlatformService(new_only).get_connector(connector.id)
    finally:
        await new_only.close()

    # With the old key listed after it, everything reads; a write seals under the new key.
    rotating = SqlPlatformStore.at(platform_url, ["key-of-2026", "key-of-2025"])
    try:
        platform = PlatformService(rotating)
        assert (await platform.get_connector(connector.id)).config == secret
        await platform.update_connector(connector.id, {"name": "crm-2"})
        assert await rotating.reseal() == 2  # the agent and the deployment; the connector already is
        assert await rotating.reseal() == 0
    finally:
        await rotating.close()
    new_only = SqlPlatformStore.at(platform_url, ["key-of-2026"])
    try:
        platform = PlatformService(new_only)
        assert (await platform.get_connector(connector.id)).config == secret
        assert (await platform.get_agent(agent.id)).config == {"token": "S3CRET-agent"}
    finally:
        await new_only.close()


async def test_a_write_back_of_a_read_keeps_the_secrets(platform: PlatformService) -> None:
    config = {"host": "crm", "password": "S3CRET", "headers": [{"name": "X-Api-Key", "value": "S3CRET-2"}]}
    connector = await platform.create_connector("crm", "http", config)
    read = shown((await platform.get_connector(connector.id)).config)
    assert read == {"host": "crm", "password": "***", "headers": [{"name": "X-Api-Key", "value": "***"}]}
    await platform.update_connector(connector.id, {"config": {**read, "host": "crm-2"}})
    assert (await platform.get_connector(connector.id)).config == {**config, "host": "crm-2"}
