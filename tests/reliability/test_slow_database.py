"""A stuck query turns into a 503 after the statement timeout, not a request that hangs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient
from sqlalchemy import create_engine, text

from app.factory import create_app
from app.stores import migrate_all
from infrastructure.config.model import AgentConfig, Config, ServerConfig, SessionServiceConfig, StoreType
from infrastructure.sql.urls import sync_url
from tests.databases import fresh_database

BUBBLES = json.dumps([{"type": "agent", "text": "hi"}])


@pytest.fixture(params=["postgres", "mysql"])
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    with fresh_database(request.param) as url:
        yield url


def test_a_query_stuck_on_a_lock_answers_503_after_the_timeout(database: str) -> None:
    service = SessionServiceConfig(StoreType.SQL, database)
    config = Config(
        session_service=service,
        agents=[AgentConfig("a", service)],
        server=ServerConfig(statement_timeout_ms=500),
    )
    migrate_all(config)
    locker = create_engine(sync_url(database))
    with TestClient(create_app(config)) as client:
        assert client.post("/api/v1/sessions", json={"id": "s1"}, headers={"X-User-Id": "u"}).status_code == 201
        with locker.connect() as connection:
            connection.execute(text("UPDATE sessions SET name = 'held' WHERE id = 's1'"))  # row lock, held
            started = time.perf_counter()
            stuck = client.post(
                "/api/v1/sessions/s1/chat-tasks",
                json={"taskId": "t1", "messageBubbles": BUBBLES},
                headers={"X-User-Id": "u"},
            )
            waited = time.perf_counter() - started
            connection.rollback()
        assert stuck.status_code == 503 and stuck.headers["retry-after"] == "5", stuck.text
        assert 0.4 < waited < 5
        # Nothing half-written, and the next request goes through.
        tasks = client.get("/api/v1/sessions/s1/chat-tasks", headers={"X-User-Id": "u"}).json()["tasks"]
        assert tasks == []
        saved = client.post(
            "/api/v1/sessions/s1/chat-tasks",
            json={"taskId": "t1", "messageBubbles": BUBBLES},
            headers={"X-User-Id": "u"},
        )
        assert saved.status_code == 201
    locker.dispose()


def test_an_agent_append_stuck_on_a_lock_answers_503(database: str) -> None:
    service = SessionServiceConfig(StoreType.SQL, database)
    config = Config(
        session_service=service, agents=[AgentConfig("a", service)], server=ServerConfig(statement_timeout_ms=500)
    )
    migrate_all(config)
    locker = create_engine(sync_url(database))
    headers = {"X-User-Id": "u"}
    with TestClient(create_app(config)) as client:
        assert client.post("/api/v1/agents/a/sessions", json={"sessionId": "s1"}, headers=headers).status_code == 201
        with locker.connect() as connection:
            connection.execute(text("UPDATE agent_sessions SET version = version WHERE id = 's1'"))
            stuck = client.post(
                "/api/v1/agents/a/sessions/s1/events", json={"invocationId": "i", "author": "a"}, headers=headers
            )
            connection.rollback()
        assert stuck.status_code == 503, stuck.text
        assert client.get("/api/v1/agents/a/sessions/s1", headers=headers).json()["events"] == []
        ok = client.post(
            "/api/v1/agents/a/sessions/s1/events", json={"invocationId": "i", "author": "a"}, headers=headers
        )
        assert ok.status_code == 201 and ok.json()["sequence"] == 1
    locker.dispose()
