"""Request-scoped dependencies: the caller's identity and the services, taken from app state."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from domain.gateway.service import GatewayService
from domain.ports import IdentityProvider


def provide_user_id(request: Request[Any, Any, Any]) -> str:
    identity: IdentityProvider = request.app.state.identity
    return identity.user_id(request.headers)


def provide_gateway(state: State) -> GatewayService:
    service: GatewayService = state.gateway
    return service


# What handlers declare to receive the dependencies above.
Gateway = NamedDependency[GatewayService]
UserId = NamedDependency[str]
