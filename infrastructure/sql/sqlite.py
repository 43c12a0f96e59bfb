"""SQLite: every statement on the sqlite3 driver, in two threads of the store's own.

A reader thread runs reads in autocommit (under WAL they see every committed write, from this
process or another); a writer thread runs writes, as SQLite admits one writer at a time anyway.
A unit of work that writes holds the store's write turn and sends its statements to the writer
thread one by one, inside BEGIN IMMEDIATE (the write lock taken up front, so its reads and writes
cannot race another process). The hot writes go further: `run_whole` runs the domain's whole rule
in the writer thread in one hop, not one hop per statement (benchmarks/chat_loop.py,
benchmarks/agent_store.py).
"""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from infrastructure.sql import urls
from infrastructure.sql.backend import Backend
from infrastructure.sql.connection import (
    NO_PARAMS,
    Params,
    Query,
    Statement,
    Transaction,
    clash,
    compile_for,
    row_type,
    unreachable,
)
from infrastructure.sql.gateway.repositories import TASK_HIT
from infrastructure.sql.urls import DEFAULT_POOL_SIZE, async_url, sqlite_path, sync_url
from infrastructure.sql.write_turn import WriteTurn

DIALECT = SQLiteDialect_pysqlite(paramstyle="named")
T = TypeVar("T")
_SELECT_1 = Query("SELECT 1")


def translate(exc: BaseException) -> BaseException:
    """sqlite3's errors as the domain names them ("database is locked" after the busy timeout among
    them); anything else stays as it is."""
    if isinstance(exc, sqlite3.IntegrityError):
        return clash()
    if isinstance(exc, sqlite3.OperationalError):
        return unreachable()
    return exc


def _rows(db: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[Any]:
    cursor = db.execute(sql, params)
    try:
        if cursor.description is None:
            return []
        row = row_type(tuple(column[0] for column in cursor.description))
        return [row._make(values) for values in cursor.fetchall()]
    finally:
        cursor.close()


def _run(db: sqlite3.Connection, sql: str, params: dict[str, Any]) -> int:
    return db.execute(sql, params).rowcount


class _Thread:
    """One thread with one sqlite3 connection, opened in it and used only there."""

    def __init__(self, database: str, name: str) -> None:
        self._database = database
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._db: sqlite3.Connection | None = None

    def connection(self) -> sqlite3.Connection:
        """The thread's connection (call it only from the thread)."""
        if self._db is None:
            # isolation_level=None: the driver never begins a transaction by itself; we BEGIN IMMEDIATE.
            db = sqlite3.connect(self._database, timeout=urls.SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            _pragmas(db, None)
            self._db = db
        return self._db

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        running = asyncio.get_running_loop().run_in_executor(self._executor, function, *args)
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            # The thread runs the statement to its end whatever the caller does: wait for it, so that
            # whoever handles the cancellation (a ROLLBACK) finds the connection in a known state.
            await _settled(running)
            raise
        except Exception as exc:
            raise translate(exc) from exc

    def _execute(self, action: Callable[[sqlite3.Connection, str, dict[str, Any]], T], sql: str, params: Any) -> T:
        return action(self.connection(), sql, params)

    async def rows(self, statement: Statement, params: Params) -> list[Any]:
        return await self.call(self._execute, _rows, *compile_for(DIALECT, statement, params))

    async def run(self, statement: Statement, params: Params) -> int:
        return await self.call(self._execute, _run, *compile_for(DIALECT, statement, params))

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def close(self) -> None:
        self._executor.submit(self._close).result()
        self._executor.shutdown(wait=True)


class _Reads(Transaction):
    """A read-only unit of work: each statement in the reader thread, in autocommit."""

    def __init__(self, backend: SqliteBackend) -> None:
        self._backend = backend

    async def rows(self, statement: Statement, params: Params = NO_PARAMS) -> Sequence[Any]:
        return await self._backend.read(statement, params)

    async def run(self, statement: Statement, params: Params = NO_PARAMS) -> int:
        raise TypeError("a read-only unit of work does not write")

    async def commit(self) -> None:
        return None

    async def close(self) -> None:
        return None


class _Writes(Transaction):
    """A unit of work that writes: it holds the write turn; its statements go to the writer thread."""

    def __init__(self, writer: _Thread, turn: WriteTurn) -> None:
        self._writer = writer
        self._turn = turn
        self._begun = False

    async def _begin(self) -> None:
        if not self._begun:
            self._begun = True  # from here close() rolls back whatever BEGIN left, even if cancelled
            await self._writer.call(self._in_thread, "BEGIN IMMEDIATE")

    def _in_thread(self, sql: str) -> None:
        self._writer.connection().execute(sql)

    def _rollback_in_thread(self) -> None:
        db = self._writer.connection()
        if db.in_transaction:
            db.execute("ROLLBACK")

    async def rows(self, statement: Statement, params: Params = NO_PARAMS) -> Sequence[Any]:
        await self._begin()
        return await self._writer.rows(statement, params)

    async def run(self, statement: Statement, params: Params = NO_PARAMS) -> int:
        await self._begin()
        return await self._writer.run(statement, params)

    async def commit(self) -> None:
        if self._begun:
            await self._writer.call(self._in_thread, "COMMIT")
            self._begun = False

    async def close(self) -> None:
        try:
            if self._begun:
                await self._writer.call(self._rollback_in_thread)
        finally:
            self._begun = False
            await self._turn.end_transaction()


class _InWriterThread(Transaction):
    """The connection `run_whole` hands its work: statements run at once, in the writer thread that
    runs the work; the work never waits on the event loop."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    async def rows(self, statement: Statement, params: Params = NO_PARAMS) -> Sequence[Any]:
        try:
            return _rows(self._db, *compile_for(DIALECT, statement, params))
        except Exception as exc:
            raise translate(exc) from exc

    async def run(self, statement: Statement, params: Params = NO_PARAMS) -> int:
        try:
            return _run(self._db, *compile_for(DIALECT, statement, params))
        except Exception as exc:
            raise translate(exc) from exc

    async def commit(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


# Message search: the FTS5 table's rows holding every word (and the user's id), ranked by bm25 over
# the text's columns only (lower is better).
TASKS_MATCHING = Query(
    f"""
SELECT {TASK_HIT}
JOIN chat_tasks_fts AS f ON f.task_id = t.id
WHERE chat_tasks_fts MATCH :match AND t.user_id = :user
ORDER BY bm25(chat_tasks_fts, 0.0, 0.0, 1.0, 1.0), t.created_time DESC, t.id
LIMIT :limit OFFSET :offset
"""
)


class SqliteBackend(Backend):
    dialect = DIALECT

    def __init__(
        self, url: str, *, statement_timeout_ms: int | None = None, pool_size: int = DEFAULT_POOL_SIZE
    ) -> None:
        """`statement_timeout_ms` is not SQLite's (its writers wait out the busy timeout instead), nor
        `pool_size` (one reader and one writer connection)."""
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.turn = WriteTurn()
        self._writer = _Thread(str(path), "sqlite-writer")
        self._reader = _Thread(str(path), "sqlite-reader")

    async def read(self, statement: Statement, params: Params) -> list[Any]:
        return await self._reader.rows(statement, params)

    async def begin(self, *, read_only: bool) -> Transaction:
        if read_only:
            return _Reads(self)
        await self.turn.begin_transaction()
        return _Writes(self._writer, self.turn)

    async def run_whole(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        await self.turn.begin_one_hop()
        try:
            return await self._writer.call(self._drive, work)
        finally:
            await self.turn.end_one_hop()

    def _drive(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """Run `work` to its end in this (the writer) thread, inside one transaction."""
        db = self._writer.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            coroutine = work(_InWriterThread(db)).__await__()
            try:
                coroutine.send(None)
            except StopIteration as done:
                db.execute("COMMIT")
                result: T = done.value
                return result
            coroutine.close()
            raise RuntimeError("a unit of work run in SQLite's writer thread waited on the event loop")
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")

    def tasks_matching(self, user_id: str, terms: list[str]) -> tuple[Query, dict[str, Any]]:
        # FTS5's query language: every word a quoted string (so none is an operator), ANDed, in the
        # text's columns, and the user's id as a phrase of its user_id column, which narrows the
        # search inside the index (the user is checked exactly too).
        words = " AND ".join(_fts_string(term) for term in terms)
        match = f"user_id : {_fts_string(user_id)} AND {{search_message search_bubbles}} : ({words})"
        return TASKS_MATCHING, {"user": user_id, "match": match}

    async def ping(self) -> None:
        await self.read(_SELECT_1, NO_PARAMS)

    async def close(self) -> None:
        self._writer.close()
        self._reader.close()

    @staticmethod
    def sync_engine(url: str) -> Engine:
        _make_room(url)
        engine = create_engine(
            sync_url(url), hide_parameters=True, connect_args={"timeout": urls.SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _pragmas)
        return engine

    @classmethod
    def altering_engine(cls, url: str) -> Engine:
        """Foreign keys off while migrations run, as Alembic's batch mode needs on SQLite: it rebuilds a
        table by copying it and dropping the old one, and dropping a parent with the keys on would
        delete its children (ON DELETE CASCADE)."""
        engine = cls.sync_engine(url)
        event.listen(engine, "connect", _foreign_keys_off)
        return engine

    @staticmethod
    def async_engine(url: str, *, statement_timeout_ms: int | None, pool_size: int = DEFAULT_POOL_SIZE) -> AsyncEngine:
        _make_room(url)
        engine = create_async_engine(async_url(url), hide_parameters=True, pool_pre_ping=True)
        event.listen(engine.sync_engine, "connect", _pragmas)
        return engine

    @staticmethod
    @contextmanager
    def migration_lock(engine: Engine, url: str, name: str) -> Iterator[None]:
        with open(Path(f"{sqlite_path(url)}.migrate-lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


async def _settled(running: asyncio.Future[Any]) -> None:
    """Wait until `running` is done, through any further cancellation of the waiting task."""
    while not running.done():
        try:
            await asyncio.wait({running})
        except asyncio.CancelledError:
            continue
    if not running.cancelled():
        running.exception()  # retrieved: the caller was cancelled, its statement's error is moot


def _make_room(url: str) -> None:
    sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)


def _foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
