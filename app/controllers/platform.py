"""The platform store's routes. Until PLATFORM_DATABASE_URL is configured, each answers 501."""

from __future__ import annotations

from litestar import HttpMethod, route

from app.openapi import errors
from app.problems import problem

_RESOURCES = ("agents", "connectors", "deployments")


@route(
    [f"/api/v1/platform/{r}" for r in _RESOURCES] + [f"/api/v1/platform/{r}/{{item_id:str}}" for r in _RESOURCES],
    http_method=[HttpMethod.GET, HttpMethod.POST, HttpMethod.PATCH, HttpMethod.PUT, HttpMethod.DELETE],
    tags=["Platform"],
    summary="Platform registry (agents, connectors, deployments)",
    description="Answers 501 while `platform_service.database_url` (PLATFORM_DATABASE_URL) is unset.",
    status_code=501,
    responses=errors(400, 501, store=False),
)
async def platform_unconfigured() -> None:
    raise problem(
        501,
        "Not Implemented",
        "the platform store is not configured: set PLATFORM_DATABASE_URL (platform_service.database_url)",
    )
