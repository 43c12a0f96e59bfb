"""The platform registry's contract, through its use cases, on memory, SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import itertools

import pytest

from domain.errors import Conflict, NotFound, StoreUnavailable, Unprocessable
from domain.paging import PageRequest, decode_cursor
from domain.platform.model import DeploymentStatus, PlatformAgent
from domain.platform.service import PlatformService
from domain.ports import PlatformStore
from infrastructure.sql.platform.store import SqlPlatformStore


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
    assert stored.masked_config() == {
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
    store = SqlPlatformStore.at(url)
    try:
        with pytest.raises(StoreUnavailable):
            await PlatformService(store).list_agents(PageRequest())
        with pytest.raises(StoreUnavailable):
            await store.ping()
    finally:
        await store.close()
