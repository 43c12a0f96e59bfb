"""auth.mode none / jwt / trusted-header, and the signed cookie, through HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from litestar.testing import TestClient

from app.factory import create_app
from app.stores import migrate_all
from infrastructure.config.model import (
    AuthConfig,
    AuthMode,
    Config,
    JwtConfig,
    SessionServiceConfig,
    StoreType,
    TrustedHeaderConfig,
)
from infrastructure.identity import JwtIdentity

Client = TestClient  # type: ignore[type-arg]
BUBBLES = json.dumps([{"type": "agent", "text": "hi"}])
SECRET = "test-hs256-secret-with-enough-length-32+"


def make_client(auth: AuthConfig, tmp_path: Path, store: str = "memory", keys: list[str] | None = None) -> Client:
    service = (
        SessionServiceConfig(StoreType.MEMORY)
        if store == "memory"
        else SessionServiceConfig(StoreType.SQL, f"sqlite:///{tmp_path / 'gateway.db'}")
    )
    config = Config(session_service=service, agents=[], auth=auth)
    migrate_all(config)
    return TestClient(create_app(config, secret_keys=keys or ["k1"]))


def token(sub: str = "alice", key: Any = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time()) + 60, **claims}, key, algorithm=algorithm)


@pytest.fixture
def jwt_client(tmp_path: Path) -> Iterator[Client]:
    with make_client(AuthConfig(mode=AuthMode.JWT, jwt=JwtConfig(secret=SECRET, audience="store")), tmp_path) as c:
        yield c


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_jwt_names_the_user_and_ignores_x_user_id(jwt_client: Client) -> None:
    alice = bearer(token(aud="store"))
    created = jwt_client.post("/api/v1/sessions", json={"id": "s1"}, headers={**alice, "X-User-Id": "mallory"})
    assert created.status_code == 201 and created.json()["data"]["userId"] == "alice"
    other = bearer(token("bob", aud="store"))
    assert jwt_client.get("/api/v1/sessions/s1", headers=other).status_code == 404  # wrong subject: not yours


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("not-a-jwt"),
        bearer(token(key="another-secret-of-enough-length-32+", aud="store")),
        bearer(token(aud="store", exp=int(time.time()) - 5)),
        bearer(token(aud="somebody-else")),
        {"X-User-Id": "alice"},
        bearer(token(aud="store", scope=7)),
        bearer(token(aud="store", scp={"platform:read": True})),
        bearer(token(aud="store", scope=["platform:read", 7])),
    ],
    ids=[
        "none",
        "not-a-jwt",
        "bad-signature",
        "expired",
        "wrong-audience",
        "header-only",
        "scope-number",
        "scp-object",
        "scope-list-with-a-number",
    ],
)
def test_jwt_refuses_missing_bad_and_expired_tokens_without_saying_which_check_failed(
    jwt_client: Client, headers: dict[str, str]
) -> None:
    response = jwt_client.get("/api/v1/sessions", headers=headers)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "missing or invalid credentials"


def test_jwt_scopes_come_as_a_string_or_a_list_of_strings() -> None:
    identity = JwtIdentity(SECRET, ["HS256"], None, None)
    for scopes in ("platform:read agents", ["platform:read", "agents"]):
        headers = {"authorization": f"Bearer {token(scope=scopes)}"}
        assert identity.identify(headers, None).scopes == {"platform:read", "agents"}


def test_jwt_with_an_es256_public_key(tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    public_file = tmp_path / "public.pem"
    public_file.write_bytes(
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    auth = AuthConfig(mode=AuthMode.JWT, jwt=JwtConfig(public_key_file=str(public_file)))
    with make_client(auth, tmp_path) as client:
        good = bearer(token(key=private, algorithm="ES256"))
        assert client.get("/api/v1/sessions", headers=good).status_code == 200
        assert client.get("/api/v1/sessions", headers=bearer(token())).status_code == 401  # HS256 not accepted


def test_trusted_header_needs_the_proxys_token(tmp_path: Path) -> None:
    auth = AuthConfig(mode=AuthMode.TRUSTED_HEADER, trusted_header=TrustedHeaderConfig("X-Auth-User", "proxy-token"))
    with make_client(auth, tmp_path) as client:
        ok = client.post("/api/v1/sessions", json={}, headers={**bearer("proxy-token"), "X-Auth-User": "carol"})
        assert ok.status_code == 201 and ok.json()["data"]["userId"] == "carol"
        assert client.get("/api/v1/sessions", headers={"X-Auth-User": "carol"}).status_code == 401
        assert client.get("/api/v1/sessions", headers={**bearer("guess"), "X-Auth-User": "carol"}).status_code == 401
        assert client.get("/api/v1/sessions", headers=bearer("proxy-token")).status_code == 401


def test_a_browser_without_identity_gets_a_signed_cookie(tmp_path: Path) -> None:
    with make_client(AuthConfig(), tmp_path) as client:
        created = client.post("/api/v1/sessions", json={"name": "mine"})
        set_cookie = created.headers["set-cookie"]
        assert (
            "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie.replace("Lax", "lax") and "Path=/" in set_cookie
        )
        user = created.json()["data"]["userId"]
        assert user.startswith("anon-")
        assert [s["userId"] for s in client.get("/api/v1/sessions").json()["data"]] == [user]
        # Tampered: treated as absent, so a new anonymous user who sees nothing of the first.
        cookie = client.cookies["session_store"]
        client.cookies.clear()
        tampered = client.get("/api/v1/sessions", headers={"cookie": f"session_store={cookie[:-3]}abc"})
        assert tampered.status_code == 200 and tampered.json()["data"] == []


def test_instances_sharing_keys_accept_each_others_cookies_across_rotation(tmp_path: Path) -> None:
    with make_client(AuthConfig(), tmp_path, store="sql", keys=["old"]) as first:
        first.post("/api/v1/sessions", json={"id": "s1"})
        cookie = first.cookies["session_store"]
    with make_client(AuthConfig(), tmp_path, store="sql", keys=["new", "old"]) as second:
        listed = second.get("/api/v1/sessions", headers={"cookie": f"session_store={cookie}"}).json()["data"]
        assert [s["id"] for s in listed] == ["s1"]
    with make_client(AuthConfig(), tmp_path, store="sql", keys=["new"]) as third:
        assert third.get("/api/v1/sessions", headers={"cookie": f"session_store={cookie}"}).json()["data"] == []


def test_ephemeral_to_persistent_keeps_the_browser_working(tmp_path: Path) -> None:
    """The seed's migration: a browser used the service in memory mode; the operator switches to
    sql and restarts; the browser's cookie still names its user, and its next message creates the
    session in the database for that user."""
    with make_client(AuthConfig(), tmp_path, store="memory", keys=["k"]) as before:
        before.post("/api/v1/sessions", json={"id": "web-session-1"})
        before.post("/api/v1/sessions/web-session-1/chat-tasks", json={"taskId": "t1", "messageBubbles": BUBBLES})
        cookie = before.cookies["session_store"]
        user = before.get("/api/v1/sessions").json()["data"][0]["userId"]
    with make_client(AuthConfig(), tmp_path, store="sql", keys=["k"]) as after:
        after.cookies.set("session_store", cookie)
        saved = after.post(
            "/api/v1/sessions/web-session-1/chat-tasks", json={"taskId": "t2", "messageBubbles": BUBBLES}
        )
        assert saved.status_code == 201
        session = after.get("/api/v1/sessions/web-session-1").json()["data"]
        assert session["userId"] == user
        assert [t["taskId"] for t in after.get("/api/v1/sessions/web-session-1/chat-tasks").json()["tasks"]] == ["t2"]
        # Someone else's existing session stays out of reach (422: as if missing, the gateway's answer),
        # and a session the cookie does not name is not created.
        assert (
            after.post(
                "/api/v1/sessions/web-session-1/chat-tasks",
                json={"taskId": "t3", "messageBubbles": BUBBLES},
                headers={"X-User-Id": "mallory"},
            ).status_code
            == 422
        )
        other = after.post(
            "/api/v1/sessions/web-session-2/chat-tasks", json={"taskId": "t4", "messageBubbles": BUBBLES}
        )
        assert other.status_code == 422 and after.get("/api/v1/sessions/web-session-2").status_code == 404
        # Once deleted, the cookie's session does not come back either.
        assert after.delete("/api/v1/sessions/web-session-1").status_code == 204
        late = after.post("/api/v1/sessions/web-session-1/chat-tasks", json={"taskId": "t5", "messageBubbles": BUBBLES})
        assert late.status_code == 422 and after.get("/api/v1/sessions/web-session-1").status_code == 404


def test_the_cookie_is_secure_when_configured(tmp_path: Path) -> None:
    from infrastructure.config.model import CookieConfig

    with make_client(AuthConfig(cookie=CookieConfig(secure=True, max_age=600)), tmp_path) as client:
        set_cookie = client.post("/api/v1/sessions", json={}).headers["set-cookie"]
        assert "Secure" in set_cookie and "Max-Age=600" in set_cookie
