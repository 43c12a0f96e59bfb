"""Statements every repository writes the same way, built once per table."""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any

from sqlalchemy import Column, FromClause, Table, and_, bindparam, delete, false, insert, update

from infrastructure.sql.connection import Query


def insert_row(table: Table) -> Query:
    """INSERT of a whole row, its values named after the columns."""
    return Query(insert(table).values({column: bindparam(column.name) for column in table.c}))


def update_row(table: Table, *key: str) -> Query:
    """UPDATE of a whole row found by its key columns (given as `key_<column>`), values named after the columns."""
    where = and_(*(table.c[name] == bindparam(f"key_{name}") for name in key))
    return Query(update(table).where(where).values({c: bindparam(c.name) for c in table.c if c.name not in key}))


def entity_columns(table: FromClause) -> list[Any]:
    """The columns an entity is read from: not the ones kept for search (domain.search)."""
    return [column for column in table.c if not column.name.startswith("search_")]


def fields(entity: Any) -> dict[str, Any]:
    """A frozen dataclass's fields by name (the domain's entities have slots)."""
    return {name: getattr(entity, name) for name in entity.__slots__}


def delete_in(column: Column[Any], keys: Collection[str]) -> tuple[Query, dict[str, str]]:
    """DELETE of the rows whose `column` is one of `keys`, in one statement, with its parameters (a
    batch of the retention purge)."""
    return _delete_where_in(column, len(keys)), {f"k{n}": key for n, key in enumerate(keys)}


@functools.cache
def _delete_where_in(column: Column[Any], size: int) -> Query:
    # One statement per size, compiled once per database: a purge's batches are mostly full.
    if not size:
        return Query(delete(column.table).where(false()))
    return Query(delete(column.table).where(column.in_([bindparam(f"k{n}") for n in range(size)])))
