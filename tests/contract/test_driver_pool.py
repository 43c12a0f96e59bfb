"""The PostgreSQL driver pool (hot reads and one-statement writes) against a real server: it hands out
only connections that work, waits a bounded time when all are taken, and gets past a lost server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import psycopg
import pytest

from domain.errors import StoreUnavailable
from infrastructure.sql import driver_pool
from infrastructure.sql.driver_pool import DriverPool
from infrastructure.sql.postgres import translate
from tests.conftest import gateway_url


@pytest.fixture
async def url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    yield gateway_url(request, "postgres")


async def backend_pid(pool: DriverPool) -> int:
    async with pool.connection() as connection:
        return connection.info.backend_pid


async def test_connections_are_reused_in_autocommit_with_the_statement_timeout(url: str) -> None:
    pool = DriverPool(url, statement_timeout_ms=1234)
    try:
        async with pool.connection() as connection:
            assert connection.autocommit
            row = await (await connection.execute("SHOW statement_timeout")).fetchone()
            assert row is not None and row[0] == "1234ms"
        assert await backend_pid(pool) == await backend_pid(pool)
    finally:
        await pool.close()


async def test_a_connection_given_back_inside_a_transaction_is_not_handed_out_again(url: str) -> None:
    pool = DriverPool(url)
    try:
        async with pool.connection() as connection:
            await connection.execute("BEGIN")
            await connection.execute("CREATE TEMPORARY TABLE left_open (x int)")
            pid = connection.info.backend_pid
        assert await backend_pid(pool) != pid
    finally:
        await pool.close()


async def test_when_every_connection_is_taken_a_caller_waits_then_gets_a_503(url: str) -> None:
    pool = DriverPool(url, max_size=2, timeout_s=0.3)
    try:
        async with pool.connection(), pool.connection():
            with pytest.raises(TimeoutError) as waited:
                await pool.acquire()
            assert isinstance(translate(waited.value), StoreUnavailable)
        async with pool.connection() as connection:  # given back: usable again
            await connection.execute("SELECT 1")
    finally:
        await pool.close()


async def test_connections_the_server_dropped_are_replaced_not_handed_out(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(driver_pool, "PING_AFTER_IDLE_S", 0.0)  # every idle connection is pinged
    pool = DriverPool(url)
    try:
        async with pool.connection() as first, pool.connection() as second:
            dropped = {first.info.backend_pid, second.info.backend_pid}
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
            for pid in dropped:
                await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await asyncio.sleep(0.2)
        async with pool.connection() as connection:
            await connection.execute("SELECT 1")
            assert connection.info.backend_pid not in dropped
    finally:
        await pool.close()


async def test_after_a_connection_breaks_the_idle_ones_are_dropped_too(url: str) -> None:
    pool = DriverPool(url)
    try:
        async with pool.connection() as first, pool.connection() as second, pool.connection() as third:
            pids = {c.info.backend_pid for c in (first, second, third)}
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
            for pid in pids:
                await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await asyncio.sleep(0.2)
        with pytest.raises(psycopg.OperationalError):  # a recently used one is not pinged: it fails once
            async with pool.connection() as connection:
                await connection.execute("SELECT 1")
        async with pool.connection() as connection:  # and the pool knows the others are gone as well
            await connection.execute("SELECT 1")
            assert connection.info.backend_pid not in pids
    finally:
        await pool.close()


async def alive(url: str, pids: set[int]) -> set[int]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        rows = await (
            await admin.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (list(pids),))
        ).fetchall()
    return {row[0] for row in rows}


async def test_connections_stay_open_while_used_and_close_after_idling(url: str) -> None:
    pool = DriverPool(url, idle_timeout_s=0.5)
    try:
        async with pool.connection() as first, pool.connection() as second, pool.connection() as third:
            pids = {c.info.backend_pid for c in (first, second, third)}
        # Given back, all three are kept: the next burst reuses them instead of opening new ones.
        async with pool.connection() as first, pool.connection() as second, pool.connection() as third:
            assert {c.info.backend_pid for c in (first, second, third)} == pids
        assert await alive(url, pids) == pids
        await asyncio.sleep(0.7)
        async with pool.connection() as last:
            kept = last.info.backend_pid
        await asyncio.sleep(0.1)
        assert await alive(url, pids) == {kept}  # the two the load no longer needed are closed
    finally:
        await pool.close()


async def test_a_query_cancelled_midway_does_not_hold_up_the_next_caller(url: str) -> None:
    # psycopg cancels the statement on the server and drains the connection, or the pool drops it:
    # either way the next caller gets a prompt, right answer, not the rest of someone else's query.
    pool = DriverPool(url, max_size=1)
    try:

        async def slow() -> None:
            async with pool.connection() as connection:
                await connection.execute("SELECT pg_sleep(5)")

        task = asyncio.create_task(slow())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        started = time.monotonic()
        async with pool.connection() as connection:
            row = await (await connection.execute("SELECT 42")).fetchone()
        assert row == (42,)
        assert time.monotonic() - started < 2
    finally:
        await pool.close()
