"""The platform's registry: agents, connectors and deployments, shared by the whole platform."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.paging import SortKey

MASK = "***"
# Keys under which a connector's config holds credentials: stored as given, never shown back.
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|api[-_]?key|private[-_]?key|credential|auth", re.IGNORECASE)


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

    def masked_config(self) -> dict[str, Any]:
        masked: dict[str, Any] = mask_secrets(self.config)
        return masked


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


def mask_secrets(value: Any) -> Any:
    """The value with every entry under a secret-looking key replaced by `***`, at any depth."""
    if isinstance(value, dict):
        return {k: MASK if _SECRET_KEY.search(str(k)) else mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value
