"""Database URLs as users write them (`postgresql://`, `mysql+pymysql://`, `sqlite:///`), and the
settings every connection to them shares.

At run time each backend module talks to its own driver (psycopg, aiomysql, sqlite3); migrations
run before the server starts, through SQLAlchemy on the sync driver of the same database.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_SYNC_DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql", "mariadb": "pymysql", "sqlite": "pysqlite"}
_ASYNC_DRIVERS = {"postgresql": "psycopg", "mysql": "aiomysql", "sqlite": "aiosqlite"}
SQLITE_BUSY_TIMEOUT_MS = 5000
# Connections idle this long are pinged before use (load balancers and servers drop idle ones).
PING_AFTER_IDLE_S = 2.0
RECYCLE_S = 1800
# The product default (server.statement_timeout_ms); every store has one unless told otherwise.
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000
POOL_TIMEOUT_S = 30.0
# Connections one backend (one database URL of one process) holds at most: small, so that many
# instances fit a server's max_connections (docs/operations.md, "Connections").
DEFAULT_POOL_SIZE = 10


class BadDatabaseURL(ValueError):
    pass


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise BadDatabaseURL(f"not a database URL: {redact(url)!r}") from exc
    if parsed.get_backend_name() not in _SYNC_DRIVERS:
        raise BadDatabaseURL(
            f"unsupported database {parsed.get_backend_name()!r} in {redact(url)!r}: "
            "use sqlite:///, postgresql:// or mysql+pymysql://"
        )
    if parsed.get_backend_name() == "sqlite" and parsed.host:
        raise BadDatabaseURL(
            f"{url!r} names a host, which SQLite has not: a file is sqlite:///relative/path.db (three "
            "slashes) or sqlite:////absolute/path.db (four)"
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise BadDatabaseURL(
            f"{url!r} is an in-memory SQLite database, a new one on every connection, which no "
            "migration reaches: name a file (sqlite:///data/store.db), or use type: memory for an ephemeral store"
        )
    return parsed


# Drivers take a password from the query string too (`?password=`, pymysql's `?passwd=`).
_SECRET_PARAMETERS = frozenset({"password", "passwd", "pass", "pwd"})


def redact(url: str | URL) -> str:
    """The URL with its passwords masked, in the userinfo and in the query string: the only form of a
    URL that may reach a log or a response."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparseable URL>"
    masked = {key: "__masked__" for key in parsed.query if key.lower() in _SECRET_PARAMETERS}
    return parsed.update_query_dict(masked).render_as_string(hide_password=True).replace("__masked__", "***")


def secrets_of(url: str) -> list[str]:
    """The URL's passwords, to be masked wherever a driver's message repeats them."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return []
    found = [str(parsed.password)] if parsed.password else []
    for key, value in parsed.query.items():
        if key.lower() in _SECRET_PARAMETERS:
            found += [value] if isinstance(value, str) else list(value)
    return [secret for secret in found if secret]


# Session Store's own URL option (PostgreSQL): after how many runs psycopg prepares a statement on the
# server; `none` never does, as PgBouncer in transaction mode needs (a prepared statement must not
# outlive its transaction there). Not a libpq parameter: taken out before the URL reaches a driver.
PREPARE_THRESHOLD = "prepare_threshold"


def prepare_threshold(url: str) -> int | None:
    """The URL's `prepare_threshold` (psycopg's default, 5, without it)."""
    value = parse_url(url).query.get(PREPARE_THRESHOLD, "5")
    text = value if isinstance(value, str) else value[-1]
    if text.lower() == "none":
        return None
    if not text.isdigit():
        raise BadDatabaseURL(f"{PREPARE_THRESHOLD} must be a number or none, not {text!r}")
    return int(text)


def driver_url(url: str) -> URL:
    """The URL without Session Store's own options, as a driver takes it."""
    return parse_url(url).difference_update_query([PREPARE_THRESHOLD])


def sync_url(url: str) -> URL:
    """The URL for SQLAlchemy on the database's sync driver (migrations, tests, tools)."""
    parsed = driver_url(url)
    backend = parsed.get_backend_name()
    parsed = parsed.set(drivername=f"{'mysql' if backend == 'mariadb' else backend}+{_SYNC_DRIVERS[backend]}")
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def async_url(url: str) -> URL:
    """The URL for SQLAlchemy on the database's async driver (the platform store's engine)."""
    parsed = sync_url(url)
    return parsed.set(drivername=f"{parsed.get_backend_name()}+{_ASYNC_DRIVERS[parsed.get_backend_name()]}")


def sqlite_path(url: str) -> Path:
    """The file behind a SQLite URL (parse_url refuses an in-memory one)."""
    return Path(str(parse_url(url).database))
