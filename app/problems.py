"""Every error as RFC 9457 problem details (`application/problem+json`).

Domain errors map to one status each; Litestar's own HTTP errors go through its problem-details
plugin; anything unexpected is logged with its traceback and answered with a bare 500 that leaks
nothing of the internals.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, SerializationException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from domain.checks import NUL_REASON, nul_at
from domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    MalformedRequest,
    NotFound,
    PreconditionFailed,
    StoreUnavailable,
    Unauthenticated,
)

log = structlog.get_logger("session_store.errors")
RETRY_AFTER_S = 5
MEDIA_TYPE = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=status, title=title, detail=detail, type_="about:blank", extra=extra or None, headers=headers
    )


def invalid_params(name: str, reason: str) -> dict[str, Any]:
    """RFC 9457's `invalid-params` extension, naming the one field at fault."""
    return {"invalid-params": [{"name": name, "reason": reason}]}


def _not_found(exc: NotFound) -> ProblemDetailsException:
    return problem(404, "Not Found", str(exc))


def _conflict(exc: Conflict) -> ProblemDetailsException:
    return problem(409, "Conflict", str(exc))


def _unauthenticated(exc: Unauthenticated) -> ProblemDetailsException:
    return problem(401, "Unauthorized", str(exc), headers={"WWW-Authenticate": "Bearer"})


def _forbidden(exc: Forbidden) -> ProblemDetailsException:
    return problem(403, "Forbidden", str(exc))


def _stale(exc: PreconditionFailed) -> ProblemDetailsException:
    return problem(412, "Precondition Failed", str(exc), extra={"currentVersion": exc.current})


def _invalid(exc: InvalidInput) -> ProblemDetailsException:
    return problem(422, "Unprocessable Content", str(exc), extra=invalid_params(exc.field, exc.reason))


def _malformed(exc: MalformedRequest) -> ProblemDetailsException:
    return problem(400, "Bad Request", str(exc), extra=invalid_params(exc.field, exc.reason))


def _unavailable(exc: StoreUnavailable) -> ProblemDetailsException:
    return problem(503, "Service Unavailable", f"{exc}; retry shortly", headers={"Retry-After": str(RETRY_AFTER_S)})


def _wire_name(request: Request[Any, Any, Any], key: str) -> str:
    """The name the client used (`pageSize`), not the handler's argument (`page_size`)."""
    try:
        parameter = request.route_handler.parsed_fn_signature.parameters[key]
    except (AttributeError, KeyError):
        return key
    alias = getattr(parameter.kwarg_definition, "name", None)
    return alias or key


def validation_failed(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    params = [
        {
            "name": _wire_name(request, item.get("key") or "body"),
            "reason": item.get("message", ""),
            "in": item.get("source", "body"),
        }
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    names = ", ".join(p["name"] for p in params)
    detail = f"invalid {names}: {params[0]['reason']}" if params else (exc.detail or "invalid request")
    extra = {"invalid-params": params} if params else None
    return problem(422, "Unprocessable Content", detail, extra=extra).to_response(request)


def _http(exc: HTTPException) -> ProblemDetailsException:
    if isinstance(exc.__cause__, SerializationException):  # a body that is not JSON: 422, as the gateway
        detail = f"the request body is not valid JSON: {exc.detail}"
        return problem(422, "Unprocessable Content", detail, extra=invalid_params("body", exc.detail))
    return problem(exc.status_code, _title(exc.status_code), exc.detail, headers=exc.headers)


def _missing_route(exc: NotFoundException) -> ProblemDetailsException:
    return problem(404, "Not Found", exc.detail)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def undecodable(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Bodies the JSON decoder chokes on before validation: invalid UTF-8, absurd nesting."""
    reason = "is not valid UTF-8" if isinstance(exc, UnicodeDecodeError) else "is nested too deeply"
    params = {"invalid-params": [{"name": "body", "reason": reason}]}
    return problem(422, "Unprocessable Content", f"the request body {reason}", extra=params).to_response(request)


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Before any handler runs: a body must say it is JSON (text/plain or a form is refused with 415,
    not parsed by guesswork), and no text anywhere may hold a NUL character, which PostgreSQL cannot
    store: refused with 422 naming the field, so that no store ever sees one and nothing is written."""
    for source, values in (("path", request.path_params), ("query", request.query_params)):
        for name, value in values.items():
            if isinstance(value, str) and "\x00" in value:
                raise _nul(name, source)
    # A chunked body has no content-length: it is a body all the same, held to the same checks.
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    if request.method not in ("POST", "PUT", "PATCH") or not has_body:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("application/json", "application/x-ndjson") and not media_type.endswith("+json"):
        raise problem(
            415, "Unsupported Media Type", f"the request body must be application/json, not {media_type or 'untyped'}"
        )
    if media_type == "application/x-ndjson":
        return  # an import: read line by line by its handler, which checks each line (users._Importer.line)
    body = await request.body()
    if b"\\u0000" in body:  # JSON's only way to carry a NUL; a decoder error is the handler's to report
        try:
            field = nul_at(msgspec.json.decode(body), "")
        except (msgspec.DecodeError, RecursionError):
            return
        if field is not None:
            raise _nul(field or "body", "body")


def _nul(name: str, source: str) -> ProblemDetailsException:
    params = [{"name": name.replace("\x00", "\\u0000"), "reason": NUL_REASON, "in": source}]
    detail = f"{params[0]['name']}: {NUL_REASON}"
    return problem(422, "Unprocessable Content", detail, extra={"invalid-params": params})


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error", path=request.url.path, method=request.method)
    return Response(
        {
            "type": "about:blank",
            "title": "Internal Server Error",
            "status": 500,
            "detail": "an unexpected error occurred; it has been logged",
        },
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        media_type=MEDIA_TYPE,
    )


problem_details = ProblemDetailsPlugin(
    ProblemDetailsConfig(
        enable_for_all_http_exceptions=False,
        exception_to_problem_detail_map={
            NotFound: _not_found,
            Conflict: _conflict,
            PreconditionFailed: _stale,
            Unauthenticated: _unauthenticated,
            Forbidden: _forbidden,
            MalformedRequest: _malformed,
            InvalidInput: _invalid,
            StoreUnavailable: _unavailable,
            NotFoundException: _missing_route,
            HTTPException: _http,
        },
    )
)
