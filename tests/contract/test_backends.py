"""The backends: URLs as users write them, and connections that survive the database's restarts."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from domain.errors import StoreUnavailable
from domain.gateway.service import GatewayService, TaskInput
from infrastructure.sql import driver_pool, migrate, mysql
from infrastructure.sql.backend import open_backend
from infrastructure.sql.connection import Query
from infrastructure.sql.gateway.store import SqlGatewayStore
from infrastructure.sql.postgres import PostgresBackend
from infrastructure.sql.urls import BadDatabaseURL, prepare_threshold, redact, sync_url
from tests.conftest import GATEWAY_TABLES, empty_tables, gateway_url

PID = {"postgres": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}


@pytest.mark.parametrize(
    ("url", "migrations"),
    [
        ("sqlite:///data/x.db", "sqlite+pysqlite:///data/x.db"),
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:***@h:5432/db"),
        ("mysql+pymysql://u:p@h:3306/db", "mysql+pymysql://u:***@h:3306/db?charset=utf8mb4"),
        ("mariadb://u:p@h:3306/db", "mysql+pymysql://u:***@h:3306/db?charset=utf8mb4"),
    ],
)
def test_the_seeds_urls_map_to_the_sync_drivers_of_migrations(url: str, migrations: str) -> None:
    assert redact(sync_url(url)) == migrations


def test_redact_hides_the_password() -> None:
    assert redact("postgresql://user:s3cret@host/db") == "postgresql://user:***@host/db"


def kill_other_connections(url: str, backend: str) -> None:
    engine = migrate.migration_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            if backend == "postgres":
                mine = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                for (pid,) in admin.execute(text(mine)).all():
                    admin.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))
            else:
                mine = "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()"
                for (pid,) in admin.execute(text(mine)).all():
                    admin.execute(text(f"KILL {int(pid)}"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
async def test_a_connection_killed_while_idle_is_replaced_unseen(
    request: pytest.FixtureRequest, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(driver_pool, "PING_AFTER_IDLE_S", 0.05)
    url = gateway_url(request, backend)
    database = open_backend(url)
    try:
        reads = await database.begin(read_only=True)
        victim = await reads.scalar(Query(PID[backend]))
        await reads.close()
        kill_other_connections(url, backend)
        await asyncio.sleep(0.2)
        reads = await database.begin(read_only=True)
        try:  # the pool's idle connection is dead: replaced before the read sees it
            assert await reads.scalar(Query("SELECT 1")) == 1
            assert await reads.scalar(Query(PID[backend])) != victim
        finally:
            await reads.close()
    finally:
        await database.close()


async def test_mysql_driver_stack_takes_bytes_parameters(request: pytest.FixtureRequest) -> None:
    # aiomysql 0.3.2 with PyMySQL 1.2 fails on any bytes parameter ("'str' object is not callable"):
    # constraints.txt pins PyMySQL below 1.2 and this test catches a regression.
    database = open_backend(gateway_url(request, "mysql"))
    try:
        reads = await database.begin(read_only=True)
        try:
            assert await reads.scalar(Query("SELECT :b"), {"b": b"\x00\x01binary"}) == b"\x00\x01binary"
        finally:
            await reads.close()
    finally:
        await database.close()


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
async def test_a_read_on_a_connection_killed_under_it_is_a_503_and_the_next_one_works(
    request: pytest.FixtureRequest, backend: str
) -> None:
    # A connection dropped while a request was using it surfaces as the domain's StoreUnavailable,
    # and is not handed out again.
    url = gateway_url(request, backend)
    store = SqlGatewayStore.at(url)
    gateway = GatewayService(store)
    try:
        await gateway.save_task("alice", "hot", TaskInput("t1", '[{"type": "agent", "text": "hi"}]'), may_create=True)
        async with store.unit_of_work(read_only=True) as uow:
            assert await uow.tasks.list_for_owner("alice", "hot") is not None
            kill_other_connections(url, backend)
            await asyncio.sleep(0.2)
            with pytest.raises(StoreUnavailable):
                await uow.tasks.list_for_owner("alice", "hot")
        assert [t.id for t in (await gateway.list_tasks("alice", "hot")).items] == ["t1"]
    finally:
        await store.close()
        empty_tables(url, *GATEWAY_TABLES)


def test_prepare_threshold_is_sessions_stores_own_option_taken_out_of_the_url() -> None:
    url = "postgresql://u:p@h:6432/db?prepare_threshold=none&sslmode=disable"
    assert prepare_threshold(url) is None and prepare_threshold("postgresql://u@h/db?prepare_threshold=0") == 0
    assert prepare_threshold("postgresql://u@h/db") == 5  # psycopg's own default
    assert "prepare_threshold" not in redact(sync_url(url)) and "sslmode=disable" in redact(sync_url(url))
    with pytest.raises(BadDatabaseURL):
        prepare_threshold("postgresql://u@h/db?prepare_threshold=often")


async def test_behind_pgbouncer_connections_never_prepare(request: pytest.FixtureRequest) -> None:
    url = gateway_url(request, "postgres") + "?prepare_threshold=none"
    database = open_backend(url)
    try:
        assert isinstance(database, PostgresBackend)
        connection = await database.pool.acquire()
        try:
            assert connection.prepare_threshold is None
        finally:
            await database.pool.release(connection)
    finally:
        await database.close()


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
async def test_a_unit_of_work_that_gets_no_connection_in_time_is_unavailable_not_an_error(
    request: pytest.FixtureRequest, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pool is the budget (pool_size): past it a request waits, then answers 503 with Retry-After.
    monkeypatch.setattr(mysql, "POOL_TIMEOUT_S", 0.3)
    database = open_backend(gateway_url(request, backend), pool_size=1)
    if isinstance(database, PostgresBackend):
        database.pool._timeout_s = 0.3
    holder = await database.begin(read_only=True)
    try:
        await holder.scalar(Query("SELECT 1"))  # holds the pool's one connection
        waiting = await database.begin(read_only=True)
        try:
            with pytest.raises(StoreUnavailable):
                await waiting.scalar(Query("SELECT 1"))
        finally:
            await waiting.close()
    finally:
        await holder.close()
        await database.close()
