"""Shared by the lineages' migrations: compute columns of the rows already stored, in batches."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

BATCH = 1000


def fill(
    bind: sa.Connection, table: sa.TableClause, rows: sa.Select[Any], values: Callable[[Any], dict[str, Any]]
) -> None:
    """Set `values(row)` on every row of `rows`, BATCH rows at a time in the order of their ids."""
    update = sa.update(table).where(table.c.id == sa.bindparam("key"))
    last = None
    while True:
        page = rows.order_by(table.c.id).limit(BATCH)
        found = bind.execute(page if last is None else page.where(table.c.id > last)).all()
        if not found:
            return
        bind.execute(update, [{"key": row.id, **values(row)} for row in found])
        last = found[-1].id


def bubble_texts(message_bubbles: str) -> list[str]:
    """The visible text of each bubble of a task's stored bubbles, as the revisions that fill search
    columns read them (kept here: domain code may move on, a revision may not)."""
    try:
        bubbles = json.loads(message_bubbles)
    except ValueError:
        return []
    if not isinstance(bubbles, list):
        return []
    texts = []
    for bubble in bubbles:
        text = bubble.get("text", bubble.get("message", "")) if isinstance(bubble, dict) else bubble
        texts.append(text if isinstance(text, str) else "")
    return texts
