"""Retention as an operator runs it: `session-store purge --dry-run` says what would go and deletes
nothing, and the server purges by itself while it serves, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from domain.agent.model import Behavior
from domain.agent.service import AgentService, EventInput
from domain.gateway.service import GatewayService, TaskInput
from domain.paging import PageRequest
from domain.retention import DAY_MS
from infrastructure.sql import migrate
from infrastructure.sql.agent.store import SqlAgentStore
from infrastructure.sql.gateway.store import SqlGatewayStore
from tests.e2e.server import Server, one_database_config

BUBBLES = json.dumps([{"type": "agent", "text": "hello"}])
RETENTION = "retention: {gateway_days: 30, agent_days: 60, tombstone_days: 30, interval_seconds: 1}\n"


async def _seed(url: str) -> None:
    """alice: 3 sessions untouched for 40 days, one from yesterday, a tombstone of 40 days; the agent:
    2 sessions of 90 days and one of 40 (kept 60)."""
    now = int(time.time() * 1000)
    days_ago: list[int] = [40]
    gateway_store, agent_store = SqlGatewayStore.at(url), SqlAgentStore.at(url, "a")
    gateway = GatewayService(gateway_store, lambda: now - days_ago[0] * DAY_MS)
    agent = AgentService("a", agent_store, Behavior.PERSISTENT, lambda: now - days_ago[0] * DAY_MS)
    try:
        for name in ("old1", "old2", "old3", "gone"):
            await gateway.create_session("alice", session_id=name)
            await gateway.save_task("alice", name, TaskInput(f"{name}-t", BUBBLES, "hi"))
        await gateway.delete_session("alice", "gone")
        await agent.create_session("alice", "kept-40")
        days_ago[0] = 90
        for name in ("agent-old1", "agent-old2"):
            await agent.create_session("alice", name)
            await agent.append_event("alice", name, EventInput("inv", "agent", {"content": "hi"}))
        days_ago[0] = 1
        await gateway.create_session("alice", session_id="recent")
    finally:
        await gateway_store.close()
        await agent_store.close()


async def _sessions(url: str) -> tuple[list[str], int]:
    """alice's gateway sessions, newest first, and how many agent sessions she has."""
    gateway_store, agent_store = SqlGatewayStore.at(url), SqlAgentStore.at(url, "a")
    try:
        listed = (await GatewayService(gateway_store).list_sessions("alice", PageRequest())).items
        agent = AgentService("a", agent_store, Behavior.PERSISTENT)
        return [s.id for s in listed], len((await agent.list_sessions("alice", PageRequest())).items)
    finally:
        await gateway_store.close()
        await agent_store.close()


def test_retention_from_the_command_line_and_in_the_background(empty_database: str, tmp_path: Path) -> None:
    url = empty_database
    config = one_database_config(tmp_path, url)
    config.write_text(config.read_text() + RETENTION)
    for lineage in ("gateway", "agent"):
        migrate.upgrade(lineage, url)
    asyncio.run(_seed(url))
    command = [sys.executable, "-m", "app.cli", "--config", str(config), "purge", "--dry-run"]
    dry = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        "gateway (sessions kept 30 days): would delete 3 session(s), 1 tombstone(s) older than 30 days",
        "agent a (sessions kept 60 days): would delete 2 session(s)",
    ]
    assert asyncio.run(_sessions(url)) == (["recent", "old3", "old2", "old1"], 3)  # the dry run deleted nothing

    server = Server(config, tmp_path).start().wait_ready()
    try:
        with server.client("alice") as alice:
            # The dry run deleted nothing: the old session still reads, until the server's own purge.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                listed = alice.get("/api/v1/sessions").json()["data"]
                if [s["id"] for s in listed] == ["recent"]:
                    break
                time.sleep(0.2)
            assert [s["id"] for s in alice.get("/api/v1/sessions").json()["data"]] == ["recent"]
            assert alice.get("/api/v1/sessions/old1/chat-tasks").status_code == 404
            agent_sessions = alice.get("/api/v1/agents/a/sessions").json()
            assert [s["id"] for s in agent_sessions["data"]] == ["kept-40"]
            assert alice.get("/api/v1/agents/a/sessions/agent-old1").status_code == 404
    finally:
        server.stop()
    assert "retention purge" in server.output()
    again = subprocess.run(command[:-1], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert again.stdout.splitlines() == [
        "gateway (sessions kept 30 days): deleted 0 session(s), 0 tombstone(s) older than 30 days",
        "agent a (sessions kept 60 days): deleted 0 session(s)",
    ]
