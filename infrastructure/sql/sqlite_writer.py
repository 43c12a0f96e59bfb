"""Writes on a SQLite file done whole in one writer thread, on the sqlite3 driver.

Through aiosqlite every statement is a hop to its thread and back, and a write is five to seven of
them, each waiting for the event loop while the write lock is held; the hops cost more than
SQLite's own work and stretch the time other writers wait. Here a write (BEGIN IMMEDIATE, its
statements, COMMIT) is one hop, with SQL prepared once by the sqlite3 driver's statement cache.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine

from infrastructure.sql.write_turn import WriteTurn

T = TypeVar("T")


class SqliteWriter:
    """One thread that does the store's one-hop writes: SQLite admits one writer at a time anyway.
    They take the store's write turn as appends do, so they queue with its write transactions
    instead of sleeping on SQLite's busy timeout; other processes still take turns through it."""

    def __init__(self, engine: Engine, turn: WriteTurn) -> None:
        """`engine`: the store's sync engine of the file (create_sqlite_sync_engine), shared with its reader."""
        self.engine = engine
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._turn = turn

    async def run(self, write: Callable[..., T], *args: Any) -> T:
        """`write(db, *args)` in the writer thread, in a transaction it commits or rolls back itself."""
        await self._turn.begin_append()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, write, args)
        finally:
            await self._turn.end_append()

    def _run(self, write: Callable[..., T], args: tuple[Any, ...]) -> T:
        pooled = self.engine.raw_connection()
        try:
            db: sqlite3.Connection = pooled.driver_connection  # type: ignore[assignment]
            db.execute("BEGIN IMMEDIATE")
            try:
                result = write(db, *args)
                if db.in_transaction:
                    db.execute("COMMIT")
                return result
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        finally:
            pooled.close()

    def close(self) -> None:
        self._thread.shutdown(wait=True)
