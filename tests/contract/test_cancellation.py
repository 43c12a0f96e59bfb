"""A unit of work cancelled halfway (a client gone, a shutdown) leaves its backend as it found it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from domain.gateway.service import GatewayService, TaskInput
from infrastructure.sql import migrate
from infrastructure.sql.backend import open_backend
from infrastructure.sql.connection import Query
from infrastructure.sql.gateway.store import SqlGatewayStore
from infrastructure.sql.urls import sqlite_path
from tests.conftest import GATEWAY_TABLES, empty_tables, gateway_url

RENAME = Query("UPDATE sessions SET name = :name WHERE id = 'held'")
NAME = Query("SELECT name FROM sessions WHERE id = 'held'")


@contextmanager
def held_by_another_client(url: str, backend: str) -> Iterator[Callable[[], None]]:
    """Another client holds the session's row (SQLite: the whole file) until `release()` is called."""
    if backend == "sqlite":
        other = sqlite3.connect(sqlite_path(url), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield lambda: other.execute("COMMIT") and None
        finally:
            other.close()
        return
    engine = migrate.migration_engine(url)
    connection = engine.connect()
    transaction = connection.begin()
    connection.execute(text("SELECT name FROM sessions WHERE id = 'held' FOR UPDATE"))
    try:
        yield transaction.commit
    finally:
        connection.close()
        engine.dispose()


@pytest.mark.parametrize("whole", [False, True], ids=["by-statement", "whole"])
@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
async def test_a_write_cancelled_while_it_waits_on_the_database_leaves_the_store_writable(
    request: pytest.FixtureRequest, backend: str, whole: bool
) -> None:
    url = gateway_url(request, backend)
    store = SqlGatewayStore.at(url)
    await GatewayService(store).save_task(
        "alice", "held", TaskInput("t1", '[{"type": "agent", "text": "hi"}]'), may_create=True
    )
    await store.close()
    database = open_backend(url)

    async def rename(name: str) -> None:
        if whole:  # as the hot writes run (SQLite: the whole rule in its writer thread)
            await database.run_whole(lambda transaction: transaction.run(RENAME, {"name": name}))
            return
        transaction = await database.begin(read_only=False)
        try:
            await transaction.run(RENAME, {"name": name})
            await transaction.commit()
        finally:
            await transaction.close()

    try:
        with held_by_another_client(url, backend) as release:
            cancelled = asyncio.create_task(rename("cancelled"))
            await asyncio.sleep(0.3)  # waiting on the other client's lock, in the database or its driver
            cancelled.cancel()
            release()  # SQLite's writer thread cannot be stopped: the cancelled task waits for its BEGIN
            with pytest.raises(asyncio.CancelledError):
                await cancelled
        await asyncio.wait_for(rename("next"), 10)
        reads = await database.begin(read_only=True)
        try:
            assert await reads.scalar(NAME) == "next"
        finally:
            await reads.close()
    finally:
        await asyncio.wait_for(database.close(), 10)
        empty_tables(url, *GATEWAY_TABLES)
