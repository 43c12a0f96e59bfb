"""Identity adapters, one per `auth.mode`.

- none: development and trusted networks. The user is the `X-User-Id` header, else the one in the
  signed cookie, else a new anonymous user (`anon-<uuid>`) whom the app gives a cookie.
- jwt: `Authorization: Bearer <token>` verified with PyJWT (HS256 secret, or an RS256/ES256 public
  key); the user is `sub`, scopes come from `scope`/`scp`. `X-User-Id` is ignored.
- trusted-header: behind an authenticating proxy; the user is the configured header and the scopes
  the configured scopes header, accepted only from a caller presenting the proxy's own bearer token.

What the scopes allow is domain.access; mode none holds every right.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
import structlog

from domain.access import Caller
from domain.checks import check_id
from domain.errors import InvalidInput, MalformedRequest, Unauthenticated
from infrastructure.config.model import AuthConfig, AuthMode

DEV_USER_HEADER = "x-user-id"
log = structlog.get_logger("session_store.auth")


def _refused(reason: str) -> Unauthenticated:
    """What the client is told is the same whatever failed (it must not learn which check to beat);
    the reason goes to the log, without the credential."""
    log.info("authentication refused", reason=reason)
    return Unauthenticated("missing or invalid credentials")


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    """`scope` or `scp`: a space-separated string or a list of strings; any other shape grants nothing."""
    raw = claims.get("scope", claims.get("scp", ""))
    if isinstance(raw, str):
        return frozenset(raw.split())
    if isinstance(raw, list) and all(isinstance(scope, str) for scope in raw):
        return frozenset(raw)
    raise _refused(f"the scope claim is a {type(raw).__name__}, not a string or a list of strings")


def _user(field: str, value: str) -> str:
    try:
        return check_id(field, value)
    except InvalidInput as exc:
        raise MalformedRequest(field, exc.reason) from exc


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class DevelopmentIdentity:
    """auth.mode none: whoever the caller says, or the cookie remembers, or a new anonymous user."""

    def identify(self, headers: Mapping[str, str], cookie_user: str | None) -> Caller:
        if claimed := headers.get(DEV_USER_HEADER):
            return Caller(_user("X-User-Id", claimed), unrestricted=True)
        if cookie_user:
            return Caller(cookie_user, unrestricted=True)
        return Caller(f"anon-{uuid.uuid4().hex}", anonymous=True, unrestricted=True)


class JwtIdentity:
    def __init__(self, key: str | bytes, algorithms: list[str], audience: str | None, issuer: str | None) -> None:
        self._key, self._algorithms, self._audience, self._issuer = key, algorithms, audience, issuer

    def identify(self, headers: Mapping[str, str], cookie_user: str | None) -> Caller:
        token = _bearer(headers)
        if token is None:
            raise _refused("no bearer token")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["sub", "exp"]},
            )
        except jwt.InvalidTokenError as exc:  # expired, bad signature, audience, issuer, malformed
            raise _refused(f"the token is not valid: {exc}") from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise _refused("the token names no subject")
        return Caller(_user("sub", subject), _scopes(claims))


class TrustedHeaderIdentity:
    def __init__(self, header: str, token: str, scopes_header: str = "x-forwarded-scopes") -> None:
        self._header, self._token, self._scopes = header.lower(), token, scopes_header.lower()

    def identify(self, headers: Mapping[str, str], cookie_user: str | None) -> Caller:
        presented = _bearer(headers)
        if presented is None or not hmac.compare_digest(presented.encode(), self._token.encode()):
            raise _refused("the proxy's bearer token is missing or wrong")
        user = headers.get(self._header)
        if not user:
            raise _refused(f"the proxy sent no {self._header} header")
        return Caller(_user(self._header, user), frozenset(headers.get(self._scopes, "").replace(",", " ").split()))


def identity_headers(config: AuthConfig) -> frozenset[str]:
    """The headers that say who is calling in this mode: each must come once. Were the first of two
    believed, a client could put its own ahead of what an authenticating proxy appends."""
    if config.mode is AuthMode.TRUSTED_HEADER:
        trusted = config.trusted_header
        return frozenset({"authorization", trusted.header.lower(), trusted.scopes_header.lower()})
    return frozenset({"authorization", DEV_USER_HEADER})


def identity_for(config: AuthConfig) -> DevelopmentIdentity | JwtIdentity | TrustedHeaderIdentity:
    if config.mode is AuthMode.JWT:
        if config.jwt.public_key_file:
            key: str | bytes = Path(config.jwt.public_key_file).read_bytes()
            algorithms = config.jwt.algorithms or ["RS256", "ES256"]
        else:
            key, algorithms = config.jwt.secret or "", config.jwt.algorithms or ["HS256"]
        return JwtIdentity(key, algorithms, config.jwt.audience, config.jwt.issuer)
    if config.mode is AuthMode.TRUSTED_HEADER:
        trusted = config.trusted_header
        return TrustedHeaderIdentity(trusted.header, trusted.token or "", trusted.scopes_header)
    return DevelopmentIdentity()
