"""Keyset conditions: 'rows after this (time, id)' that an index on (..., time, id) can seek to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from domain.paging import SortKey


def after_key(time_col: Any, id_col: Any, key: SortKey, *, descending: bool) -> ColumnElement[bool]:
    """(time, id) beyond `key`, spelled so every database seeks the index to it.

    `time <= t AND (time < t OR id < i)` rather than `(time, id) < (t, i)` (which MySQL does not
    turn into an index range) or a bare OR (which PostgreSQL only filters with, scanning from the
    first row: deep pages would cost more and more). The leading bound is a range condition
    everywhere, so a page costs the same however deep it is.
    """
    if descending:
        return and_(time_col <= key.time, or_(time_col < key.time, id_col < key.id))
    return and_(time_col >= key.time, or_(time_col > key.time, id_col > key.id))


def ordered(time_col: Any, id_col: Any, *, descending: bool) -> tuple[Any, Any]:
    return (time_col.desc(), id_col.desc()) if descending else (time_col.asc(), id_col.asc())
