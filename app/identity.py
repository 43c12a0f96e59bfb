"""Who is calling, per request, and the signed cookie that remembers a browser.

The identity adapter (auth.mode) names the caller; in mode none a browser without any identity
becomes an anonymous user whose id, with its current session id, lives in a cookie signed with
SESSION_SECRET_KEY. The cookie is written by a small ASGI wrapper when a response starts, from what
the request recorded in its state.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from domain.access import Caller
from domain.errors import MalformedRequest
from domain.ports import IdentityProvider
from infrastructure.config.model import CookieConfig
from infrastructure.cookies import CookieSession, CookieSigner

_ISSUE = "session_store_cookie"
# Per request, in the ASGI scope: who is calling, and the cookie session as the request leaves it.
_CALLER = "session_store.caller"
_COOKIE = "session_store.cookie"


def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    return caller_of(request)


def provide_user_id(request: Request[Any, Any, Any]) -> str:
    # From the request rather than from the `caller` dependency: each dependency Litestar resolves
    # costs more per request than identifying the caller does.
    return caller_of(request).user_id


def caller_of(request: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """The caller, identified once per request whichever guard or dependency asks first."""
    scope = request.scope
    known: Caller | None = scope.get(_CALLER)  # type: ignore[assignment]
    if known is not None:
        return known
    app_state = request.app.state
    signer: CookieSigner = app_state.cookie_signer
    cookie_config: CookieConfig = app_state.cookie_config
    identity: IdentityProvider = app_state.identity
    headers = request.headers
    for name in app_state.identity_headers:
        if name in headers and len(headers.getall(name)) > 1:
            raise MalformedRequest(name, "must be sent once: which one to believe is not for the server to guess")
    # API clients send no cookie: skip parsing an absent header.
    remembered = signer.verify(request.cookies.get(cookie_config.name)) if "cookie" in headers else None
    caller = identity.identify(headers, remembered.user_id if remembered else None)
    scope[_CALLER] = caller  # type: ignore[literal-required]
    if remembered is not None:
        scope[_COOKIE] = remembered  # type: ignore[literal-required]
    if caller.anonymous:
        remember(request, user_id=caller.user_id)
    elif remembered is not None and signer.stale(remembered):
        _issue(request, remembered)
    return caller


def remember(
    request: ASGIConnection[Any, Any, Any, Any], *, user_id: str | None = None, session_id: str | None = None
) -> None:
    """Have the response carry an updated cookie (mode none: the user; any mode: the session)."""
    current: CookieSession = request.scope.get(_COOKIE) or CookieSession()  # type: ignore[assignment]
    updated = CookieSession(user_id or current.user_id, session_id or current.session_id)
    if updated != current:
        _issue(request, updated)


def remembered_session(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The session id the request's signed cookie names for its caller, if it names one."""
    cookie: CookieSession | None = request.scope.get(_COOKIE)  # type: ignore[assignment]
    if cookie is None or cookie.user_id not in (None, caller_of(request).user_id):
        return None
    return cookie.session_id


def _issue(request: ASGIConnection[Any, Any, Any, Any], session: CookieSession) -> None:
    request.scope[_COOKIE] = session  # type: ignore[literal-required]
    request.scope.setdefault("state", {})[_ISSUE] = session


class CookieMiddleware:
    def __init__(self, app: ASGIApp, signer: CookieSigner, config: CookieConfig) -> None:
        self.app, self._signer = app, signer
        # The header's fixed parts, formatted once: litestar's Cookie goes through http.cookies and
        # dataclasses.asdict, some 40 us a response. The value (base64url and a dot) needs no quoting.
        self._name = f"{config.name}=".encode()
        secure = "; Secure" if config.secure else ""
        self._attributes = f"; HttpOnly; Max-Age={config.max_age}; Path=/; SameSite=lax{secure}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            session = scope.get("state", {}).get(_ISSUE)
            if message["type"] == "http.response.start" and session is not None:
                cookie = self._name + self._signer.sign(session).encode() + self._attributes
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
