"""Hot reads on a SQLite file in one thread of their own, on the sqlite3 driver.

Through aiosqlite a read is several hops to its thread and back (cursor, execute, fetch) beside
SQLAlchemy's own work, about 1 ms of CPU for a page of history; here it is one hop, with the SQL
prepared once by the driver's statement cache. The connection reads in autocommit, so under WAL
it sees every committed write, from this process or another.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine

from infrastructure.sql.driver import row_type


class SqliteReader:
    def __init__(self, engine: Engine) -> None:
        """`engine`: the store's sync engine of the file (create_sqlite_sync_engine), shared with its writer."""
        self._engine = engine
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-reader")
        self._pooled: Any = None  # opened in the reader thread, used only there

    async def all(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._all, sql, params)

    def _all(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        if self._pooled is None:
            self._pooled = self._engine.raw_connection()
        db: sqlite3.Connection = self._pooled.driver_connection
        cursor = db.execute(sql, params)
        try:
            row = row_type(tuple(column[0] for column in cursor.description))
            return [row._make(values) for values in cursor.fetchall()]
        finally:
            cursor.close()

    def _close(self) -> None:
        if self._pooled is not None:
            self._pooled.close()
            self._pooled = None

    def close(self) -> None:
        self._thread.submit(self._close).result()
        self._thread.shutdown(wait=True)
