"""Cookies across real server processes: many instances, one key; the ephemeral-to-persistent switch."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infrastructure.cookies import CookieSession, CookieSigner
from tests.databases import fresh_database
from tests.e2e.server import Server

BUBBLES = json.dumps([{"type": "agent", "text": "hello"}])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_database("postgres") as url:
        yield url


@pytest.fixture
def shared_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SESSION_SECRET_KEY", "one-key-for-every-instance-of-this-test")
    return os.environ["SESSION_SECRET_KEY"]


def test_two_servers_with_one_key_accept_each_others_cookies(
    tmp_path: Path, postgres_url: str, shared_key: str
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f'session_service:\n  type: sql\n  database_url: "{postgres_url}"\nagents: []\n')
    servers = [Server(config, tmp_path).start(), Server(config, tmp_path).start()]
    try:
        for server in servers:
            server.wait_ready()
        with httpx.Client(base_url=servers[0].url) as browser:
            created = browser.post("/api/v1/sessions", json={"name": "from the first"})
            assert created.status_code == 201
            cookie = browser.cookies["session_store"]
        with httpx.Client(base_url=servers[1].url, cookies={"session_store": cookie}) as same_browser:
            listed = same_browser.get("/api/v1/sessions").json()["data"]
        assert [s["name"] for s in listed] == ["from the first"]
    finally:
        for server in servers:
            server.stop()


def test_switching_from_memory_to_sql_keeps_the_browser(tmp_path: Path, shared_key: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("session_service:\n  type: memory\nagents: []\n")
    server = Server(config, tmp_path).start().wait_ready()
    with httpx.Client(base_url=server.url) as browser:
        assert browser.post("/api/v1/sessions", json={"id": "web-session-1"}).status_code == 201
        body = {"taskId": "t1", "messageBubbles": BUBBLES}
        assert browser.post("/api/v1/sessions/web-session-1/chat-tasks", json=body).status_code == 201
        cookie = browser.cookies["session_store"]
    server.stop()
    # The operator switches the gateway to sql and restarts, same key.
    config.write_text(f'session_service:\n  type: sql\n  database_url: "sqlite:///{tmp_path / "g.db"}"\nagents: []\n')
    server = Server(config, tmp_path, server.port).start().wait_ready()
    try:
        with httpx.Client(base_url=server.url, cookies={"session_store": cookie}) as browser:
            body = {"taskId": "t2", "messageBubbles": BUBBLES}
            assert browser.post("/api/v1/sessions/web-session-1/chat-tasks", json=body).status_code == 201
            tasks = browser.get("/api/v1/sessions/web-session-1/chat-tasks").json()["tasks"]
            assert [t["taskId"] for t in tasks] == ["t2"]  # memory kept nothing; the session now lives on
        server.kill()
        server.start().wait_ready()
        with httpx.Client(base_url=server.url, cookies={"session_store": cookie}) as browser:
            assert browser.get("/api/v1/sessions/web-session-1").status_code == 200
    finally:
        server.stop()


def test_an_active_users_cookie_slides(tmp_path: Path, shared_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past half its max age, a request renews the cookie; a younger one is left alone."""
    config = tmp_path / "c.yaml"
    config.write_text("session_service:\n  type: memory\nagents: []\nauth:\n  cookie:\n    max_age: 120\n")
    signer = CookieSigner([shared_key], 120)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now - 70)
    old = signer.sign(CookieSession("anon-returning", "s1"))
    monkeypatch.setattr(time, "time", lambda: now - 10)
    young = signer.sign(CookieSession("anon-returning", "s1"))
    monkeypatch.undo()
    server = Server(config, tmp_path).start(env={**os.environ, "SESSION_SECRET_KEY": shared_key}).wait_ready()
    try:
        renewed = httpx.get(f"{server.url}/api/v1/sessions", cookies={"session_store": old}, timeout=10)
        assert renewed.status_code == 200
        fresh = signer.verify(renewed.cookies["session_store"])
        assert fresh is not None and (fresh.user_id, fresh.session_id) == ("anon-returning", "s1")
        assert fresh.issued_at >= int(now) - 1
        assert "Max-Age=120" in renewed.headers["set-cookie"]
        untouched = httpx.get(f"{server.url}/api/v1/sessions", cookies={"session_store": young}, timeout=10)
        assert untouched.status_code == 200 and "set-cookie" not in untouched.headers
    finally:
        server.stop()
