"""MySQL/MariaDB: every statement on aiomysql, on connections of aiomysql's pool.

Connections stay in autocommit, so a read is one round trip; a unit of work that writes takes its
connection at its first statement and wraps it in BEGIN ... COMMIT, in READ COMMITTED: InnoDB's
default REPEATABLE READ takes gap locks on a locking read of a missing row, so two requests creating
sessions side by side deadlock. No hot statements of its own: without UPDATE ... RETURNING, the
domain's rules run as they are, in a transaction.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import random
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import aiomysql
import pymysql
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from domain.errors import StoreUnavailable
from infrastructure.sql.backend import Backend, LockTimeout
from infrastructure.sql.connection import (
    NO_PARAMS,
    Params,
    Query,
    Statement,
    Transaction,
    clash,
    compile_for,
    row_type,
    timed_out,
    unreachable,
)
from infrastructure.sql.gateway.repositories import TASK_HIT
from infrastructure.sql.urls import DEFAULT_POOL_SIZE, POOL_TIMEOUT_S, RECYCLE_S, async_url, parse_url, sync_url

DIALECT = MySQLDialect_pymysql(paramstyle="pyformat")
ER_LOCK_DEADLOCK = 1213
DEADLOCK_RETRIES = 5
T = TypeVar("T")
LOCK_TIMEOUT_S = 300
_SELECT_1 = Query("SELECT 1")
_TIMEOUT_MESSAGES = ("max_statement_time", "maximum statement execution time")


def _deadlocked(exc: BaseException) -> bool:
    cause = exc.__cause__
    return isinstance(cause, pymysql.err.OperationalError) and bool(cause.args) and cause.args[0] == ER_LOCK_DEADLOCK


def translate(exc: BaseException) -> BaseException:
    """pymysql's errors (aiomysql raises them) as the domain names them; anything else stays as it is."""
    if isinstance(exc, pymysql.err.IntegrityError):
        return clash()
    if isinstance(exc, pymysql.err.OperationalError) and any(m in str(exc) for m in _TIMEOUT_MESSAGES):
        return timed_out()
    if isinstance(exc, pymysql.err.OperationalError | pymysql.err.InterfaceError | OSError | TimeoutError):
        return unreachable()
    return exc


class _MysqlTransaction(Transaction):
    def __init__(self, backend: MysqlBackend, read_only: bool) -> None:
        self._backend = backend
        self._read_only = read_only
        self._raw: Any = None

    async def _connection(self) -> Any:
        if self._raw is None:
            self._raw = await self._backend.acquire()
            if not self._read_only:
                await self._raw.begin()
        return self._raw

    async def rows(self, statement: Statement, params: Params = NO_PARAMS) -> Sequence[Any]:
        sql, values = compile_for(DIALECT, statement, params)
        try:
            raw = await self._connection()
            async with raw.cursor() as cursor:
                await cursor.execute(sql, values)
                if cursor.description is None:
                    return []
                row = row_type(tuple(column[0] for column in cursor.description))
                return [row._make(found) for found in await cursor.fetchall()]
        except Exception as exc:
            raise translate(exc) from exc

    async def run(self, statement: Statement, params: Params = NO_PARAMS) -> int:
        sql, values = compile_for(DIALECT, statement, params)
        try:
            raw = await self._connection()
            async with raw.cursor() as cursor:
                await cursor.execute(sql, values)
                return int(cursor.rowcount)
        except Exception as exc:
            raise translate(exc) from exc

    async def commit(self) -> None:
        if self._raw is not None and not self._read_only:
            try:
                await self._raw.commit()
            except Exception as exc:
                raise translate(exc) from exc

    async def close(self) -> None:
        raw, self._raw = self._raw, None
        if raw is None:
            return
        if not self._read_only and not raw.closed:
            try:
                await raw.rollback()
            except Exception:
                raw.close()  # the pool drops a closed connection
        self._backend.release(raw)


# Message search: the user's tasks whose FULLTEXT index holds every word (boolean mode, +word each),
# ranked by InnoDB's relevance. InnoDB leaves out of its index the words shorter than
# innodb_ft_min_token_size (3 by default) and its stop words, so a +word of those matches nothing:
# such words are looked for as whole words of the user's tasks instead (LIKE on the space-separated
# words, among the rows the index found, or all the user's tasks when it found nothing to look for).
_MIN_TOKEN = 3
_STOPWORDS = frozenset(
    [
        "a",
        "about",
        "an",
        "are",
        "as",
        "at",
        "be",
        "by",
        "com",
        "de",
        "en",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "la",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "who",
        "will",
        "with",
        "und",
        "www",
    ]
)
_MATCH = "MATCH (t.search_message, t.search_bubbles) AGAINST (:words IN BOOLEAN MODE)"
_WORDS = "CONCAT(' ', COALESCE(t.search_message, ''), ' ', t.search_bubbles, ' ')"


@functools.cache
def _tasks_matching(indexed: bool, unindexed: int) -> Query:
    """The statement for some indexed words (or none) and `unindexed` others: built, and compiled,
    once per shape (at most 2 x MAX_TERMS + 1 of them)."""
    conditions = ["t.user_id = :user", *([_MATCH] if indexed else [])]
    conditions += [f"{_WORDS} LIKE :like{i}" for i in range(unindexed)]
    order = [*([f"{_MATCH} DESC"] if indexed else []), "t.created_time DESC", "t.id"]
    return Query(
        f"SELECT {TASK_HIT} WHERE {' AND '.join(conditions)} ORDER BY {', '.join(order)} LIMIT :limit OFFSET :offset"
    )


class MysqlBackend(Backend):
    dialect = DIALECT
    deadlocked = staticmethod(_deadlocked)

    def __init__(self, url: str, *, statement_timeout_ms: int | None, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self._pool_size = pool_size
        parsed = parse_url(url)
        self._connect: dict[str, Any] = {
            "host": parsed.host or "localhost",
            "port": parsed.port or 3306,
            "user": parsed.username or "",
            "password": parsed.password or "",
            "db": parsed.database,
            "charset": str(parsed.query.get("charset", "utf8mb4")),
            "autocommit": True,
        }
        self._timeout_ms = statement_timeout_ms
        self._pool: aiomysql.Pool | None = None
        self._starting = asyncio.Lock()

    async def _session_settings(self) -> str:
        """One SET every connection runs first (aiomysql's init_command takes one statement); MariaDB
        and MySQL name the isolation level and the statement timeout differently."""
        probe = await aiomysql.connect(**self._connect)
        try:
            async with probe.cursor() as cursor:
                await cursor.execute("SELECT VERSION()")
                (version,) = await cursor.fetchone()
        finally:
            probe.close()
        if "mariadb" in str(version).lower():
            settings = ["tx_isolation = 'READ-COMMITTED'"]
            if self._timeout_ms:  # seconds, every statement
                settings.append(f"max_statement_time = {self._timeout_ms / 1000:.3f}")
        else:
            settings = ["transaction_isolation = 'READ-COMMITTED'"]
            if self._timeout_ms:  # milliseconds, SELECTs only
                settings.append(f"max_execution_time = {int(self._timeout_ms)}")
        return "SET SESSION " + ", ".join(settings)

    async def _started(self) -> aiomysql.Pool:
        if self._pool is None:
            async with self._starting:
                if self._pool is None:
                    settings = await self._session_settings()
                    self._pool = await aiomysql.create_pool(
                        minsize=0,
                        maxsize=self._pool_size,
                        pool_recycle=RECYCLE_S,
                        init_command=settings,
                        **self._connect,
                    )
        return self._pool

    async def acquire(self) -> Any:
        try:
            pool = await self._started()
            return await asyncio.wait_for(pool.acquire(), POOL_TIMEOUT_S)
        except Exception as exc:
            raise translate(exc) from exc

    def release(self, raw: Any) -> None:
        if self._pool is not None:
            self._pool.release(raw)

    async def begin(self, *, read_only: bool) -> Transaction:
        return _MysqlTransaction(self, read_only)

    async def run_whole(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """As a transaction, run again when InnoDB chose it as a deadlock's victim (it rolled it back
        whole). Two first writers of one shared state row take an InnoDB lock each and then wait on
        each other's; InnoDB's advice is to retry, which the rules allow: they are run whole."""
        for attempt in itertools.count(1):
            try:
                return await super().run_whole(work)
            except StoreUnavailable as exc:
                if not _deadlocked(exc) or attempt == DEADLOCK_RETRIES:
                    raise
            await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))
        raise AssertionError("unreachable")

    def tasks_matching(self, user_id: str, terms: list[str]) -> tuple[Query, dict[str, Any]]:
        indexed = [term for term in terms if len(term) >= _MIN_TOKEN and term not in _STOPWORDS]
        unindexed = [term for term in terms if term not in indexed]
        params: dict[str, Any] = {"user": user_id, "words": " ".join(f"+{term}" for term in indexed)}
        params |= {f"like{i}": "% " + term.replace("_", "\\_") + " %" for i, term in enumerate(unindexed)}
        return _tasks_matching(bool(indexed), len(unindexed)), params

    async def ping(self) -> None:
        probe = _MysqlTransaction(self, read_only=True)
        try:
            await probe.rows(_SELECT_1)
        finally:
            await probe.close()

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            await self._pool.wait_closed()
            self._pool = None

    @staticmethod
    def sync_engine(url: str) -> Engine:
        return create_engine(sync_url(url), hide_parameters=True, pool_pre_ping=True, pool_recycle=RECYCLE_S)

    @staticmethod
    def async_engine(url: str, *, statement_timeout_ms: int | None, pool_size: int = DEFAULT_POOL_SIZE) -> AsyncEngine:
        engine = create_async_engine(
            async_url(url),
            hide_parameters=True,  # what callers sent stays out of error messages and so out of logs
            pool_size=pool_size,
            max_overflow=0,  # the budget is the budget (docs/operations.md)
            pool_pre_ping=True,
            pool_recycle=RECYCLE_S,
        )
        if statement_timeout_ms:
            event.listen(engine.sync_engine, "connect", _statement_timeout(statement_timeout_ms))
        return engine

    @staticmethod
    @contextmanager
    def migration_lock(engine: Engine, url: str, name: str) -> Iterator[None]:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
            got = lock.execute(text("SELECT GET_LOCK(:name, :timeout)"), {"name": name, "timeout": LOCK_TIMEOUT_S})
            if got.scalar() != 1:
                raise LockTimeout(f"another instance held the migration lock for {LOCK_TIMEOUT_S}s")
            try:
                yield
            finally:
                lock.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})


def _statement_timeout(timeout_ms: int) -> Callable[[Any, Any], None]:
    """SQLAlchemy's connections (the platform registry's) get the timeout the pool's get at connect."""

    def set_timeout(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:  # MariaDB: seconds, every statement
            cursor.execute(f"SET SESSION max_statement_time = {timeout_ms / 1000:.3f}")
        except Exception:  # MySQL: milliseconds, SELECTs only
            cursor.execute(f"SET SESSION max_execution_time = {int(timeout_ms)}")
        cursor.close()

    return set_timeout
