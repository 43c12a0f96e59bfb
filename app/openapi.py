"""OpenAPI helpers: document each route's errors as problem details."""

from __future__ import annotations

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Components, Reference, SecurityRequirement, SecurityScheme

from app.schemas import ProblemDetails
from infrastructure.config.model import AuthConfig, AuthMode
from infrastructure.identity import DEV_USER_HEADER

_MEANINGS = {
    400: "A request the server cannot read as meant: an identity header sent twice, an odd `If-Match`, "
    "or a filter the gateway answers with 400 (`source`, `start_date`, `end_date`).",
    401: "No, bad or expired credentials for the configured auth.mode.",
    403: "The caller lacks the scope this needs.",
    404: "No such resource for this caller (another user's is a 404 too).",
    409: "Conflicts with what is stored (a taken id).",
    412: "`If-Match` names a version that is no longer current; nothing was written.",
    415: "The request body is not application/json.",
    422: "Invalid input, as the gateway answers it: malformed JSON, a missing or invalid field or query "
    "parameter, a text holding a NUL character (U+0000), or something the body refers to that does not "
    "exist (a session to save into, a deployment's agentId); `invalid-params` names the field.",
    413: "The request body is over the configured limit (server.max_body_size).",
    500: "An unexpected error; logged with the request's id, no detail leaks.",
    501: "The store behind this route is not configured.",
    503: "A database is unreachable; retry after `Retry-After` seconds.",
}


def errors(*statuses: int, store: bool = True) -> dict[int, ResponseSpec]:
    """Problem-details responses for these statuses, the 400, 422 and 500 any route can answer (a
    header sent twice, a NUL in a path, query or body), and the 401 and 503 of any store-backed route."""
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            description=_MEANINGS[status],
            media_type="application/problem+json",
            generate_examples=False,
        )
        for status in sorted({*statuses, 400, 422, 500, *([401, 503] if store else [])})
    }


def security(auth: AuthConfig) -> tuple[Components, list[SecurityRequirement]]:
    """Every way a caller can be identified, as security schemes, and what the running mode asks.
    Scopes (domain.access) travel in the JWT's `scope` claim or the proxy's scopes header."""
    trusted = auth.trusted_header
    schemes: dict[str, SecurityScheme | Reference] = {
        "bearerJwt": SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="JWT",
            description="auth.mode jwt: a JWT naming the user in `sub`, its rights in `scope` or `scp` "
            "(`agents`, `agent:<name>`, `platform:read`, `platform:write`).",
        ),
        "proxyToken": SecurityScheme(
            type="http",
            scheme="bearer",
            description="auth.mode trusted-header: the token only the authenticating proxy knows.",
        ),
        "forwardedUser": SecurityScheme(
            type="apiKey",
            name=trusted.header,
            security_scheme_in="header",
            description="auth.mode trusted-header: the user, as the proxy says it (sent once).",
        ),
        "forwardedScopes": SecurityScheme(
            type="apiKey",
            name=trusted.scopes_header,
            security_scheme_in="header",
            description="auth.mode trusted-header: the caller's rights, space-separated (sent once).",
        ),
        "developmentUser": SecurityScheme(
            type="apiKey",
            name=DEV_USER_HEADER.title(),
            security_scheme_in="header",
            description="auth.mode none (development): the user; without it, an anonymous user the "
            "signed cookie remembers.",
        ),
    }
    required: dict[AuthMode, list[SecurityRequirement]] = {
        AuthMode.JWT: [{"bearerJwt": []}],
        AuthMode.TRUSTED_HEADER: [
            {"proxyToken": [], "forwardedUser": []},
            {"proxyToken": [], "forwardedUser": [], "forwardedScopes": []},
        ],
        AuthMode.NONE: [{"developmentUser": []}, {}],
    }
    return Components(security_schemes=schemes), required[auth.mode]


UNSUPPORTED_MEDIA_TYPE = 415


def document_bodies(app: Litestar) -> None:
    """Every route that takes a body answers 415 for one that is not JSON (app.problems.check_request)."""
    spec = errors(UNSUPPORTED_MEDIA_TYPE, store=False)[UNSUPPORTED_MEDIA_TYPE]
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and handler.http_methods & {"POST", "PUT", "PATCH"}:
                handler.responses = {**(handler.responses or {}), UNSUPPORTED_MEDIA_TYPE: spec}
