"""The platform registry's use cases. Records are the platform's, not a user's: the app asks for
the scopes platform:read and platform:write (domain.access) before calling these. Configs are
returned whole; what a client is shown of them is domain.platform.secrets' rule."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from domain.checks import check_name, epoch_ms
from domain.errors import Conflict, NotFound, Unprocessable
from domain.paging import Page, PageRequest, page_of
from domain.platform.model import Connector, Deployment, DeploymentStatus, PlatformAgent
from domain.platform.secrets import keep_masked
from domain.ports import PlatformStore, PlatformUnitOfWork, RegistryRepository


def _new_id() -> str:
    return uuid.uuid4().hex


def _with_secrets_kept(changes: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """A PATCH's config that sends back what a read showed keeps the secrets stored there."""
    if "config" not in changes:
        return changes
    return {**changes, "config": keep_masked(changes["config"], stored)}


class PlatformService:
    def __init__(self, store: PlatformStore, clock: Callable[[], int] = epoch_ms) -> None:
        self._store = store
        self._clock = clock

    async def _page(
        self, pick: Callable[[PlatformUnitOfWork], RegistryRepository[Any]], page: PageRequest
    ) -> Page[Any]:
        async with self._store.unit_of_work(read_only=True) as uow:
            repository = pick(uow)
            rows = await repository.find(limit=page.size + 1, offset=page.offset, after=page.after)
            total = await repository.count() if page.after is None else None
        return page_of(rows, page, total, lambda r: r.sort_key)

    async def _get(self, pick: Callable[[PlatformUnitOfWork], RegistryRepository[Any]], kind: str, ident: str) -> Any:
        async with self._store.unit_of_work(read_only=True) as uow:
            found = await pick(uow).get(ident)
        if found is None:
            raise NotFound(kind, ident)
        return found

    # Agents -----------------------------------------------------------------------------------

    async def create_agent(self, name: str, description: str | None, config: dict[str, Any]) -> PlatformAgent:
        check_name("name", name)
        now = self._clock()
        agent = PlatformAgent(_new_id(), name, description, config, now, now)
        async with self._store.unit_of_work() as uow:
            if await uow.agent_named(name) is not None:
                raise Conflict(f"an agent named {name!r} already exists")
            await uow.agents.add(agent)
            await uow.commit()
        return agent

    async def list_agents(self, page: PageRequest) -> Page[PlatformAgent]:
        return await self._page(lambda u: u.agents, page)

    async def get_agent(self, agent_id: str) -> PlatformAgent:
        agent: PlatformAgent = await self._get(lambda u: u.agents, "agent", agent_id)
        return agent

    async def update_agent(self, agent_id: str, changes: dict[str, Any]) -> PlatformAgent:
        async with self._store.unit_of_work() as uow:
            agent = await uow.agents.get(agent_id)
            if agent is None:
                raise NotFound("agent", agent_id)
            if "name" in changes:
                check_name("name", changes["name"])
                other = await uow.agent_named(changes["name"])
                if other is not None and other.id != agent_id:
                    raise Conflict(f"an agent named {changes['name']!r} already exists")
            agent = replace(agent, **_with_secrets_kept(changes, agent.config), updated_time=self._clock())
            await uow.agents.update(agent)
            await uow.commit()
        return agent

    async def delete_agent(self, agent_id: str) -> None:
        async with self._store.unit_of_work() as uow:
            if await uow.agents.get(agent_id) is None:
                raise NotFound("agent", agent_id)
            if deployed := await uow.deployments_of(agent_id):
                raise Conflict(f"agent {agent_id!r} still has {deployed} deployment(s): delete them first")
            await uow.agents.delete(agent_id)
            await uow.commit()

    # Connectors -------------------------------------------------------------------------------

    async def create_connector(self, name: str, kind: str, config: dict[str, Any]) -> Connector:
        check_name("name", name)
        check_name("type", kind)
        now = self._clock()
        connector = Connector(_new_id(), name, kind, config, now, now)
        async with self._store.unit_of_work() as uow:
            await uow.connectors.add(connector)
            await uow.commit()
        return connector

    async def list_connectors(self, page: PageRequest) -> Page[Connector]:
        return await self._page(lambda u: u.connectors, page)

    async def get_connector(self, connector_id: str) -> Connector:
        connector: Connector = await self._get(lambda u: u.connectors, "connector", connector_id)
        return connector

    async def update_connector(self, connector_id: str, changes: dict[str, Any]) -> Connector:
        for field in ("name", "type"):
            if field in changes:
                check_name(field, changes[field])
        async with self._store.unit_of_work() as uow:
            connector = await uow.connectors.get(connector_id)
            if connector is None:
                raise NotFound("connector", connector_id)
            connector = replace(connector, **_with_secrets_kept(changes, connector.config), updated_time=self._clock())
            await uow.connectors.update(connector)
            await uow.commit()
        return connector

    async def delete_connector(self, connector_id: str) -> None:
        async with self._store.unit_of_work() as uow:
            if await uow.connectors.get(connector_id) is None:
                raise NotFound("connector", connector_id)
            await uow.connectors.delete(connector_id)
            await uow.commit()

    # Deployments ------------------------------------------------------------------------------

    async def create_deployment(self, agent_id: str, status: DeploymentStatus, config: dict[str, Any]) -> Deployment:
        now = self._clock()
        deployment = Deployment(_new_id(), agent_id, status, config, now, now)
        async with self._store.unit_of_work() as uow:
            if await uow.agents.get(agent_id) is None:
                raise Unprocessable("agentId", f"no agent {agent_id!r} is registered")
            await uow.deployments.add(deployment)
            await uow.commit()
        return deployment

    async def list_deployments(self, page: PageRequest) -> Page[Deployment]:
        return await self._page(lambda u: u.deployments, page)

    async def get_deployment(self, deployment_id: str) -> Deployment:
        deployment: Deployment = await self._get(lambda u: u.deployments, "deployment", deployment_id)
        return deployment

    async def update_deployment(self, deployment_id: str, changes: dict[str, Any]) -> Deployment:
        async with self._store.unit_of_work() as uow:
            deployment = await uow.deployments.get(deployment_id)
            if deployment is None:
                raise NotFound("deployment", deployment_id)
            if "agent_id" in changes and await uow.agents.get(changes["agent_id"]) is None:
                raise Unprocessable("agentId", f"no agent {changes['agent_id']!r} is registered")
            changes = _with_secrets_kept(changes, deployment.config)
            deployment = replace(deployment, **changes, updated_time=self._clock())
            await uow.deployments.update(deployment)
            await uow.commit()
        return deployment

    async def delete_deployment(self, deployment_id: str) -> None:
        async with self._store.unit_of_work() as uow:
            if await uow.deployments.get(deployment_id) is None:
                raise NotFound("deployment", deployment_id)
            await uow.deployments.delete(deployment_id)
            await uow.commit()
