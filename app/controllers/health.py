"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State

from app.schemas import Health, Readiness, StoreHealth
from app.stores import Stores
from domain.errors import StoreUnavailable


@get("/health", tags=["Operations"], summary="Alive: answers while the process runs")
async def health() -> Health:
    return Health("ok")


@get(
    "/health/ready",
    tags=["Operations"],
    summary="Ready: every store answers (503 with the same body when one does not)",
    cache=False,
)
async def ready(state: State) -> Response[Readiness]:
    stores: Stores = state.stores
    try:
        await stores.gateway.ping()
        gateway = StoreHealth(stores.gateway_type.value, reachable=True)
    except StoreUnavailable as exc:
        gateway = StoreHealth(stores.gateway_type.value, reachable=False, error=str(exc))
    ok = gateway.reachable
    body = Readiness("ready" if ok else "unavailable", {"gateway": gateway})
    return Response(body, status_code=200 if ok else 503, headers=None if ok else {"Retry-After": "5"})
