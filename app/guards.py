"""Litestar guards for domain.access: each refuses (403) before a dependency or the handler runs,
so a caller without the right reads nothing and writes nothing. Identifying the caller comes first:
an unknown caller hears 401 whatever they asked for.

They are coroutines though they await nothing: Litestar runs a plain-function guard in a thread
pool, a hop per request that cost the chat loop's routes more than the guard itself
(benchmarks/profile.py)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from app.identity import caller_of
from domain.access import AGENTS, PLATFORM_READ, PLATFORM_WRITE, agent_scope, refuse


async def identified(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    caller_of(connection)


async def reaches_agents(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not caller_of(connection).may_reach_agents():
        raise refuse(f"{AGENTS} or {agent_scope('<name>')}")


async def reaches_this_agent(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    name = str(connection.path_params.get("agent_name", ""))
    if not caller_of(connection).may_reach_agent(name):
        raise refuse(f"{AGENTS} or {agent_scope(name)}")


async def reaches_platform(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    caller = caller_of(connection)
    if connection.scope.get("method") in ("GET", "HEAD"):
        if not caller.may_read_platform():
            raise refuse(PLATFORM_READ)
    elif not caller.may_change_platform():
        raise refuse(PLATFORM_WRITE)
