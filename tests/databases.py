"""Fresh throwaway databases on the PostgreSQL and MySQL/MariaDB servers the tests are pointed at.

Each test run creates its own databases and drops them at the end: no test depends on leftovers.
Outside CI an unreachable server skips its tests with a message; with CI=true it fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from infrastructure.sql.urls import sync_url

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SERVERS = {"postgres": POSTGRES_URL, "mysql": MYSQL_URL}


def unreachable(kind: str, reason: str) -> None:
    message = f"{kind} server of {make_url(SERVERS[kind]).render_as_string(hide_password=True)} unreachable: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a backend may not be skipped)", pytrace=False)
    pytest.skip(f"{message}; start it or set TEST_{kind.upper()}_URL")


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """Create an empty database on the `kind` server; yield its URL (as users write it); drop it."""
    server = SERVERS[kind]
    name = f"ss_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(sync_url(server), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:
        admin.dispose()
        unreachable(kind, str(exc).splitlines()[0])
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            if kind == "postgres":
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def rows_of(url: str, user: str) -> dict[str, int]:
    """Every table of the database with a user_id column: how many of its rows are the user's."""
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as db:
            found = {}
            for table in inspect(db).get_table_names():
                if "user_id" in {c["name"] for c in inspect(db).get_columns(table)}:
                    count = db.execute(text(f"SELECT count(*) FROM {table} WHERE user_id = :u"), {"u": user})
                    found[table] = int(count.scalar_one())
            return found
    finally:
        engine.dispose()
