"""Shared by the lineages' migrations: text that compares exactly on MySQL/MariaDB.

Their default collations fold case (and MySQL's accents): `CAROL` would read `carol`'s rows, and
ids differing only in case would be one row. A binary collation compares as PostgreSQL and SQLite
do. Other databases need nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op


def convert(tables: Sequence[str], *, exact: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name not in ("mysql", "mariadb"):
        return
    collation = " COLLATE utf8mb4_bin" if exact else ""  # back: the database's default collation
    # A column a foreign key joins cannot change collation while the key stands: take the keys
    # between these tables down, convert the tables, and put the keys back as they were.
    inspector = sa.inspect(bind)
    keys = [(table, key) for table in tables for key in inspector.get_foreign_keys(table)]
    for table, key in keys:
        op.drop_constraint(key["name"], table, type_="foreignkey")
    for table in tables:
        op.execute(f"ALTER TABLE {table} CONVERT TO CHARACTER SET utf8mb4{collation}")
    for table, key in keys:
        op.create_foreign_key(
            key["name"],
            table,
            key["referred_table"],
            key["constrained_columns"],
            key["referred_columns"],
            ondelete=key.get("options", {}).get("ondelete"),
        )


def migration(tables: Sequence[str]) -> tuple[Callable[[], None], Callable[[], None]]:
    """A lineage's (upgrade, downgrade) converting `tables`."""
    return lambda: convert(tables, exact=True), lambda: convert(tables, exact=False)
