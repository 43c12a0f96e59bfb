"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

import asyncio

from litestar import Response, get
from litestar.datastructures import State
from msgspec.structs import replace

from app.schemas import Health, Readiness, StoreHealth
from app.stores import Stores
from domain.errors import StoreUnavailable
from domain.ports import AgentStore, GatewayStore, PlatformStore
from infrastructure.config.model import StoreType


@get("/health", tags=["Operations"], summary="Alive: answers while the process runs", security=[{}])
async def health() -> Health:
    return Health("ok")


async def _check(store: GatewayStore | AgentStore | PlatformStore, kind: StoreType) -> StoreHealth:
    try:
        await store.ping()
    except StoreUnavailable as exc:
        return StoreHealth(kind.value, reachable=False, error=str(exc))
    return StoreHealth(kind.value, reachable=True)


@get(
    "/health/ready",
    tags=["Operations"],
    summary="Ready: every store answers (503 with the same body when one does not)",
    cache=False,
    security=[{}],
)
async def ready(state: State) -> Response[Readiness]:
    stores: Stores = state.stores
    names = list(stores.agents)
    platform = [_check(stores.platform_store, StoreType.SQL)] if stores.platform_store else []
    checks = await asyncio.gather(
        _check(stores.gateway, stores.gateway_type),
        *(_check(stores.agents[n].store, stores.agent_types[n]) for n in names),
        *platform,
    )
    gateway = checks[0]
    others = {"gateway": gateway, **({"platform": checks[-1]} if platform else {})}
    agents = {
        name: replace(check, scenario=stores.agent_scenarios[name].value)
        for name, check in zip(names, checks[1 : 1 + len(names)], strict=True)
    }
    ok = all(c.reachable for c in checks)
    body = Readiness("ready" if ok else "unavailable", stores.scenario.value, stores.scenario.meaning, others, agents)
    return Response(body, status_code=200 if ok else 503, headers=None if ok else {"Retry-After": "5"})
