"""Request-scoped dependencies: the caller's identity and the services, taken from app state."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency

from domain.gateway.service import GatewayService


def provide_gateway(state: State) -> GatewayService:
    service: GatewayService = state.gateway
    return service


# What handlers declare to receive the dependencies above.
Gateway = NamedDependency[GatewayService]
UserId = NamedDependency[str]
