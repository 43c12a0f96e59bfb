"""`session-store db copy` as an operator runs it: the development SQLite into a new PostgreSQL
(100,000 chat tasks, cut off halfway and run again), then a server on the target serves what the
server on the source served; a target holding rows is refused, or merged into without overwriting."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import insert

from domain.agent.model import Behavior
from domain.agent.service import AgentService, EventInput
from domain.gateway.model import ChatTask
from domain.gateway.service import GatewayService, TaskInput
from domain.paging import PageRequest
from domain.platform.model import DeploymentStatus
from domain.platform.service import PlatformService
from infrastructure.sql import migrate
from infrastructure.sql.agent.store import SqlAgentStore
from infrastructure.sql.copy import copy_lineage
from infrastructure.sql.gateway.store import SqlGatewayStore
from infrastructure.sql.gateway.tables import chat_tasks, deleted_sessions, feedback, sessions
from infrastructure.sql.platform.store import SqlPlatformStore
from tests.databases import fresh_database
from tests.e2e.server import Server, one_database_config

T0 = 1_700_000_000_000
BUBBLES = json.dumps([{"type": "agent", "text": "hello"}])
KEY = "copy-key-" + "k" * 32


def copy(source: str, target: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "app.cli", "db", "copy", "--from", source, "--to", target, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def seed_100000_tasks(url: str) -> None:
    """1,000 sessions of 100 tasks of 10 users (alice's first), feedback and a tombstone, as the
    server stores them; an agent session with events."""
    for lineage in ("gateway", "agent"):
        migrate.upgrade(lineage, url)
    engine = migrate.migration_engine(url)
    with engine.begin() as db:
        users = [f"user-{n}" if n else "alice" for n in range(10)]
        db.execute(
            insert(sessions),
            [
                {"id": f"s{n}", "user_id": users[n % 10], "name": f"Chat {n}", "search_name": f"chat {n}"}
                | {"created_time": T0 + n, "updated_time": T0 + n + 1000}
                for n in range(1000)
            ],
        )
        for first in range(0, 100_000, 10_000):
            rows = []
            for n in range(first, first + 10_000):
                bubbles = json.dumps([{"type": "agent", "text": f"Answer {n}: around 22 degrees"}])
                task = ChatTask(f"t{n}", f"s{n // 100}", users[n // 100 % 10], f"Question {n}", bubbles, None, T0, T0)
                task_row = {"created_time": T0 + n, "updated_time": T0 + n, "message_bubbles": bubbles}
                rows.append(
                    task_row
                    | {"id": task.id, "session_id": task.session_id, "user_id": task.user_id}
                    | {"user_message": task.user_message, "task_metadata": '{"agent": "weather"}'}
                    | {"search_message": task.search_message(), "search_bubbles": task.search_bubbles()}
                )
            db.execute(insert(chat_tasks), rows)
        db.execute(
            insert(feedback),
            [
                {"id": f"f{n}", "session_id": "s0", "task_id": f"t{n}", "user_id": "alice", "rating": "up"}
                | {"comment": "ñ 😀 it's fine", "created_time": T0 + n}
                for n in range(10)
            ],
        )
        db.execute(insert(deleted_sessions).values(id="gone", user_id="alice", deleted_time=T0))
    engine.dispose()
    asyncio.run(_agent_events(url))


async def _agent_events(url: str) -> None:
    store = SqlAgentStore.at(url, "a")
    try:
        agent = AgentService("a", store, Behavior.PERSISTENT)
        await agent.create_session("alice", "trip", {"city": "Lisbon", "user:units": "metric"})
        for n in range(20):
            await agent.append_event("alice", "trip", EventInput(f"inv-{n}", "weather", {"content": f"event {n}"}))
    finally:
        await store.close()


def what_alice_sees(server: Server) -> dict[str, Any]:
    with server.client("alice") as alice:
        listed = alice.get("/api/v1/sessions", params={"pageSize": 100}).json()
        return {
            "sessions": listed,
            "history": alice.get("/api/v1/sessions/s0/chat-tasks").json(),
            "last history": alice.get("/api/v1/sessions/s990/chat-tasks").json(),
            "feedback": alice.get("/api/v1/feedback").json(),
            "agent": alice.get("/api/v1/agents/a/sessions/trip").json(),
        }


def found_by_search(server: Server, query: str) -> list[str]:
    """Each database ranks and cuts snippets its own way: what both must agree on is which tasks."""
    with server.client("alice") as alice:
        hits = alice.get("/api/v1/search/messages", params={"query": query}).json()["data"]
        return [hit["taskId"] for hit in hits]


def copied_so_far(url: str, table: str) -> int:
    try:
        with psycopg.connect(url, autocommit=True) as db:
            found = db.execute("SELECT copied FROM session_store_copy WHERE table_name = %s", (table,)).fetchone()
            return int(found[0]) if found else 0
    except psycopg.errors.UndefinedTable:
        return 0


@pytest.fixture
def postgres() -> Iterator[str]:
    with fresh_database("postgres") as url:
        yield url


def test_a_sqlite_store_of_100000_tasks_moves_to_postgresql_across_an_interruption(
    tmp_path: Path, postgres: str
) -> None:
    source = f"sqlite:///{tmp_path / 'dev.db'}"
    seed_100000_tasks(source)

    # Cut off while the chat tasks are being copied, as a closed laptop or a killed job would.
    command = [sys.executable, "-m", "app.cli", "db", "copy", "--from", source, "--to", postgres]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while copied_so_far(postgres, "chat_tasks") < 20_000 and time.monotonic() < deadline:
        assert first.poll() is None, first.communicate()
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert 20_000 <= copied_so_far(postgres, "chat_tasks") < 100_000

    again = copy(source, postgres)
    assert again.returncode == 0, again.stdout + again.stderr
    report = again.stdout
    assert "copying the gateway store" in report and "copying the agent store" in report
    assert "(an interrupted copy resumed where it stopped)" in report
    assert "  chat_tasks: 100,000 copied; 100,000 rows on both sides, checksums equal" in report
    for table, rows in {"sessions": 1000, "feedback": 10, "deleted_sessions": 1, "agent_events": 20}.items():
        assert f"  {table}: " in report and f"{rows:,} rows on both sides, checksums equal" in report
    assert "the gateway store is copied and verified" in report and "the agent store is copied and verified" in report
    assert copied_so_far(postgres, "chat_tasks") == 0  # the copy's bookkeeping is gone with the copy done

    seen = []
    for name, url in (("source", source), ("target", postgres)):
        directory = tmp_path / name
        directory.mkdir()
        server = Server(one_database_config(directory, url), directory).start().wait_ready()
        try:
            seen.append(what_alice_sees(server))
            assert found_by_search(server, "Question 99050") == ["t99050"]
        finally:
            server.stop()
    on_source, on_target = seen
    assert len(on_target["sessions"]["data"]) == 100 and len(on_target["history"]["tasks"]) == 100
    assert len(on_target["feedback"]) == 10
    assert on_target["agent"]["state"]["city"] == "Lisbon" and len(on_target["agent"]["events"]) == 20
    assert on_target == on_source


async def _alice_and_bob(url: str, owner_of_clash: str) -> None:
    store = SqlGatewayStore.at(url)
    try:
        gateway = GatewayService(store)
        await gateway.create_session(owner_of_clash, session_id="clash", name=f"{owner_of_clash}'s")
        await gateway.save_task(owner_of_clash, "clash", TaskInput(f"{owner_of_clash}-t", BUBBLES, "mine"))
        await gateway.create_session(owner_of_clash, session_id=f"{owner_of_clash}-own")
    finally:
        await store.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mysql"])
def test_a_target_with_rows_is_refused_or_merged_into_without_overwriting(tmp_path: Path, kind: str) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    migrate.upgrade("gateway", source)
    asyncio.run(_alice_and_bob(source, "alice"))
    with fresh_database(kind) if kind != "sqlite" else _sqlite(tmp_path) as target:
        migrate.upgrade("gateway", target)
        asyncio.run(_alice_and_bob(target, "mallory"))

        refused = copy(source, target, "--lineage", "gateway")
        assert refused.returncode == 1
        assert "already holds rows of the gateway store" in refused.stderr and "--merge" in refused.stderr

        merged = copy(source, target, "--lineage", "gateway", "--merge")
        assert merged.returncode == 1, merged.stdout  # not everything of the source is in the target
        assert "sessions: 1 copied" in merged.stdout and "clash (the target's differs)" in merged.stdout
        assert "alice-t (held back: a row it belongs to differs)" in merged.stdout
        assert "does NOT match its source" in merged.stdout

        directory = tmp_path / "server"
        directory.mkdir()
        server = Server(one_database_config(directory, target), directory).start().wait_ready()
        try:
            with server.client("mallory") as mallory, server.client("alice") as alice:
                clash = mallory.get("/api/v1/sessions/clash/chat-tasks").json()["tasks"]
                assert [task["taskId"] for task in clash] == ["mallory-t"]  # never overwritten
                assert alice.get("/api/v1/sessions/clash").status_code == 404
                assert [s["id"] for s in alice.get("/api/v1/sessions").json()["data"]] == ["alice-own"]
        finally:
            server.stop()


def _sqlite(tmp_path: Path) -> Any:
    from contextlib import nullcontext

    return nullcontext(f"sqlite:///{tmp_path / 'target.db'}")


def test_copy_says_what_it_cannot_do(tmp_path: Path) -> None:
    missing = copy(f"sqlite:///{tmp_path / 'missing.db'}", f"sqlite:///{tmp_path / 'other.db'}")
    assert missing.returncode == 1 and "no SQLite database at" in missing.stderr
    assert not (tmp_path / "missing.db").exists()
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    sqlite3.connect(tmp_path / "empty.db").close()
    nothing = copy(empty, f"sqlite:///{tmp_path / 'other.db'}")
    assert nothing.returncode == 1 and "holds no Session Store tables" in nothing.stderr
    same = copy(empty, empty)
    assert same.returncode == 1 and "the same database" in same.stderr
    bad = copy("nonsense://x", empty)
    assert bad.returncode == 1 and "unsupported database 'nonsense'" in bad.stderr
    zero = copy(empty, f"sqlite:///{tmp_path / 'other.db'}", "--batch", "0")
    assert zero.returncode == 2 and "at least 1" in zero.stderr
    secret = copy(empty, "postgresql://u:hunter2@127.0.0.1:9/x", "--lineage", "gateway")
    assert secret.returncode == 1 and "hunter2" not in secret.stdout + secret.stderr
    assert "Traceback" not in missing.stderr + nothing.stderr + same.stderr + bad.stderr + secret.stderr


async def _what_alice_has(url: str) -> tuple[Any, ...]:
    gateway_store, agent_store = SqlGatewayStore.at(url), SqlAgentStore.at(url, "a")
    try:
        gateway, agent = GatewayService(gateway_store), AgentService("a", agent_store, Behavior.PERSISTENT)
        sessions = (await gateway.list_sessions("alice", PageRequest())).items
        tasks = [(await gateway.list_tasks("alice", s.id)).items for s in sessions]
        trip = await agent.get_session("alice", "trip")
        return sessions, tasks, trip.session, trip.state, trip.events
    finally:
        await gateway_store.close()
        await agent_store.close()


async def _fill(url: str) -> None:
    store = SqlGatewayStore.at(url)
    try:
        gateway = GatewayService(store)
        for n in range(3):
            await gateway.create_session("alice", session_id=f"s{n}", name=f"Große Straße {n} 😀")
            await gateway.save_task("alice", f"s{n}", TaskInput(f"t{n}", BUBBLES, "How warm is Lisbon?"))
        await gateway.delete_session("alice", "s2")
    finally:
        await store.close()
    await _agent_events(url)


@pytest.mark.parametrize(("source_kind", "target_kind"), [("postgres", "mysql"), ("mysql", "sqlite")])
def test_a_store_moves_between_any_two_databases(tmp_path: Path, source_kind: str, target_kind: str) -> None:
    with ExitStack() as stack:
        urls = [
            f"sqlite:///{tmp_path / 'target.db'}" if kind == "sqlite" else stack.enter_context(fresh_database(kind))
            for kind in (source_kind, target_kind)
        ]
        source, target = urls
        for lineage in ("gateway", "agent"):
            migrate.upgrade(lineage, source)
        asyncio.run(_fill(source))
        copied = copy(source, target)
        assert copied.returncode == 0, copied.stdout + copied.stderr
        assert copied.stdout.count("checksums equal") == 9  # 4 gateway tables, 5 agent tables
        assert asyncio.run(_what_alice_has(target)) == asyncio.run(_what_alice_has(source))


@pytest.mark.parametrize("target_kind", ["postgres", "mysql"])
def test_large_tasks_are_copied_a_few_at_a_time(tmp_path: Path, target_kind: str) -> None:
    """40 tasks of 4 MB (160 MB): a batch holds about 16 MB of them, not the 500 rows it may."""
    source = f"sqlite:///{tmp_path / 'large.db'}"
    migrate.upgrade("gateway", source)
    engine = migrate.migration_engine(source)
    with engine.begin() as db:
        db.execute(insert(sessions).values(id="big", user_id="alice", created_time=T0, updated_time=T0))
        for n in range(40):
            bubbles = json.dumps([{"type": "agent", "text": f"{n:02}" + "w" * (4 * 1024 * 1024)}])
            task = {"id": f"t{n:02}", "session_id": "big", "user_id": "alice", "message_bubbles": bubbles}
            db.execute(insert(chat_tasks).values(task | {"created_time": T0 + n, "updated_time": T0 + n}))
    engine.dispose()
    with fresh_database(target_kind) as target:
        tracemalloc.start()
        try:
            outcome = copy_lineage("gateway", source, target)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert outcome.verified and [t.target_rows for t in outcome.tables if t.name == "chat_tasks"] == [40]
        assert peak < 80 * 1024 * 1024, f"{peak / 2**20:.0f} MB held at once to copy 160 MB"


async def _platform(url: str, fill: bool) -> tuple[Any, ...]:
    """With `fill`: an agent, a connector with a password and a deployment, sealed under KEY. What
    the registry reads back, in clear."""
    store = SqlPlatformStore.at(url, [KEY])
    platform = PlatformService(store)
    try:
        if fill:
            agent = await platform.create_agent("helper", "answers", {"model": "m"})
            await platform.create_connector("mail", "smtp", {"password": "hunter2"})
            await platform.create_deployment(agent.id, DeploymentStatus.RUNNING, {"replicas": 2})
        return (
            (await platform.list_agents(PageRequest())).items,
            (await platform.list_connectors(PageRequest())).items,
            (await platform.list_deployments(PageRequest())).items,
        )
    finally:
        await store.close()


def test_the_platform_registry_is_copied_sealed(tmp_path: Path, postgres: str) -> None:
    source = f"sqlite:///{tmp_path / 'platform.db'}"
    migrate.upgrade("platform", source)
    before = asyncio.run(_platform(source, fill=True))
    copied = copy(source, postgres, "--lineage", "platform")
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert copied.stdout.count("checksums equal") == 3
    with psycopg.connect(postgres) as db:
        assert "hunter2" not in str(db.execute("SELECT config FROM platform_connectors").fetchall())
    assert asyncio.run(_platform(postgres, fill=False)) == before  # the same key reads them


class Interrupted(Exception):
    pass


def test_a_merge_cut_off_resumes_as_a_merge(tmp_path: Path) -> None:
    source, target = (f"sqlite:///{tmp_path / name}" for name in ("source.db", "target.db"))
    migrate.upgrade("gateway", source)
    asyncio.run(_alice_and_bob(source, "alice"))
    engine = migrate.migration_engine(source)
    with engine.begin() as db:
        rows = [
            {"id": f"t{n}", "session_id": "alice-own", "user_id": "alice", "message_bubbles": BUBBLES}
            | {"created_time": n, "updated_time": n}
            for n in range(1200)
        ]
        db.execute(insert(chat_tasks), rows)
    engine.dispose()
    migrate.upgrade("gateway", target)
    asyncio.run(_alice_and_bob(target, "bob"))

    def cut_off(line: str) -> None:
        if line.startswith("gateway.chat_tasks"):
            raise Interrupted(line)

    with pytest.raises(Interrupted):
        copy_lineage("gateway", source, target, merge=True, batch=500, progress=cut_off)
    resumed = copy_lineage("gateway", source, target)  # run again as it was begun, --merge or not
    assert resumed.resumed and resumed.merge
    tables = {table.name: table for table in resumed.tables}
    # What the first run found is found again: bob's "clash" is not alice's, her task in it held back.
    assert tables["sessions"].differing == ["clash (the target's differs)"]
    assert tables["chat_tasks"].differing == ["alice-t (held back: a row it belongs to differs)"]
    assert not resumed.verified
    assert (tables["chat_tasks"].copied, tables["chat_tasks"].target_rows) == (1200, 1201)  # + bob's own
