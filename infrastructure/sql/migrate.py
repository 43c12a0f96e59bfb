"""Runs a store's Alembic lineage before the server starts, under a cross-process lock.

Replicas starting together against one database take turns (PostgreSQL advisory lock, MySQL
GET_LOCK, a lock file beside a SQLite database): the first migrates, the others find the schema
current and do nothing. A migration that fails stops start-up with the reason (MigrationFailed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData
from sqlalchemy.exc import SQLAlchemyError

import migrations
from infrastructure.sql.backend import LockTimeout, backend_for
from infrastructure.sql.urls import redact, secrets_of

MIGRATIONS = Path(migrations.__file__).resolve().parent


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
        include_name=compared(metadata),
        # Each revision commits on its own: the locks one takes (an ALTER TABLE's, an index build's)
        # are held to the end of that revision, not of the whole upgrade, and an upgrade cut off
        # leaves the database at the last revision it finished, whole.
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def compared(metadata: MetaData) -> Callable[[str | None, str, Any], bool]:
    """What of a database a lineage's schema comparison looks at: its own tables (stores may share a
    database), without what each database keeps its own way (metadata.info["own_per_database"])."""
    own_per_database = metadata.info.get("own_per_database", frozenset())

    def include(name: str | None, kind: str, _parent: Any) -> bool:
        if kind == "table":
            return name in metadata.tables
        return name not in own_per_database

    return include


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


def upgrade(lineage: str, url: str, root: Path = MIGRATIONS, to: str = "head") -> tuple[str | None, str | None]:
    """Bring the store at `url` to the lineage's head (or `to`); returns (revision before, revision after)."""
    engine = connectable(lineage, url)
    try:
        with migration_lock(engine, lineage, url):
            before: str | None = None
            for attempt in range(1, MIGRATION_ATTEMPTS + 1):
                try:
                    with engine.connect() as connection:
                        context = MigrationContext.configure(connection, opts={"version_table": version_table(lineage)})
                        before = context.get_current_revision() if attempt == 1 else before
                        connection.rollback()
                        command.upgrade(lineage_config(lineage, connection, root), to)
                        connection.commit()
                        return before, head(lineage, root) if to == "head" else to
                except SQLAlchemyError as exc:
                    # Instances still serving while one migrates can deadlock with a revision's ALTER
                    # (a write takes its tables in another order); the database rolls the revision
                    # back whole, the revisions before it stay, and the upgrade goes on from there.
                    if not backend_for(url).deadlocked(exc) or attempt == MIGRATION_ATTEMPTS:
                        raise
                    time.sleep(attempt * 0.5)
            raise AssertionError("unreachable")  # pragma: no cover
    except SQLAlchemyError as exc:
        raise MigrationFailed(reason(lineage, url, exc)) from exc
    finally:
        engine.dispose()


MIGRATION_ATTEMPTS = 3


def migration_engine(url: str) -> Engine:
    """SQLAlchemy on the database's sync driver, as Alembic needs it (and tools and tests)."""
    return backend_for(url).sync_engine(url)


def connectable(lineage: str, url: str) -> Engine:
    try:
        return backend_for(url).altering_engine(url)
    except Exception as exc:
        raise MigrationFailed(f"{lineage} store: {exc}") from exc


def reason(lineage: str, url: str, exc: SQLAlchemyError) -> str:
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    for secret in secrets_of(url):
        detail = detail.replace(secret, "***")
    return f"{lineage} store at {redact(url)}: {detail}"


@contextmanager
def migration_lock(engine: Engine, lineage: str, url: str) -> Iterator[None]:
    """Replicas starting together take turns: the first migrates, the others find the schema current."""
    try:
        with backend_for(url).migration_lock(engine, url, f"session-store-migrate-{lineage}"):
            yield
    except LockTimeout as exc:
        raise MigrationFailed(f"{lineage} store: {exc}") from exc
