"""`session-store db copy`: a whole store from one database to another (the development SQLite into
a new PostgreSQL, say), table by table, in batches.

- Each batch is one transaction on the target that also records how far the copy got (the
  `session_store_copy` table), so a copy cut off anywhere resumes where it stopped when run again.
- A target that already holds rows is refused, unless it holds an unfinished copy from the same
  source (then the copy resumes) or `merge` is asked for: then rows the target already has are
  left as they are, and the ones that differ from the source's are reported, never overwritten.
- At the end every table's row count and checksum are compared on both sides. The checksum does
  not depend on the order rows come in, since each database sorts text its own way.

Rows are copied as stored: the platform registry's configs stay sealed under the key they were
sealed with, so the server on the target needs the same PLATFORM_SECRET_KEY.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    inspect,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from infrastructure.sql import migrate
from infrastructure.sql.agent.tables import metadata as agent_metadata
from infrastructure.sql.gateway.tables import metadata as gateway_metadata
from infrastructure.sql.platform.tables import metadata as platform_metadata
from infrastructure.sql.urls import redact

LINEAGE_TABLES: dict[str, MetaData] = {
    "gateway": gateway_metadata,
    "agent": agent_metadata,
    "platform": platform_metadata,
}
DEFAULT_BATCH = 500
BATCH_BYTES = 16 * 1024 * 1024  # text a batch holds at most, beyond its first row
ROWS_A_FETCH = 5

_progress = Table(
    "session_store_copy",
    MetaData(),
    Column("lineage", String(32), primary_key=True),
    Column("table_name", String(64), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("last_key", Text),  # JSON: the last copied row's primary key, in the source's order
    Column("copied", BigInteger, nullable=False),
    Column("done", Boolean, nullable=False),
    Column("merge", Boolean, nullable=False),  # a copy begun with --merge resumes as one
)


class CopyRefused(RuntimeError):
    """The copy cannot start, or cannot go on; the message says why and what to do."""


@dataclass
class TableCopy:
    name: str
    copied: int = 0
    already_there: int = 0  # rows the target held already, equal to the source's
    # After a merge: the source's rows the target does not hold as the source does, by key, with why
    # (it holds other values under that key; or the row was held back, a row it belongs to differing).
    differing: list[str] = field(default_factory=list)
    source_rows: int = 0
    target_rows: int = 0
    source_checksum: str = ""
    target_checksum: str = ""

    @property
    def verified(self) -> bool:
        return self.source_rows == self.target_rows and self.source_checksum == self.target_checksum


@dataclass
class LineageCopy:
    lineage: str
    resumed: bool
    tables: list[TableCopy]
    merge: bool

    @property
    def verified(self) -> bool:
        """Everything of the source is in the target: without merge, table for table the same rows."""
        if self.merge:
            return all(not table.differing and table.target_rows >= table.source_rows for table in self.tables)
        return all(table.verified for table in self.tables)


def lineages_in(url: str) -> list[str]:
    """The lineages a database holds (those with a version table), in the order they are listed."""
    engine = migrate.migration_engine(url)
    try:
        names = set(inspect(engine).get_table_names())
    except SQLAlchemyError as exc:
        raise CopyRefused(migrate.reason("source", url, exc)) from exc
    finally:
        engine.dispose()
    return [lineage for lineage in LINEAGE_TABLES if migrate.version_table(lineage) in names]


def copy_lineage(
    lineage: str,
    source_url: str,
    target_url: str,
    *,
    merge: bool = False,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[str], None] = lambda _: None,
) -> LineageCopy:
    """Copy one lineage's tables from `source_url` to `target_url` (migrated to the head first)."""
    revision, head = migrate.current(lineage, source_url), migrate.head(lineage)
    if revision != head:
        raise CopyRefused(
            f"the {lineage} store at {redact(source_url)} is at revision {revision or 'none'}, not {head}: "
            f"run `session-store db upgrade` on it first (a copy moves rows as the current schema holds them)"
        )
    migrate.upgrade(lineage, target_url)
    tables = list(LINEAGE_TABLES[lineage].sorted_tables)  # parents before the rows that refer to them
    source, target = migrate.migration_engine(source_url), migrate.migration_engine(target_url)
    try:
        with target.begin() as db:
            _progress.create(db, checkfirst=True)
        resumed, merge = _start(lineage, tables, source_url, target, merge=merge)
        copies = [_copy_table(lineage, table, source, target, batch, progress, merge) for table in tables]
        for copied in copies:
            table = LINEAGE_TABLES[lineage].tables[copied.name]
            _verify(table, source, target, copied)
            if merge:  # from the rows themselves: a resumed merge knows nothing of the run before
                copied.differing = _not_as_in_source(table, source, target)
        outcome = LineageCopy(lineage, resumed, copies, merge)
        if outcome.verified:
            with target.begin() as db:
                db.execute(delete(_progress).where(_progress.c.lineage == lineage))
                if not db.execute(select(func.count()).select_from(_progress)).scalar():
                    _progress.drop(db)
        return outcome
    except SQLAlchemyError as exc:
        raise CopyRefused(migrate.reason(lineage, target_url, exc)) from exc
    finally:
        source.dispose()
        target.dispose()


def _fingerprint(url: str) -> str:
    return hashlib.sha256(redact(url).encode()).hexdigest()[:32]


def _start(lineage: str, tables: Sequence[Table], source_url: str, target: Engine, *, merge: bool) -> tuple[bool, bool]:
    """Whether an earlier copy of this lineage from this source resumes here, and whether this one
    merges (as the earlier did, or as asked); refuses a target that holds rows of its own unless `merge`."""
    with target.begin() as db:
        earlier = db.execute(select(_progress).where(_progress.c.lineage == lineage)).all()
        if earlier:
            if any(row.source != _fingerprint(source_url) for row in earlier):
                raise CopyRefused(
                    f"the target holds an unfinished copy of the {lineage} store from another source: "
                    "finish that one (run it again) or start on an empty database"
                )
            return True, merge or any(row.merge for row in earlier)
        holding = [t.name for t in tables if db.execute(select(func.count()).select_from(t)).scalar()]
        if holding and not merge:
            raise CopyRefused(
                f"the target already holds rows of the {lineage} store ({', '.join(holding)}): copy into an "
                "empty database, or pass --merge to add the source's rows to them (none is overwritten)"
            )
        fingerprint = _fingerprint(source_url)
        for table in tables:
            values = {"lineage": lineage, "table_name": table.name, "source": fingerprint, "copied": 0}
            db.execute(insert(_progress).values(values | {"done": False, "merge": merge}))
        return False, merge


def _copy_table(
    lineage: str,
    table: Table,
    source: Engine,
    target: Engine,
    batch: int,
    progress: Callable[[str], None],
    merge: bool,
) -> TableCopy:
    mine = (_progress.c.lineage == lineage) & (_progress.c.table_name == table.name)
    with target.connect() as db:
        state = db.execute(select(_progress).where(mine)).one()
    copied = TableCopy(table.name, copied=state.copied)
    if state.done:
        return copied
    after = tuple(json.loads(state.last_key)) if state.last_key else None
    for read in _batches(source, table, batch, after):
        with target.begin() as db:
            if merge:  # else the target held none of these rows: each batch commits with its progress
                rows = _without_foreign_parents(table, read, source, target)
                fresh = _insert_missing(db, table, rows, copied) if rows else 0
            else:
                db.execute(insert(table), read)
                fresh = len(read)
            last = json.dumps(list(_key(table, read[-1])))
            db.execute(update(_progress).where(mine).values(last_key=last, copied=_progress.c.copied + fresh))
        copied.copied += fresh
        progress(f"{lineage}.{table.name}: {copied.copied:,} rows copied")
    with target.begin() as db:
        db.execute(update(_progress).where(mine).values(done=True))
    return copied


def _key(table: Table, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[column.name] for column in table.primary_key.columns)


def _batches(engine: Engine, table: Table, size: int, after: tuple[Any, ...] | None) -> Iterator[list[dict[str, Any]]]:
    """The source's rows in primary-key order, `size` at a time but no more than BATCH_BYTES of text
    (a chat task can be megabytes), from after the key `after`; each batch read on its own connection,
    so no transaction stays open on the source between them."""
    key = list(table.primary_key.columns)
    while True:
        statement = select(table).order_by(*key).limit(size)
        if after is not None:
            statement = statement.where(_row_key(key) > _row_key(after))
        rows: list[dict[str, Any]] = []
        with engine.connect() as db:
            found, held = db.execution_options(yield_per=ROWS_A_FETCH).execute(statement), 0
            for row in found:
                rows.append(dict(row._mapping))
                held += sum(len(value) for value in rows[-1].values() if isinstance(value, str))
                if held >= BATCH_BYTES:
                    break
            found.close()
        if not rows:
            return
        yield rows
        after = _key(table, rows[-1])


def _row_key(parts: Sequence[Any]) -> Any:
    """A key as SQL compares it: the column (or value) itself, or a row value of several."""
    return parts[0] if len(parts) == 1 else tuple_(*parts)


def _held(db: Connection, table: Table, rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The rows `db` holds under the keys of `rows`, by key."""
    key = list(table.primary_key.columns)
    keys = [_key(table, row) for row in rows]
    matching = _row_key(key).in_(keys if len(key) > 1 else [k for (k,) in keys])
    return {_key(table, dict(row._mapping)): dict(row._mapping) for row in db.execute(select(table).where(matching))}


def _insert_missing(db: Connection, table: Table, rows: list[dict[str, Any]], copied: TableCopy) -> int:
    """Insert the rows the target has not; count those it has as they are. How many were inserted."""
    present = _held(db, table, rows)
    missing = [row for row in rows if _key(table, row) not in present]
    for row in rows:
        held = present.get(_key(table, row))
        if held is not None and held == row:
            copied.already_there += 1
    if missing:
        db.execute(insert(table), missing)
    return len(missing)


def _references(table: Table) -> list[tuple[list[str], Table, list[str]]]:
    """The rows a row of `table` belongs to: (its columns, the parent table, the parent's columns),
    by foreign key or as the table's info["refers_to"] declares where there is none."""
    found = [
        ([e.parent.name for e in fk.elements], fk.referred_table, [e.column.name for e in fk.elements])
        for fk in table.foreign_key_constraints
    ]
    for columns, parent, parent_columns in table.info.get("refers_to", []):
        found.append((list(columns), table.metadata.tables[parent], list(parent_columns)))
    return found


def _without_foreign_parents(
    table: Table, rows: list[dict[str, Any]], source: Engine, target: Engine
) -> list[dict[str, Any]]:
    """The rows whose parents the target holds as the source does (or not at all): a task of a session
    the target holds as someone else's stays out, as that session does (both reported at the end)."""
    for columns, parent, parent_columns in _references(table):
        wanted = list({tuple(row[c] for c in columns) for row in rows})
        key = [parent.c[name] for name in parent_columns]
        matching = _row_key(key).in_(wanted if len(key) > 1 else [k for (k,) in wanted])
        held: list[dict[tuple[Any, ...], dict[str, Any]]] = []
        for engine in (source, target):
            with engine.connect() as db:
                found = (dict(row._mapping) for row in db.execute(select(parent).where(matching)))
                held.append({tuple(row[c] for c in parent_columns): row for row in found})
        theirs = {k for k, row in held[1].items() if k in held[0] and held[0][k] != row}
        rows = [row for row in rows if tuple(row[c] for c in columns) not in theirs]
    return rows


def _not_as_in_source(table: Table, source: Engine, target: Engine) -> list[str]:
    """The keys of the source's rows that the target lacks or holds with other values, with why."""
    found = []
    for rows in _batches(source, table, DEFAULT_BATCH, None):
        with target.connect() as db:
            held = _held(db, table, rows)
        for row in rows:
            key = "/".join(str(part) for part in _key(table, row))
            if _key(table, row) not in held:
                found.append(f"{key} (held back: a row it belongs to differs)")
            elif held[_key(table, row)] != row:
                found.append(f"{key} (the target's differs)")
    return found


def checksum(engine: Engine, table: Table, batch: int = 5000) -> tuple[int, str]:
    """The table's row count and a digest of its rows that does not depend on their order."""
    total, rows = 0, 0
    for chunk in _batches(engine, table, batch, None):
        for row in chunk:
            canonical = json.dumps([row[column.name] for column in table.columns], ensure_ascii=False)
            total += int.from_bytes(hashlib.blake2b(canonical.encode(), digest_size=16).digest(), "big")
        rows += len(chunk)
    return rows, f"{total % (1 << 128):032x}"


def _verify(table: Table, source: Engine, target: Engine, copied: TableCopy) -> None:
    copied.source_rows, copied.source_checksum = checksum(source, table)
    copied.target_rows, copied.target_checksum = checksum(target, table)
