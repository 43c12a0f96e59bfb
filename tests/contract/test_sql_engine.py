"""The engine factory: URLs as users write them, and connections that survive the database's restarts."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from infrastructure.sql import engine as engine_module
from infrastructure.sql.engine import async_url, create_engine, redact, sync_url


@pytest.mark.parametrize(
    ("url", "runtime", "migrations"),
    [
        ("sqlite:///data/x.db", "sqlite+aiosqlite:///data/x.db", "sqlite+pysqlite:///data/x.db"),
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:***@h:5432/db", "postgresql+psycopg://u:***@h:5432/db"),
        (
            "mysql+pymysql://u:p@h:3306/db",
            "mysql+aiomysql://u:***@h:3306/db?charset=utf8mb4",
            "mysql+pymysql://u:***@h:3306/db?charset=utf8mb4",
        ),
    ],
)
def test_the_seeds_urls_map_to_async_and_sync_drivers(url: str, runtime: str, migrations: str) -> None:
    assert redact(async_url(url)) == runtime
    assert redact(sync_url(url)) == migrations


def test_redact_hides_the_password() -> None:
    assert redact("postgresql://user:s3cret@host/db") == "postgresql://user:***@host/db"


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
async def test_a_connection_killed_while_idle_is_replaced_unseen(
    request: pytest.FixtureRequest, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.05)
    url = request.getfixturevalue(f"{backend}_database")
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            pid_query = "SELECT pg_backend_pid()" if backend == "postgres" else "SELECT CONNECTION_ID()"
            victim = (await connection.execute(text(pid_query))).scalar()
        killer = create_engine(url, pool_size=1, max_overflow=0)
        async with killer.connect() as connection:
            kill = "SELECT pg_terminate_backend(:pid)" if backend == "postgres" else "KILL :pid"
            await connection.execute(text(kill), {"pid": victim})
        await killer.dispose()
        await asyncio.sleep(0.2)
        async with engine.connect() as connection:  # the pool's only connection is dead: replaced on checkout
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
            assert (await connection.execute(text(pid_query))).scalar() != victim
    finally:
        await engine.dispose()


async def test_mysql_driver_stack_takes_bytes_parameters(mysql_database: str) -> None:
    # aiomysql 0.3.2 with PyMySQL 1.2 fails on any bytes parameter ("'str' object is not callable"):
    # constraints.txt pins PyMySQL below 1.2 and this test catches a regression.
    engine = create_engine(mysql_database)
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT :b"), {"b": b"\x00\x01binary"})).scalar() == b"\x00\x01binary"
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
async def test_a_hot_read_on_a_connection_killed_under_it_is_a_503_and_the_next_one_works(
    request: pytest.FixtureRequest, backend: str
) -> None:
    # The hot reads talk to the driver beneath SQLAlchemy (or to the driver pool): a dropped
    # connection must still surface as the domain's StoreUnavailable, and must not be handed out again.
    from domain.errors import StoreUnavailable
    from domain.gateway.service import GatewayService, TaskInput
    from infrastructure.sql.gateway.store import SqlGatewayStore
    from tests.conftest import gateway_url

    store = SqlGatewayStore.at(gateway_url(request, backend))
    gateway = GatewayService(store)
    killer = create_engine(gateway_url(request, backend), isolation_level="AUTOCOMMIT")
    try:
        await gateway.save_task("alice", "hot", TaskInput("t1", '[{"type": "agent", "text": "hi"}]'))
        assert len((await gateway.list_tasks("alice", "hot")).items) == 1
        async with killer.connect() as admin:
            if backend == "postgres":
                mine = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                for (pid,) in (await admin.execute(text(mine))).all():
                    await admin.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))
            else:
                mine = "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()"
                for (pid,) in (await admin.execute(text(mine))).all():
                    await admin.execute(text(f"KILL {int(pid)}"))
        await asyncio.sleep(0.2)
        with pytest.raises(StoreUnavailable):
            await gateway.list_tasks("alice", "hot")
        assert [t.id for t in (await gateway.list_tasks("alice", "hot")).items] == ["t1"]
    finally:
        await killer.dispose()
        await store.engine.dispose()  # its connections were killed too
        async with store.engine.begin() as connection:
            for table in ("feedback", "chat_tasks", "sessions"):
                await connection.execute(text(f"DELETE FROM {table}"))
        await store.close()
