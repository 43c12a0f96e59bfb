"""Concurrent writers through one store: nothing lost, no spurious errors."""

from __future__ import annotations

import asyncio
import json

from domain.gateway.service import GatewayService, TaskInput
from domain.paging import PageRequest
from domain.ports import GatewayStore

BUBBLES = json.dumps([{"type": "agent", "text": "hi"}])


async def test_concurrent_task_saves_to_one_session_all_land(gateway_store: GatewayStore) -> None:
    gateway = GatewayService(gateway_store)
    await gateway.create_session("alice", session_id="busy")
    results = await asyncio.gather(
        *(gateway.save_task("alice", "busy", TaskInput(f"t{i:02}", BUBBLES)) for i in range(24)),
        return_exceptions=True,
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    history = await gateway.list_tasks("alice", "busy")
    assert sorted(t.id for t in history.items) == [f"t{i:02}" for i in range(24)]


async def test_concurrent_first_writes_to_new_sessions_all_land(gateway_store: GatewayStore) -> None:
    # A locking read of a missing row takes a gap lock on MySQL's default isolation: side-by-side
    # creations then deadlock. The engine runs READ COMMITTED so they do not.
    gateway = GatewayService(gateway_store)
    results = await asyncio.gather(
        *(gateway.save_task("alice", f"new-{i:02}", TaskInput(f"t{i:02}", BUBBLES)) for i in range(24)),
        return_exceptions=True,
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    listed = await gateway.list_sessions("alice", PageRequest(size=100))
    assert listed.total == 24


async def test_two_sqlite_engines_on_one_file_write_without_busy_errors(tmp_path: object) -> None:
    # Two engines stand for two processes sharing a SQLite file (a dev server and a CLI, say).
    from pathlib import Path

    from infrastructure.sql import migrate
    from infrastructure.sql.engine import create_engine
    from infrastructure.sql.gateway.store import SqlGatewayStore

    url = f"sqlite:///{Path(str(tmp_path)) / 'shared.db'}"
    migrate.upgrade("gateway", url)
    stores = [SqlGatewayStore(create_engine(url)), SqlGatewayStore(create_engine(url))]
    try:
        services = [GatewayService(store) for store in stores]
        await services[0].create_session("alice", session_id="busy")
        results = await asyncio.gather(
            *(services[i % 2].save_task("alice", "busy", TaskInput(f"t{i:02}", BUBBLES)) for i in range(40)),
            return_exceptions=True,
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert len((await services[1].list_tasks("alice", "busy")).items) == 40
    finally:
        for store in stores:
            await store.close()
