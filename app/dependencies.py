"""Request-scoped dependencies: the caller's identity and the services, taken from app state."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from domain.gateway.service import GatewayService


def provide_gateway(request: Request[Any, Any, Any], user_id: NamedDependency[str]) -> GatewayService:
    # After the caller, never beside it: an unknown caller hears 401 before anything else, and
    # Litestar resolves independent dependencies in an anyio task group, which costs more per
    # request (about 90 us here) than the dependencies themselves.
    # The request rather than `state`: Litestar builds a State object for each such parameter.
    del user_id
    service: GatewayService = request.app.state.gateway
    return service


# What handlers declare to receive the dependencies above.
Gateway = NamedDependency[GatewayService]
UserId = NamedDependency[str]
