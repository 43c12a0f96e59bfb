"""Concurrent writers through one store: nothing lost, no spurious errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from sqlalchemy import insert

from domain.errors import Conflict, NotFound
from domain.gateway.model import Session
from domain.gateway.service import GatewayService, TaskInput
from domain.paging import PageRequest
from domain.ports import GatewayStore
from infrastructure.sql import migrate
from infrastructure.sql.gateway.store import SqlGatewayStore
from infrastructure.sql.gateway.tables import chat_tasks
from tests.conftest import GATEWAY_TABLES, empty_tables, gateway_url

BUBBLES = json.dumps([{"type": "agent", "text": "hi"}])


async def test_concurrent_task_saves_to_one_session_all_land(gateway_store: GatewayStore) -> None:
    gateway = GatewayService(gateway_store)
    await gateway.create_session("alice", session_id="busy")
    results = await asyncio.gather(
        *(gateway.save_task("alice", "busy", TaskInput(f"t{i:02}", BUBBLES), may_create=True) for i in range(24)),
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
        *(
            gateway.save_task("alice", f"new-{i:02}", TaskInput(f"t{i:02}", BUBBLES), may_create=True)
            for i in range(24)
        ),
        return_exceptions=True,
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    listed = await gateway.list_sessions("alice", PageRequest(size=100))
    assert listed.total == 24


async def test_two_sqlite_stores_on_one_file_write_without_busy_errors(sqlite_file: Callable[[str], str]) -> None:
    # Two stores stand for two processes sharing a SQLite file (a dev server and a CLI, say).
    url = sqlite_file("gateway")
    stores = [SqlGatewayStore.at(url), SqlGatewayStore.at(url)]
    try:
        services = [GatewayService(store) for store in stores]
        await services[0].create_session("alice", session_id="busy")
        results = await asyncio.gather(
            *(
                services[i % 2].save_task("alice", "busy", TaskInput(f"t{i:02}", BUBBLES), may_create=True)
                for i in range(40)
            ),
            return_exceptions=True,
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert len((await services[1].list_tasks("alice", "busy")).items) == 40
    finally:
        for store in stores:
            await store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
async def test_a_save_racing_anothers_task_with_the_same_id_leaves_no_session_behind(
    request: pytest.FixtureRequest, backend: str
) -> None:
    url = gateway_url(request, backend)
    store = SqlGatewayStore.at(url)
    gateway = GatewayService(store)
    other_process = migrate.migration_engine(url)
    try:
        await gateway.create_session("bob", session_id="bobs")
        with other_process.connect() as bob:
            # Bob's save of task "clash" is in flight: its row is written, not yet committed.
            bob.execute(
                insert(chat_tasks).values(
                    id="clash",
                    session_id="bobs",
                    user_id="bob",
                    message_bubbles=BUBBLES,
                    created_time=1,
                    updated_time=1,
                )
            )
            alice = asyncio.create_task(
                gateway.save_task("alice", "alices", TaskInput("clash", BUBBLES), may_create=True)
            )
            await asyncio.sleep(0.5)
            assert not alice.done()  # waiting for bob's row
            bob.commit()
        with pytest.raises(Conflict):
            await alice
        with pytest.raises(NotFound):
            await gateway.get_session("alice", "alices")
        assert [t.user_id for t in (await gateway.list_tasks("bob", "bobs")).items] == ["bob"]
    finally:
        other_process.dispose()
        await store.close()
        empty_tables(url, *GATEWAY_TABLES)


async def test_sqlite_writers_of_one_process_queue_instead_of_timing_out(
    impatient_sqlite_file: Callable[[str], str],
) -> None:
    # SQLite lets one transaction write at a time and makes the others retry until its busy timeout.
    # Writers in one process take turns in the store instead, however long the one before them takes.
    store = SqlGatewayStore.at(impatient_sqlite_file("gateway"))
    gateway = GatewayService(store)
    try:
        async with store.unit_of_work() as slow:
            await slow.sessions.add(Session("held", "alice", None, None, None, 1, 1))
            waiting = asyncio.create_task(gateway.save_task("alice", "next", TaskInput("t1", BUBBLES), may_create=True))
            await asyncio.sleep(0.5)  # five busy timeouts
            assert not waiting.done()
            await slow.commit()
        assert (await waiting).created
        assert [s.id for s in (await gateway.list_sessions("alice", PageRequest(size=10))).items] == ["next", "held"]
    finally:
        await store.close()


async def test_sqlite_reads_see_what_another_process_committed_since(sqlite_file: Callable[[str], str]) -> None:
    # The store reads its hot pages on a connection of its own (a reader thread): it must hold no
    # snapshot between reads. A second store on the file stands for another process.
    url = sqlite_file("gateway")
    reader, writer = SqlGatewayStore.at(url), SqlGatewayStore.at(url)
    try:
        reading, writing = GatewayService(reader), GatewayService(writer)
        await writing.save_task("alice", "s1", TaskInput("t1", BUBBLES), may_create=True)
        assert [t.id for t in (await reading.list_tasks("alice", "s1")).items] == ["t1"]
        await writing.save_task("alice", "s1", TaskInput("t2", BUBBLES), may_create=True)
        await writing.save_task("alice", "s2", TaskInput("t3", BUBBLES), may_create=True)
        assert [t.id for t in (await reading.list_tasks("alice", "s1")).items] == ["t1", "t2"]
        listed = await reading.list_sessions("alice", PageRequest(size=10))
        assert (sorted(s.id for s in listed.items), listed.total) == (["s1", "s2"], 2)
    finally:
        await reader.close()
        await writer.close()
