"""The platform's registry: agents, connectors and deployments, shared by the whole platform."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.paging import SortKey
from domain.platform.secrets import masked


class DeploymentStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PlatformAgent:
    id: str
    name: str
    description: str | None
    config: dict[str, Any]
    created_time: int
    updated_time: int

    @property
    def sort_key(self) -> SortKey:
        return SortKey(self.created_time, self.id)


@dataclass(frozen=True, slots=True)
class Connector:
    id: str
    name: str
    type: str
    config: dict[str, Any]
    created_time: int
    updated_time: int

    @property
    def sort_key(self) -> SortKey:
        return SortKey(self.created_time, self.id)


@dataclass(frozen=True, slots=True)
class Deployment:
    id: str
    agent_id: str
    status: DeploymentStatus
    config: dict[str, Any]
    created_time: int
    updated_time: int

    @property
    def sort_key(self) -> SortKey:
        return SortKey(self.created_time, self.id)


def shown(config: dict[str, Any]) -> dict[str, Any]:
    """A record's config as every read shows it (domain.platform.secrets)."""
    result: dict[str, Any] = masked(config)
    return result
