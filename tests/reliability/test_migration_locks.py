"""The migrations that rewrite a large table, at 1,000,000 chat tasks on PostgreSQL: how long they
hold the locks that stop other instances' reads and writes of chat_tasks (issue 16: a migration
that would rewrite a large table says so, and is measured at this size).

From gateway revision 0002 to the head: 0003 fills the search columns of every session and task;
0005 fills them again by its own rule and adds PostgreSQL's stored tsvector column with its GIN
index; 0004 and 0006 add columns and indexes. One transaction runs them all, so a lock taken by one
is held to the end. A probe on connections of its own reads one
task and another adds one, every 10 ms throughout, as an instance still serving during the upgrade would.
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
def at_0002() -> Iterator[str]:
    """A PostgreSQL database at gateway revision 0002 holding ROWS chat tasks as 0002 stores them."""
    with fresh_database("postgres") as url:
        engine = migrate.migration_engine(url)
        with engine.connect() as connection:
            command.upgrade(migrate.lineage_config("gateway", connection), "0002")
            connection.commit()
        engine.dispose()
        with psycopg.connect(url, autocommit=True) as db, db.cursor() as cursor:
            with cursor.copy("COPY sessions (id, user_id, created_time, updated_time) FROM STDIN") as copy:
                for n in range(ROWS // TASKS_A_SESSION):
                    copy.write_row((f"s{n:05}", f"user-{n % 100}", n, n))
            columns = "id, session_id, user_id, user_message, message_bubbles, created_time, updated_time"
            with cursor.copy(f"COPY chat_tasks ({columns}) FROM STDIN") as copy:
                for n in range(ROWS):
                    session = n // TASKS_A_SESSION
                    row = (f"t{n:07}", f"s{session:05}", f"user-{session % 100}", f"How warm is Lisbon? {n}")
                    copy.write_row((*row, BUBBLES, n, n))
            cursor.execute("ANALYZE")
        yield url


class Probe(threading.Thread):
    """Reads a task (or adds one) every 10 ms on a connection of its own: the longest wait."""

    def __init__(self, url: str, writes: str | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.writes, self.stop = url, writes, threading.Event()
        self.longest, self.added, self.refused = 0.0, 0, 0
        self.failed: Exception | None = None

    def run(self) -> None:
        try:
            self._probe()
        except Exception as exc:  # the test reports it: a probe that stopped measured nothing
            self.failed = exc

    def _probe(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as db:
            while not self.stop.is_set():
                started = time.perf_counter()
                if self.writes:
                    try:
                        db.execute(
                            "INSERT INTO chat_tasks (id, session_id, user_id, message_bubbles, created_time,"
                            " updated_time) VALUES (%s, 's00000', 'user-0', %s, 0, 0)",
                            (f"probe-{self.writes}-{self.added}-{self.refused}", BUBBLES),
                        )
                        self.added += 1
                    except psycopg.errors.DeadlockDetected:  # the server answers 503: the client retries
                        self.refused += 1
                else:
                    db.execute("SELECT user_message FROM chat_tasks WHERE id = 't0000500'").fetchone()
                self.longest = max(self.longest, time.perf_counter() - started)
                time.sleep(0.01)


def step(url: str, revision: str) -> tuple[float, float, float, int, int]:
    """Upgrade to `revision` while the probes run: (seconds, longest read wait, longest write wait,
    tasks the writer added, writes refused as a deadlock's victim)."""
    reads, writes = Probe(url), Probe(url, writes=revision)
    for probe in (reads, writes):
        probe.start()
    time.sleep(0.3)
    started = time.monotonic()
    migrate.upgrade("gateway", url, to=revision)  # as serve does, a deadlock's victim tried again
    took = time.monotonic() - started
    time.sleep(0.3)
    for probe in (reads, writes):
        probe.stop.set()
        probe.join(60)
        assert probe.failed is None, f"the probe failed: {probe.failed}"
    return took, reads.longest, writes.longest, writes.added, writes.refused


def test_the_rewriting_migrations_at_a_million_tasks_say_how_long_they_lock(at_0002: str) -> None:
    steps = {revision: step(at_0002, revision) for revision in ("0003", "0004", "0005", "0006")}
    assert migrate.current("gateway", at_0002) == migrate.head("gateway") == "0006"
    print(f"\ngateway 0002 -> 0006 at {ROWS:,} tasks on PostgreSQL, each revision its own transaction:")
    for revision, (took, read, write, _, refused) in steps.items():
        print(
            f"  {revision}: {took:5.1f} s; a read of chat_tasks waited up to {read:5.1f} s, a write {write:5.1f} s"
            + (f" ({refused} write(s) a deadlock's victim)" if refused else "")
        )
    with psycopg.connect(at_0002) as db:
        count = db.execute("SELECT count(*) FROM chat_tasks WHERE id LIKE 't%'").fetchone()
        assert count == (ROWS,), "no task lost"
        probes = db.execute("SELECT count(*) FROM chat_tasks WHERE id LIKE 'probe-%'").fetchone()
        assert probes == (sum(step[3] for step in steps.values()),), "every write acknowledged is there"
        unfilled = db.execute(
            "SELECT count(*) FROM chat_tasks WHERE id LIKE 't%' AND search_bubbles <> 'around 22 degrees in lisbon"
            " in may cooler at night'"
        ).fetchone()
        assert unfilled == (0,), "every task's search columns filled by 0005's rule"
        last = ROWS - 1
        found = db.execute("SELECT id FROM chat_tasks WHERE search_vector @@ to_tsquery('simple', %s)", (str(last),))
        assert found.fetchall() == [(f"t{last:07}",)], "the full-text index covers the tasks stored before"
    # A revision holds its locks to its own end, not the upgrade's; those that only add an index or a
    # column hold them briefly whatever the size. The docstrings of 0003 and 0005 state the others.
    for revision, (took, read, write, *_) in steps.items():
        assert read <= took + 0.5 and write <= took + 0.5, revision
    for revision in ("0004", "0006"):  # a second for PostgreSQL to find a deadlock, if one comes
        assert steps[revision][0] < 3, f"{revision} adds columns and indexes to small tables: brief"
