"""Keyset conditions: 'rows after this (time, id)' that an index on (..., time, id) can seek to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from domain.paging import SortKey


def after_key(time_col: Any, id_col: Any, key: SortKey, *, descending: bool) -> ColumnElement[bool]:
    # Spelled out rather than a row-value comparison: MySQL does not use an index for (a, b) < (x, y).
    if descending:
        return or_(time_col < key.time, and_(time_col == key.time, id_col < key.id))
    return or_(time_col > key.time, and_(time_col == key.time, id_col > key.id))


def ordered(time_col: Any, id_col: Any, *, descending: bool) -> tuple[Any, Any]:
    return (time_col.desc(), id_col.desc()) if descending else (time_col.asc(), id_col.asc())
