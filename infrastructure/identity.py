"""Identity adapters, one per `auth.mode`.

- none: development and trusted networks. The user is the `X-User-Id` header, else the one in the
  signed cookie, else a new anonymous user (`anon-<uuid>`) whom the app gives a cookie.
- jwt: `Authorization: Bearer <token>` verified with PyJWT (HS256 secret, or an RS256/ES256 public
  key); the user is `sub`, scopes come from `scope`/`scp`. `X-User-Id` is ignored.
- trusted-header: behind an authenticating proxy; the user is the configured header, accepted only
  from a caller presenting the proxy's own bearer token.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt

from domain.checks import check_id
from domain.errors import InvalidInput, Unauthenticated
from domain.ports import Caller
from infrastructure.config.model import AuthConfig, AuthMode

DEV_USER_HEADER = "x-user-id"


def _user(field: str, value: str) -> str:
    try:
        return check_id(field, value)
    except InvalidInput as exc:
        raise InvalidInput(field, exc.reason) from exc


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class DevelopmentIdentity:
    """auth.mode none: whoever the caller says, or the cookie remembers, or a new anonymous user."""

    def identify(self, headers: Mapping[str, str], cookie_user: str | None) -> Caller:
        if claimed := headers.get(DEV_USER_HEADER):
            return Caller(_user("X-User-Id", claimed))
        if cookie_user:
            return Caller(cookie_user)
        return Caller(f"anon-{uuid.uuid4().hex}", anonymous=True)


class JwtIdentity:
    def __init__(self, key: str | bytes, algorithms: list[str], audience: str | None, issuer: str | None) -> None:
        self._key, self._algorithms, self._audience, self._issuer = key, algorithms, audience, issuer

    def identify(self, headers: Mapping[str, str], cookie_user: str | None) -> Caller:
        token = _bearer(headers)
        if token is None:
            raise Unauthenticated("a bearer token is required (Authorization: Bearer <JWT>)")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["sub", "exp"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("the token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the token is not valid: {exc}") from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("the token names no subject")
        raw_scopes = claims.get("scope", claims.get("scp", ""))
        scopes = raw_scopes.split() if isinstance(raw_scopes, str) else [str(s) for s in raw_scopes or []]
        return Caller(_user("sub", subject), frozenset(scopes))


class TrustedHeaderIdentity:
    def __init__(self, header: str, token: str) -> None:
        self._header, self._token = header.lower(), token

    def identify(self, headers: Mapping[str, str], cookie_user: str | None) -> Caller:
        presented = _bearer(headers)
        if presented is None or not hmac.compare_digest(presented, self._token):
            raise Unauthenticated("only the authenticating proxy may call: its bearer token is missing or wrong")
        user = headers.get(self._header)
        if not user:
            raise Unauthenticated(f"the proxy sent no {self._header} header")
        return Caller(_user(self._header, user))


def identity_for(config: AuthConfig) -> DevelopmentIdentity | JwtIdentity | TrustedHeaderIdentity:
    if config.mode is AuthMode.JWT:
        if config.jwt.public_key_file:
            key: str | bytes = Path(config.jwt.public_key_file).read_bytes()
            algorithms = config.jwt.algorithms or ["RS256", "ES256"]
        else:
            key, algorithms = config.jwt.secret or "", config.jwt.algorithms or ["HS256"]
        return JwtIdentity(key, algorithms, config.jwt.audience, config.jwt.issuer)
    if config.mode is AuthMode.TRUSTED_HEADER:
        return TrustedHeaderIdentity(config.trusted_header.header, config.trusted_header.token or "")
    return DevelopmentIdentity()
