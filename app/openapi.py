"""OpenAPI helpers: document each route's errors as problem details."""

from __future__ import annotations

from litestar.openapi import ResponseSpec

from app.schemas import ProblemDetails

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
