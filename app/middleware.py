"""Request ids and the access log: one structured line per request, carrying its id."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Message, Receive, Scope, Send

log = structlog.get_logger("session_store.access")
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# Enough of a path to tell the route and the ids; a 10,000-character one does not flood the log.
LOGGED_PATH = 256


class RequestContextMiddleware:
    """Takes the caller's `X-Request-ID` when sane, else makes one; echoes it; logs the outcome."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.fullmatch(incoming) else uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            fields: dict[str, Any] = {
                "method": scope.get("method"),
                "path": scope["path"][:LOGGED_PATH],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            }
            (log.warning if status >= 500 else log.info)("request", **fields)
            structlog.contextvars.clear_contextvars()


class HeaderLimitMiddleware:
    """Headers over server.max_header_size answer 431 before routing, identity or a body is read.

    The HTTP server (Granian) stops reading a header soon past the limit, which bounds memory; it
    may accept one that arrived in a single read a little over it. This makes the limit exact.
    """

    def __init__(self, app: ASGIApp, max_size: int) -> None:
        self.app, self.max_size = app, max_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            # As on the wire: "name: value\r\n" per header, and the request line's target.
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size += sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.max_size:
                body = (
                    b'{"type":"about:blank","title":"Request Header Fields Too Large","status":431,'
                    b'"detail":"the request\'s headers are larger than this server accepts"}'
                )
                start: HTTPResponseStartEvent = {
                    "type": "http.response.start",
                    "status": 431,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ],
                }
                await send(start)
                end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
                await send(end)
                return
        await self.app(scope, receive, send)
