"""The migration that rewrites a large table, at 1,000,000 chat tasks on PostgreSQL: how long it
holds the locks that stop other instances' reads and writes of chat_tasks (issue 16: a migration
that would rewrite a large table says so, and is measured at this size).

Gateway revision 0005 (message search) fills the search columns of every task and adds PostgreSQL's
stored tsvector column with its GIN index; 0006 adds an index on sessions. One transaction runs
them all, so a lock taken by one is held to the end. A probe on connections of its own reads one
task and adds one every 10 ms throughout, as an instance still serving during the upgrade would.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from alembic import command

from infrastructure.sql import migrate
from tests.databases import fresh_database

ROWS = int(os.environ.get("MIGRATION_LOCK_ROWS", "1000000"))
TASKS_A_SESSION = 1000
BUBBLES = json.dumps([{"type": "agent", "text": "Around 22 degrees in Lisbon in May, cooler at night."}])


@pytest.fixture
def at_0004() -> Iterator[str]:
    """A PostgreSQL database at gateway revision 0004 holding ROWS chat tasks as 0004 stores them."""
    with fresh_database("postgres") as url:
        engine = migrate.migration_engine(url)
        with engine.connect() as connection:
            command.upgrade(migrate.lineage_config("gateway", connection), "0004")
            connection.commit()
        engine.dispose()
        with psycopg.connect(url, autocommit=True) as db, db.cursor() as cursor:
            with cursor.copy("COPY sessions (id, user_id, created_time, updated_time) FROM STDIN") as copy:
                for n in range(ROWS // TASKS_A_SESSION):
                    copy.write_row((f"s{n:05}", f"user-{n % 100}", n, n))
            columns = "id, session_id, user_id, user_message, message_bubbles, created_time, updated_time"
            with cursor.copy(f"COPY chat_tasks ({columns}, search_message, search_bubbles) FROM STDIN") as copy:
                for n in range(ROWS):
                    session = n // TASKS_A_SESSION
                    row = (f"t{n:07}", f"s{session:05}", f"user-{session % 100}", f"How warm is Lisbon? {n}")
                    folded = (f"how warm is lisbon? {n}", "around 22 degrees in lisbon in may, cooler at night.")
                    copy.write_row((*row, BUBBLES, n, n, *folded))
            cursor.execute("ANALYZE")
        yield url


class Probe(threading.Thread):
    """Reads a task and adds one every 10 ms on connections of its own; the longest wait of each."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.added = url, threading.Event(), 0
        self.longest = {"read": 0.0, "write": 0.0}

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as reads, psycopg.connect(self.url, autocommit=True) as writes:
            while not self.stop.is_set():
                started = time.perf_counter()
                reads.execute("SELECT user_message FROM chat_tasks WHERE id = 't0000500'").fetchone()
                self._took("read", started)
                started = time.perf_counter()
                writes.execute(
                    "INSERT INTO chat_tasks (id, session_id, user_id, message_bubbles, created_time, updated_time)"
                    " VALUES (%s, 's00000', 'user-0', %s, 0, 0)",
                    (f"probe-{self.added}", BUBBLES),
                )
                self.added += 1
                self._took("write", started)
                time.sleep(0.01)

    def _took(self, kind: str, started: float) -> None:
        self.longest[kind] = max(self.longest[kind], time.perf_counter() - started)


def test_the_search_migration_at_a_million_tasks_says_how_long_it_locks(at_0004: str) -> None:
    probe = Probe(at_0004)
    probe.start()
    time.sleep(0.5)
    started = time.monotonic()
    before, after = migrate.upgrade("gateway", at_0004)
    took = time.monotonic() - started
    time.sleep(0.5)
    probe.stop.set()
    probe.join(60)
    assert (before, after) == ("0004", migrate.head("gateway"))
    read, write = probe.longest["read"], probe.longest["write"]
    print(
        f"\ngateway 0004 -> {after} at {ROWS:,} tasks on PostgreSQL: {took:.0f} s; "
        f"the longest wait of a read of chat_tasks {read:.1f} s, of a write {write:.1f} s"
    )
    with psycopg.connect(at_0004) as db:
        count = db.execute("SELECT count(*) FROM chat_tasks WHERE id LIKE 't%'").fetchone()
        assert count == (ROWS,), "no task lost"
        probes = db.execute("SELECT count(*) FROM chat_tasks WHERE id LIKE 'probe-%'").fetchone()
        assert probes == (probe.added,), "every write acknowledged during the migration is there"
        unfilled = db.execute(
            "SELECT count(*) FROM chat_tasks WHERE id LIKE 't%' AND search_bubbles NOT LIKE 'around 22 degrees%'"
        ).fetchone()
        assert unfilled == (0,), "every task's search columns filled by 0005's rule"
        found = db.execute(
            "SELECT id FROM chat_tasks WHERE search_vector @@ to_tsquery('simple', '999999')"
        ).fetchall()
        assert found == [("t0999999",)] if ROWS == 1_000_000 else found
    # The docstring of 0005 states these figures; a migration that locks far longer fails here.
    assert write < took + 1 and read < took + 1
    assert read < 0.75 * took, "reads wait only for the rewrite and what follows it, not the whole migration"
