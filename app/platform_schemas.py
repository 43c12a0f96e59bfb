"""Wire format of the platform registry (camelCase, epoch milliseconds, the gateway's paging)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from app.schemas import CamelStruct, EpochMs, NonEmptyName, PageMeta, Pagination
from domain.paging import Page
from domain.platform.model import Connector, Deployment, PlatformAgent, shown

Status = Literal["pending", "running", "stopped", "failed"]
Config = Annotated[
    dict[str, Any],
    msgspec.Meta(
        description="Free-form JSON object. Reads show credentials as `***` (any key on the path like "
        "pass, pwd, secret, token, key, credential, auth, dsn, cert, private, signature, session or cookie; "
        "URL passwords); a PATCH that sends `***` back where a read showed it keeps the stored value."
    ),
]


class AgentCreate(CamelStruct):
    name: NonEmptyName
    description: str | None = None
    config: Config = {}


class AgentUpdate(CamelStruct):
    name: NonEmptyName | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType | None = msgspec.UNSET
    config: Config | msgspec.UnsetType = msgspec.UNSET


class AgentRecord(CamelStruct):
    id: str
    name: str
    description: str | None
    config: Config
    created_time: EpochMs
    updated_time: EpochMs

    @classmethod
    def of(cls, a: PlatformAgent) -> AgentRecord:
        return cls(a.id, a.name, a.description, shown(a.config), a.created_time, a.updated_time)


class ConnectorCreate(CamelStruct):
    name: NonEmptyName
    type: NonEmptyName
    config: Config = {}


class ConnectorUpdate(CamelStruct):
    name: NonEmptyName | msgspec.UnsetType = msgspec.UNSET
    type: NonEmptyName | msgspec.UnsetType = msgspec.UNSET
    config: Config | msgspec.UnsetType = msgspec.UNSET


class ConnectorRecord(CamelStruct):
    id: str
    name: str
    type: str
    config: Config
    created_time: EpochMs
    updated_time: EpochMs

    @classmethod
    def of(cls, c: Connector) -> ConnectorRecord:
        return cls(c.id, c.name, c.type, shown(c.config), c.created_time, c.updated_time)


class DeploymentCreate(CamelStruct):
    agent_id: str
    status: Status = "pending"
    config: Config = {}


class DeploymentUpdate(CamelStruct):
    agent_id: str | msgspec.UnsetType = msgspec.UNSET
    status: Status | msgspec.UnsetType = msgspec.UNSET
    config: Config | msgspec.UnsetType = msgspec.UNSET


class DeploymentRecord(CamelStruct):
    id: str
    agent_id: str
    status: Status
    config: Config
    created_time: EpochMs
    updated_time: EpochMs

    @classmethod
    def of(cls, d: Deployment) -> DeploymentRecord:
        return cls(d.id, d.agent_id, d.status.value, shown(d.config), d.created_time, d.updated_time)


class AgentRecords(CamelStruct):
    data: list[AgentRecord]
    meta: PageMeta


class ConnectorRecords(CamelStruct):
    data: list[ConnectorRecord]
    meta: PageMeta


class DeploymentRecords(CamelStruct):
    data: list[DeploymentRecord]
    meta: PageMeta


def meta(page: Page[Any]) -> PageMeta:
    return PageMeta(Pagination.of(page))


def changes(update: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body set (attribute names are the domain's)."""
    return {f: getattr(update, f) for f in update.__struct_fields__ if getattr(update, f) is not msgspec.UNSET}
