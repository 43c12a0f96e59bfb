"""Engines from the URLs users write (`postgresql://`, `mysql+pymysql://`, `sqlite:///`).

At run time every store talks through an async driver (psycopg, aiomysql, aiosqlite); migrations
run before the server starts, through the sync driver of the same database.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_ASYNC_DRIVERS = {"postgresql": "psycopg", "mysql": "aiomysql", "mariadb": "aiomysql", "sqlite": "aiosqlite"}
_SYNC_DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql", "mariadb": "pymysql", "sqlite": "pysqlite"}
SQLITE_BUSY_TIMEOUT_MS = 5000
PING_AFTER_IDLE_S = 2.0
RECYCLE_S = 1800
# The product default (server.statement_timeout_ms); every engine has one unless told otherwise.
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000


class BadDatabaseURL(ValueError):
    pass


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise BadDatabaseURL(f"not a database URL: {redact(url)!r}") from exc
    if parsed.get_backend_name() not in _ASYNC_DRIVERS:
        raise BadDatabaseURL(
            f"unsupported database {parsed.get_backend_name()!r} in {redact(url)!r}: "
            "use sqlite:///, postgresql:// or mysql+pymysql://"
        )
    return parsed


def redact(url: str | URL) -> str:
    """The URL with its password masked: the only form of a URL that may reach a log or a response."""
    try:
        return (make_url(url) if isinstance(url, str) else url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _with_driver(url: URL, drivers: dict[str, str]) -> URL:
    backend = url.get_backend_name()
    url = url.set(drivername=f"{'mysql' if backend == 'mariadb' else backend}+{drivers[backend]}")
    if backend in ("mysql", "mariadb") and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url


def async_url(url: str) -> URL:
    return _with_driver(parse_url(url), _ASYNC_DRIVERS)


def sync_url(url: str) -> URL:
    return _with_driver(parse_url(url), _SYNC_DRIVERS)


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)  # type: ignore[arg-type]


def _engine_options(url: URL) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    # As the incumbent learnt (its PR #1533): ping and recycle, or stale connections give 503s. The ping
    # runs only on connections idle for a while (see _ping_if_idle), not on every checkout.
    # No overflow: connections beyond pool_size are closed on return, so a load above it would open a
    # connection (a PostgreSQL backend) per request, which costs more than the request. The pool opens
    # connections as the load needs them, up to pool_size, and keeps them.
    options: dict[str, Any] = {"pool_size": 40, "max_overflow": 0, "pool_recycle": RECYCLE_S}
    if url.get_backend_name() in ("mysql", "mariadb"):
        # InnoDB's default REPEATABLE READ takes gap locks on a locking read of a missing row, so two
        # requests creating sessions side by side deadlock; READ COMMITTED (PostgreSQL's default) does not.
        options["isolation_level"] = "READ COMMITTED"
    return options


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _ping_if_idle(engine: Engine) -> None:
    """Pre-ping, but only connections that sat idle: a busy pool's connections are known alive.

    A checkout always pinging (SQLAlchemy's pool_pre_ping) costs a round trip per request; stale
    connections come from idling (load balancers, TLS terminators, server timeouts), so only those
    are checked. A dead one is replaced before the request sees it.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("connection went stale while idle") from exc
        if not alive:
            raise DisconnectionError("connection went stale while idle")


def _sqlite_write_transactions(engine: Engine) -> None:
    """Write transactions on SQLite start with BEGIN IMMEDIATE, taking the write lock up front.

    Python's sqlite3 driver otherwise begins a transaction only at the first write, so the reads
    before it (a session's version, the owner of a task) would sit outside the transaction, and a
    read-then-write could race another process. Reads in autocommit stay lock-free.
    """

    @event.listens_for(engine, "connect")
    def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not the driver, decides when to BEGIN

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _mysql_statement_timeout(engine: Engine, timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _set(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:  # MariaDB: seconds, every statement
            cursor.execute(f"SET SESSION max_statement_time = {timeout_ms / 1000:.3f}")
        except Exception:  # MySQL: milliseconds, SELECTs only
            cursor.execute(f"SET SESSION max_execution_time = {int(timeout_ms)}")
        cursor.close()
        dbapi_connection.commit()  # leave the new connection idle, as the pool expects it


def create_engine(
    url: str, *, statement_timeout_ms: int | None = DEFAULT_STATEMENT_TIMEOUT_MS, **overrides: Any
) -> AsyncEngine:
    """`statement_timeout_ms`: every statement gives up after it, so a stuck query becomes a 503."""
    target = async_url(url)
    options = {**_engine_options(target), **overrides}
    backend = target.get_backend_name()
    if statement_timeout_ms and backend == "postgresql":
        # A connection parameter, not a SET: nothing runs (or opens a transaction) on connect.
        options["connect_args"] = {
            **options.get("connect_args", {}),
            "options": f"-c statement_timeout={int(statement_timeout_ms)}",
        }
    engine = create_async_engine(target, **options)
    if statement_timeout_ms and backend in ("mysql", "mariadb"):
        _mysql_statement_timeout(engine.sync_engine, statement_timeout_ms)
    if target.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        _sqlite_write_transactions(engine.sync_engine)
    else:
        _ping_if_idle(engine.sync_engine)
    return engine


def create_autocommit_engine(
    url: str, *, statement_timeout_ms: int | None = DEFAULT_STATEMENT_TIMEOUT_MS, **overrides: Any
) -> AsyncEngine | None:
    """On PostgreSQL and MySQL, the pool of the reads (most requests), its connections in autocommit
    from connect on: taking them from the transactions' pool switched each one into autocommit and
    back, about 85 us of CPU a request on PostgreSQL and two round trips on MySQL. On SQLite None:
    the one pool serves."""
    if async_url(url).get_backend_name() == "sqlite":
        return None
    return create_engine(url, statement_timeout_ms=statement_timeout_ms, isolation_level="AUTOCOMMIT", **overrides)


def create_migration_engine(url: str) -> Engine:
    target = sync_url(url)
    options = _engine_options(target)
    options.pop("pool_size", None), options.pop("max_overflow", None)
    engine = create_sync_engine(target, pool_pre_ping=True, **options)
    if target.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_sqlite_sync_engine(url: str) -> Engine:
    """A sync engine on a SQLite file, for work done whole in a worker thread (one hop, not one per
    statement as through aiosqlite); same pragmas and BEGIN IMMEDIATE as the async engine."""
    engine = create_sync_engine(sync_url(url), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_pragmas)
    _sqlite_write_transactions(engine)
    return engine
