"""Upgrades lose nothing: for each lineage and each of its revisions, a database migrated to that
revision is filled as that revision stores its rows (only the columns it has), then upgraded to head,
and every row is there and reads back through the use cases and through the HTTP API. On SQLite,
PostgreSQL and MariaDB."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from litestar.testing import TestClient
from sqlalchemy import inspect, text

from app.factory import create_app
from domain.agent.model import Behavior
from domain.agent.service import AgentService, EventInput
from domain.gateway.model import FeedbackType
from domain.gateway.service import GatewayService
from domain.paging import PageRequest
from domain.platform.service import PlatformService
from domain.ports import FeedbackFilter
from infrastructure.config.model import AgentConfig, Config, PlatformServiceConfig, SessionServiceConfig, StoreType
from infrastructure.sql import migrate
from infrastructure.sql.agent.store import SqlAgentStore
from infrastructure.sql.gateway.store import SqlGatewayStore
from infrastructure.sql.platform.store import SqlPlatformStore
from tests.databases import fresh_database

BUBBLES = json.dumps([{"type": "agent", "text": "About 22 degrees in Lisbon"}])
# Rows as every revision could hold them; a revision's own columns are taken from each.
GATEWAY_ROWS: list[tuple[str, dict[str, Any]]] = [
    (
        "sessions",
        {
            "id": "s1",
            "user_id": "u1",
            "name": "Große Straße",
            "agent_id": "A",
            "project_id": "p1",
            "created_time": 1000,
            "updated_time": 2000,
        },
    ),
    (
        "chat_tasks",
        {
            "id": "t1",
            "session_id": "s1",
            "user_id": "u1",
            "user_message": "How warm is Lisbon?",
            "message_bubbles": BUBBLES,
            "task_metadata": '{"agent_name": "A"}',
            "created_time": 1500,
            "updated_time": 1600,
        },
    ),
    (
        "feedback",
        {
            "id": "f1",
            "session_id": "s1",
            "task_id": "t1",
            "user_id": "u1",
            "rating": "up",
            "comment": "good",
            "created_time": 1700,
        },
    ),
]
AGENT_ROWS: list[tuple[str, dict[str, Any]]] = [
    (
        "agent_sessions",
        {
            "app_name": "helper",
            "user_id": "u1",
            "id": "s1",
            "state": '{"k": 1}',
            "version": 2,
            "last_sequence": 1,
            "created_time": 1000,
            "last_update_time": 2000,
        },
    ),
    (
        "agent_events",
        {
            "app_name": "helper",
            "user_id": "u1",
            "session_id": "s1",
            "sequence": 1,
            "id": "e1",
            "invocation_id": "inv",
            "author": "user",
            "timestamp": 1500,
            "body": '{"content": {"parts": [{"text": "hi"}]}}',
        },
    ),
    ("agent_app_states", {"app_name": "helper", "state": '{"tone": "warm"}', "update_time": 1000}),
    ("agent_user_states", {"app_name": "helper", "user_id": "u1", "state": '{"name": "Ana"}', "update_time": 1000}),
    (
        "agent_runs",
        {
            "app_name": "helper",
            "id": "r1",
            "user_id": "u1",
            "session_id": "s1",
            "requested_session_id": "s1",
            "behavior": "PERSISTENT",
            "created_time": 1000,
            "ended_time": None,
        },
    ),
]


# What the code of each revision computed beside a row (the search columns), as it wrote it then.
FOLDED = {
    "sessions": {"search_name": "grosse strasse"},
    "chat_tasks": {"search_message": "how warm is lisbon?", "search_bubbles": "\x1fabout 22 degrees in lisbon\x1f"},
}
WORDS = {  # from revision 0005: the words, separated by spaces
    "sessions": {"search_name": "grosse strasse"},
    "chat_tasks": {"search_message": "how warm is lisbon", "search_bubbles": "about 22 degrees in lisbon"},
}


PLATFORM_CONFIG = {"model": "gemini", "temperature": 0.2, "apiKey": "k-123"}
PLATFORM_KEY = "walk-key-" + "k" * 32
# Configs were kept in clear before they were sealed (the vault still opens those).
PLATFORM_ROWS: list[tuple[str, dict[str, Any]]] = [
    (
        "platform_agents",
        {"id": "a1", "name": "helper", "description": "d", "config": json.dumps(PLATFORM_CONFIG),
         "created_time": 1000, "updated_time": 2000},
    ),
    (
        "platform_connectors",
        {"id": "c1", "name": "mail", "type": "smtp", "config": json.dumps(PLATFORM_CONFIG),
         "created_time": 1000, "updated_time": 2000},
    ),
    (
        "platform_deployments",
        {"id": "d1", "agent_id": "a1", "status": "running", "config": json.dumps(PLATFORM_CONFIG),
         "created_time": 1000, "updated_time": 2000},
    ),
]  # fmt: skip
ROWS = {"gateway": GATEWAY_ROWS, "agent": AGENT_ROWS, "platform": PLATFORM_ROWS}


def as_stored(lineage: str, revision: str, rows: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    if lineage != "gateway" or revision < "0003":
        return rows
    computed = WORDS if revision >= "0005" else FOLDED
    return [(table, {**row, **computed.get(table, {})}) for table, row in rows]


def revisions(lineage: str) -> list[str]:
    script = ScriptDirectory.from_config(migrate.lineage_config(lineage))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


WALKS = [(lineage, revision) for lineage in ("gateway", "agent", "platform") for revision in revisions(lineage)]


@contextmanager
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    with ExitStack() as stack:
        yield (
            f"sqlite:///{tmp_path / 'walk.db'}" if backend == "sqlite" else stack.enter_context(fresh_database(backend))
        )


def fill_at(lineage: str, revision: str, url: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    engine = migrate.migration_engine(url)
    try:
        with engine.connect() as connection:
            command.upgrade(migrate.lineage_config(lineage, connection), revision)
            connection.commit()
            columns = {table: {c["name"] for c in inspect(connection).get_columns(table)} for table, _ in rows}
            for table, row in rows:
                kept = {name: value for name, value in row.items() if name in columns[table]}
                names = ", ".join(kept)
                connection.execute(
                    text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + n for n in kept)})"), kept
                )
            connection.commit()
    finally:
        engine.dispose()


async def gateway_reads_back(url: str) -> None:
    store = SqlGatewayStore.at(url)
    gateway = GatewayService(store)
    try:
        session = await gateway.get_session("u1", "s1")
        assert (session.name, session.agent_id, session.project_id) == ("Große Straße", "A", "p1")
        assert (session.created_time, session.updated_time, session.source.value) == (1000, 2000, "chat")
        (task,) = (await gateway.list_tasks("u1", "s1")).items
        assert (task.id, task.user_message, task.message_bubbles, task.created_time) == (
            "t1",
            "How warm is Lisbon?",
            BUBBLES,
            1500,
        )
        assert task.metadata() == {"agent_name": "A"}
        (feedback,) = await gateway.list_feedback(FeedbackFilter("u1"), PageRequest())
        assert (feedback.id, feedback.rating, feedback.comment) == ("f1", FeedbackType.UP, "good")
        assert [s.id for s in (await gateway.search_sessions("u1", "STRASSE", PageRequest())).items] == ["s1"]
        hits, _ = await gateway.search_messages("u1", "lisbon degrees")
        assert [hit.task_id for hit in hits] == ["t1"]
    finally:
        await store.close()


async def platform_reads_back(url: str) -> None:
    store = SqlPlatformStore.at(url, [PLATFORM_KEY])
    platform = PlatformService(store)
    try:
        agent = await platform.get_agent("a1")
        assert (agent.name, agent.description, agent.config, agent.created_time) == (
            "helper",
            "d",
            PLATFORM_CONFIG,
            1000,
        )
        connector = await platform.get_connector("c1")
        assert (connector.name, connector.type, connector.config) == ("mail", "smtp", PLATFORM_CONFIG)
        deployment = await platform.get_deployment("d1")
        assert (deployment.agent_id, deployment.status.value, deployment.config) == ("a1", "running", PLATFORM_CONFIG)
        assert await store.reseal() == 3  # sealed under the key now, and still read back
        assert (await platform.get_agent("a1")).config == PLATFORM_CONFIG
    finally:
        await store.close()


async def agent_reads_back(url: str) -> None:
    store = SqlAgentStore.at(url, "helper")
    agent = AgentService("helper", store, Behavior.PERSISTENT)
    try:
        view = await agent.get_session("u1", "s1")
        assert view.state == {"k": 1, "app:tone": "warm", "user:name": "Ana"}
        assert [(e.id, e.sequence, e.timestamp) for e in view.events] == [("e1", 1, 1500)]
        assert view.events[0].event().body == {"content": {"parts": [{"text": "hi"}]}}
        appended = await agent.append_event("u1", "s1", EventInput("inv", "user", {}, id="e2"))
        assert appended.event.sequence == 2 and appended.version == 3
        assert await agent.user_state("u1") == {"name": "Ana"}
        assert (await agent.end_run("u1", "r1")).ended_time is not None
    finally:
        await store.close()


@pytest.mark.parametrize(("lineage", "revision"), WALKS, ids=[f"{lineage}-{r}" for lineage, r in WALKS])
@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
async def test_rows_stored_at_a_revision_survive_the_upgrade_to_head(
    backend: str, lineage: str, revision: str, tmp_path: Path
) -> None:
    with database(backend, tmp_path) as url:
        fill_at(lineage, revision, url, as_stored(lineage, revision, ROWS[lineage]))
        migrate.upgrade(lineage, url)
        reads_back = {"gateway": gateway_reads_back, "agent": agent_reads_back, "platform": platform_reads_back}
        await reads_back[lineage](url)
        await asyncio.to_thread(reads_back_over_http, lineage, url)


def reads_back_over_http(lineage: str, url: str) -> None:
    """The same rows through the HTTP API, as a client reads them after the upgrade."""
    store = SessionServiceConfig(StoreType.SQL, url)
    config = Config(
        session_service=store if lineage == "gateway" else SessionServiceConfig(StoreType.MEMORY),
        agents=[AgentConfig("helper", store)] if lineage == "agent" else [],
        platform_service=PlatformServiceConfig(url if lineage == "platform" else None),
    )
    with TestClient(create_app(config, platform_keys=[PLATFORM_KEY])) as client:
        u1 = {"X-User-Id": "u1"}
        if lineage == "gateway":
            session = client.get("/api/v1/sessions/s1", headers=u1).json()["data"]
            assert (session["name"], session["agentId"], session["createdTime"]) == ("Große Straße", "A", 1000)
            (task,) = client.get("/api/v1/sessions/s1/chat-tasks", headers=u1).json()["tasks"]
            assert (task["taskId"], task["userMessage"], task["createdTime"]) == ("t1", "How warm is Lisbon?", 1500)
            assert [f["id"] for f in client.get("/api/v1/feedback", headers=u1).json()] == ["f1"]
        elif lineage == "agent":
            view = client.get("/api/v1/agents/helper/sessions/s1", headers=u1).json()
            assert view["state"] == {"k": 1, "app:tone": "warm", "user:name": "Ana"}
            assert [e["id"] for e in view["events"]] == ["e1", "e2"]  # e2: appended by the use case read above
        else:
            agent = client.get("/api/v1/platform/agents/a1").json()
            assert (agent["name"], agent["createdTime"]) == ("helper", 1000)
