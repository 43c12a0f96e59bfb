"""The remote transport: a running Session Store server's agent routes, over HTTP.

The service acts for the users it names, as an agent service does (docs/agents.md). How it proves
it may, as the server's `auth.mode` asks:

- `proxy_token=`: trusted-header mode; the service is a proxy of its own: it sends the proxy's token
  with `X-Forwarded-User` naming the user and `X-Forwarded-Scopes: agents`;
- `jwt_secret=`: jwt mode; it signs a short-lived token per user (`sub` the user, `scope` "agents")
  with this key: the shared secret (HS256, the default `jwt_algorithm=`), or the private key in PEM
  for `jwt_algorithm="RS256"`/`"ES256"` whose public key the server holds; `jwt_issuer=`/
  `jwt_audience=` when the server checks them;
- neither: mode none (development), the user in `X-User-Id`.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx
import jwt
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.sessions.session import Session

from app.adk.events import Stale, adk_event, adk_session
from domain.agent.service import EventInput

PAGE = 100
TOKEN_LIFETIME_S = 300


class Remote:
    def __init__(
        self,
        url: str,
        *,
        proxy_token: str | None = None,
        jwt_secret: str | None = None,
        jwt_issuer: str | None = None,
        jwt_audience: str | None = None,
        jwt_algorithm: str = "HS256",
        timeout_s: float = 30.0,
    ) -> None:
        self._client = httpx.AsyncClient(base_url=url.rstrip("/") + "/api/v1/agents", timeout=timeout_s)
        self._proxy_token = proxy_token
        self._jwt = (jwt_secret, jwt_issuer, jwt_audience)
        self._jwt_algorithm = jwt_algorithm
        self._tokens: dict[str, tuple[str, float]] = {}

    def _as(self, user_id: str) -> dict[str, str]:
        if self._proxy_token is not None:
            return {
                "Authorization": f"Bearer {self._proxy_token}",
                "X-Forwarded-User": user_id,
                "X-Forwarded-Scopes": "agents",
            }
        secret, issuer, audience = self._jwt
        if secret is None:
            return {"X-User-Id": user_id}
        token, expires = self._tokens.get(user_id, ("", 0.0))
        if expires - time.time() < TOKEN_LIFETIME_S / 2:
            expires = time.time() + TOKEN_LIFETIME_S
            claims: dict[str, Any] = {"sub": user_id, "scope": "agents", "exp": int(expires)}
            claims |= {"iss": issuer} if issuer else {}
            claims |= {"aud": audience} if audience else {}
            token = jwt.encode(claims, secret, algorithm=self._jwt_algorithm)
            self._tokens[user_id] = (token, expires)
        return {"Authorization": f"Bearer {token}"}

    async def _call(
        self, method: str, path: str, user_id: str, *, json: Any = None, params: Any = None, headers: Any = None
    ) -> httpx.Response:
        response = await self._client.request(
            method, path, json=json, params=params, headers={**self._as(user_id), **(headers or {})}
        )
        if response.status_code >= 500 or response.status_code in (401, 403):
            detail = response.json().get("detail", response.text) if response.content else response.reason_phrase
            raise ConnectionError(f"Session Store answered {response.status_code} to {method} {path}: {detail}")
        return response

    @staticmethod
    def _sessions(app_name: str) -> str:
        return f"/{quote(app_name, safe='')}/sessions"

    def _session(self, app_name: str, body: dict[str, Any], version: int | None = None) -> Session:
        events = [adk_event(stored) for stored in body.get("events", [])]
        return adk_session(
            app_name,
            body["id"],
            body["userId"],
            body["state"],
            events,
            body["lastUpdateTime"],
            body["version"] if version is None else version,
        )

    @staticmethod
    def _fail(response: httpx.Response) -> None:
        if response.status_code >= 400:
            detail = response.json().get("detail", "") if response.content else ""
            raise ValueError(f"Session Store refused it ({response.status_code}): {detail}")

    async def create(self, app_name: str, user_id: str, session_id: str, state: dict[str, Any] | None) -> Session:
        body = {"sessionId": session_id, **({"state": state} if state else {})}
        response = await self._call("POST", self._sessions(app_name), user_id, json=body)
        if response.status_code == 409:
            raise AlreadyExistsError(f"Session with id {session_id} already exists.")
        self._fail(response)
        return self._session(app_name, response.json())

    async def get(
        self, app_name: str, user_id: str, session_id: str, num_recent_events: int | None, after_ms: int | None
    ) -> Session | None:
        params = {"numRecentEvents": num_recent_events, "afterTimestamp": after_ms}
        path = f"{self._sessions(app_name)}/{quote(session_id, safe='')}"
        response = await self._call("GET", path, user_id, params={k: v for k, v in params.items() if v is not None})
        if response.status_code == 404:
            return None
        self._fail(response)
        return self._session(app_name, response.json())

    async def list(self, app_name: str, user_id: str | None) -> list[Session]:
        if user_id is None:
            raise NotImplementedError("every user's sessions are listed by the embedded transport only")
        found: list[Session] = []
        params: dict[str, Any] = {"pageSize": PAGE}
        while True:
            response = await self._call("GET", self._sessions(app_name), user_id, params=params)
            self._fail(response)
            page = response.json()
            found += [self._session(app_name, body) for body in page["data"]]
            if not page["nextCursor"]:
                return found
            params["cursor"] = page["nextCursor"]

    async def delete(self, app_name: str, user_id: str, session_id: str) -> None:
        response = await self._call("DELETE", f"{self._sessions(app_name)}/{quote(session_id, safe='')}", user_id)
        if response.status_code != 404:
            self._fail(response)

    async def user_state(self, app_name: str, user_id: str) -> dict[str, Any]:
        response = await self._call(
            "GET", f"/{quote(app_name, safe='')}/users/{quote(user_id, safe='')}/state", user_id
        )
        self._fail(response)
        state: dict[str, Any] = response.json()["state"]
        return state

    async def append(
        self, app_name: str, user_id: str, session_id: str, event: EventInput, expected_version: int | None
    ) -> int:
        body = {
            **event.body,
            "id": event.id,
            "invocationId": event.invocation_id,
            "author": event.author,
            "timestamp": event.timestamp,
        }
        headers = {"If-Match": f'"{expected_version}"'} if expected_version is not None else {}
        path = f"{self._sessions(app_name)}/{quote(session_id, safe='')}/events"
        response = await self._call("POST", path, user_id, json=body, headers=headers)
        if response.status_code == 404:
            raise SessionNotFoundError(f"Session {session_id} not found.")
        if response.status_code == 412:
            raise Stale(response.json().get("detail", "stale"))
        self._fail(response)
        return int(response.headers["etag"].strip('"'))

    async def close(self) -> None:
        await self._client.aclose()
