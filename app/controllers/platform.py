"""The platform registry over HTTP: agents, connectors, deployments.

While platform_service.database_url (PLATFORM_DATABASE_URL) is unset, every route answers 501.
Reads need the scope platform:read and writes platform:write (domain.access), in every auth mode
that authenticates.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, PathParameter

from app.guards import reaches_platform
from app.openapi import errors
from app.params import Cursor, PageNumber, PageSize, page_request
from app.platform_schemas import (
    AgentCreate,
    AgentRecord,
    AgentRecords,
    AgentUpdate,
    ConnectorCreate,
    ConnectorRecord,
    ConnectorRecords,
    ConnectorUpdate,
    DeploymentCreate,
    DeploymentRecord,
    DeploymentRecords,
    DeploymentUpdate,
    changes,
    meta,
)
from app.problems import problem
from app.stores import Stores
from domain.platform.model import DeploymentStatus
from domain.platform.service import PlatformService

RecordId = Annotated[str, PathParameter(description="The record's id.")]


def provide_platform(request: Request[Any, Any, Any]) -> PlatformService:
    # After the guard (reaches_platform): the caller holds the right before learning anything else.
    stores: Stores = request.app.state.stores
    if stores.platform is None:
        raise problem(
            501,
            "Not Implemented",
            "the platform store is not configured: set PLATFORM_DATABASE_URL (platform_service.database_url)",
        )
    return stores.platform


Platform = NamedDependency[PlatformService]
READS = errors(401, 403, 400, 501)
WRITES = errors(400, 401, 403, 404, 409, 413, 422, 501)


class PlatformController(Controller):
    path = "/api/v1/platform"
    tags = ["Platform"]
    guards = [reaches_platform]
    dependencies = {"platform": Provide(provide_platform, sync_to_thread=False)}

    @get("/agents", summary="Registered agents", responses=READS)
    async def list_agents(
        self, platform: Platform, page_number: PageNumber = 1, page_size: PageSize = 20, cursor: Cursor = None
    ) -> AgentRecords:
        page = await platform.list_agents(page_request(page_number, page_size, cursor))
        return AgentRecords([AgentRecord.of(a) for a in page.items], meta(page))

    @post("/agents", summary="Register an agent (unique name)", status_code=201, responses=WRITES)
    async def create_agent(self, data: JSONBody[AgentCreate], platform: Platform) -> AgentRecord:
        return AgentRecord.of(await platform.create_agent(data.name, data.description, data.config))

    @get("/agents/{record_id:str}", summary="An agent", responses={**READS, **errors(404)})
    async def get_agent(self, record_id: RecordId, platform: Platform) -> AgentRecord:
        return AgentRecord.of(await platform.get_agent(record_id))

    @patch("/agents/{record_id:str}", summary="Change an agent", responses=WRITES)
    async def update_agent(self, record_id: RecordId, data: JSONBody[AgentUpdate], platform: Platform) -> AgentRecord:
        return AgentRecord.of(await platform.update_agent(record_id, changes(data)))

    @delete("/agents/{record_id:str}", summary="Remove an agent (not while it has deployments)", responses=WRITES)
    async def delete_agent(self, record_id: RecordId, platform: Platform) -> None:
        await platform.delete_agent(record_id)

    @get("/connectors", summary="Connectors (secrets masked)", responses=READS)
    async def list_connectors(
        self, platform: Platform, page_number: PageNumber = 1, page_size: PageSize = 20, cursor: Cursor = None
    ) -> ConnectorRecords:
        page = await platform.list_connectors(page_request(page_number, page_size, cursor))
        return ConnectorRecords([ConnectorRecord.of(c) for c in page.items], meta(page))

    @post("/connectors", summary="Add a connector", status_code=201, responses=WRITES)
    async def create_connector(self, data: JSONBody[ConnectorCreate], platform: Platform) -> ConnectorRecord:
        return ConnectorRecord.of(await platform.create_connector(data.name, data.type, data.config))

    @get("/connectors/{record_id:str}", summary="A connector (secrets masked)", responses={**READS, **errors(404)})
    async def get_connector(self, record_id: RecordId, platform: Platform) -> ConnectorRecord:
        return ConnectorRecord.of(await platform.get_connector(record_id))

    @patch("/connectors/{record_id:str}", summary="Change a connector", responses=WRITES)
    async def update_connector(
        self, record_id: RecordId, data: JSONBody[ConnectorUpdate], platform: Platform
    ) -> ConnectorRecord:
        return ConnectorRecord.of(await platform.update_connector(record_id, changes(data)))

    @delete("/connectors/{record_id:str}", summary="Remove a connector", responses=WRITES)
    async def delete_connector(self, record_id: RecordId, platform: Platform) -> None:
        await platform.delete_connector(record_id)

    @get("/deployments", summary="Deployments", responses=READS)
    async def list_deployments(
        self, platform: Platform, page_number: PageNumber = 1, page_size: PageSize = 20, cursor: Cursor = None
    ) -> DeploymentRecords:
        page = await platform.list_deployments(page_request(page_number, page_size, cursor))
        return DeploymentRecords([DeploymentRecord.of(d) for d in page.items], meta(page))

    @post("/deployments", summary="Deploy an agent (agentId must exist: 422)", status_code=201, responses=WRITES)
    async def create_deployment(self, data: JSONBody[DeploymentCreate], platform: Platform) -> DeploymentRecord:
        deployment = await platform.create_deployment(data.agent_id, DeploymentStatus(data.status), data.config)
        return DeploymentRecord.of(deployment)

    @get("/deployments/{record_id:str}", summary="A deployment", responses={**READS, **errors(404)})
    async def get_deployment(self, record_id: RecordId, platform: Platform) -> DeploymentRecord:
        return DeploymentRecord.of(await platform.get_deployment(record_id))

    @patch("/deployments/{record_id:str}", summary="Change a deployment", responses=WRITES)
    async def update_deployment(
        self, record_id: RecordId, data: JSONBody[DeploymentUpdate], platform: Platform
    ) -> DeploymentRecord:
        found = changes(data)
        if "status" in found:
            found["status"] = DeploymentStatus(found["status"])
        return DeploymentRecord.of(await platform.update_deployment(record_id, found))

    @delete("/deployments/{record_id:str}", summary="Remove a deployment", responses=WRITES)
    async def delete_deployment(self, record_id: RecordId, platform: Platform) -> None:
        await platform.delete_deployment(record_id)
