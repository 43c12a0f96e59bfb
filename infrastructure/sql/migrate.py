"""Runs a store's Alembic lineage before the server starts, under a cross-process lock.

Replicas starting together against one database take turns (PostgreSQL advisory lock, MySQL
GET_LOCK, a lock file beside a SQLite database): the first migrates, the others find the schema
current and do nothing. A migration that fails stops start-up with the reason (MigrationFailed).
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

import migrations
from infrastructure.sql.urls import RECYCLE_S, SQLITE_BUSY_TIMEOUT_MS, redact, sqlite_path, sync_url

MIGRATIONS = Path(migrations.__file__).resolve().parent
LOCK_TIMEOUT_S = 300


class MigrationFailed(RuntimeError):
    pass


def run_env(metadata: MetaData) -> None:
    """The body of every lineage's env.py: migrate on the connection the runner holds."""
    from alembic import context

    config = context.config
    context.configure(
        connection=config.attributes["connection"],
        target_metadata=metadata,
        version_table=config.attributes["version_table"],
        render_as_batch=True,
        compare_type=True,
        # Stores may share a database: each lineage looks at its own tables only.
        include_name=lambda name, kind, _parent: kind != "table" or name in metadata.tables,
    )
    with context.begin_transaction():
        context.run_migrations()


def version_table(lineage: str) -> str:
    return f"{lineage}_alembic_version"


def lineage_config(lineage: str, connection: Connection | None = None, root: Path = MIGRATIONS) -> Config:
    config = Config()
    config.set_main_option("script_location", str(root / lineage))
    config.attributes["version_table"] = version_table(lineage)
    config.attributes["connection"] = connection
    return config


def head(lineage: str, root: Path = MIGRATIONS) -> str | None:
    return ScriptDirectory.from_config(lineage_config(lineage, root=root)).get_current_head()


def current(lineage: str, url: str) -> str | None:
    engine = connectable(lineage, url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": version_table(lineage)})
            return context.get_current_revision()
    except SQLAlchemyError as exc:
        raise MigrationFailed(reason(lineage, url, exc)) from exc
    finally:
        engine.dispose()


def upgrade(lineage: str, url: str, root: Path = MIGRATIONS) -> tuple[str | None, str | None]:
    """Bring the store at `url` to the lineage's head; returns (revision before, revision after)."""
    engine = connectable(lineage, url)
    try:
        with migration_lock(engine, lineage, url), engine.connect() as connection:
            config = lineage_config(lineage, connection, root)
            context = MigrationContext.configure(connection, opts={"version_table": version_table(lineage)})
            before = context.get_current_revision()
            connection.rollback()
            command.upgrade(config, "head")
            connection.commit()
            return before, head(lineage, root)
    except SQLAlchemyError as exc:
        raise MigrationFailed(reason(lineage, url, exc)) from exc
    finally:
        engine.dispose()


def migration_engine(url: str) -> Engine:
    """SQLAlchemy on the database's sync driver, as Alembic needs it (and tools and tests)."""
    target = sync_url(url)
    if target.get_backend_name() != "sqlite":
        return create_engine(target, pool_pre_ping=True, pool_recycle=RECYCLE_S)
    path = sqlite_path(target)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(target, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def connectable(lineage: str, url: str) -> Engine:
    try:
        return migration_engine(url)
    except Exception as exc:
        raise MigrationFailed(f"{lineage} store: {exc}") from exc


def reason(lineage: str, url: str, exc: SQLAlchemyError) -> str:
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    password = sync_url(url).password
    if password:
        detail = detail.replace(str(password), "***")
    return f"{lineage} store at {redact(url)}: {detail}"


@contextmanager
def migration_lock(engine: Engine, lineage: str, url: str) -> Iterator[None]:
    name = f"session-store-migrate-{lineage}"
    backend = engine.dialect.name
    if backend == "sqlite":
        path = sqlite_path(sync_url(url))
        if path is None:  # an in-memory database is private to this process
            yield
            return
        with open(Path(f"{path}.migrate-lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
        if backend == "postgresql":
            key = zlib.crc32(name.encode())
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        else:
            got = lock.execute(text("SELECT GET_LOCK(:name, :timeout)"), {"name": name, "timeout": LOCK_TIMEOUT_S})
            if got.scalar() != 1:
                raise MigrationFailed(
                    f"{lineage} store: another instance held the migration lock for {LOCK_TIMEOUT_S}s"
                )
            try:
                yield
            finally:
                lock.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
