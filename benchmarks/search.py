"""Message search over a million chat tasks: the full-text index against a LIKE scan of the same data.

1,000,000 tasks of 100 users (10,000 each), each a user message and an answer of about 30 words
drawn from a 20,000-word vocabulary with a Zipf-like frequency, as chat text has. Queries: one word
and two words of middling frequency, for a random user. Measured in process through
`GatewayService.search_messages` (the route's whole work but HTTP), p50 and p95 over the queries,
beside a `LIKE '%word%'` scan of the same user's tasks for the same words, in the same run, on
PostgreSQL and SQLite. Run: `python -m benchmarks.search [--tasks 1000000]` (needs the development
machine's PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import psycopg

from benchmarks.support import throwaway_postgres
from domain.gateway.model import ChatTask
from domain.gateway.service import GatewayService
from infrastructure.sql import migrate
from infrastructure.sql.gateway.store import SqlGatewayStore
from infrastructure.sql.urls import sqlite_path

USERS = 100
VOCABULARY = 20_000
WORDS_PER_TASK = 30
QUERIES = 200
SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "da",
    "de",
    "di",
    "do",
    "du",
    "ka",
    "ke",
    "ki",
    "ko",
    "ku",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "na",
    "ne",
    "ni",
    "no",
    "nu",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "sa",
    "se",
    "si",
    "so",
    "su",
    "ta",
    "te",
    "ti",
    "to",
    "tu",
]


def vocabulary(rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def tasks(count: int, words: list[str], rng: random.Random) -> Iterator[tuple[str, str, str, str, str]]:
    """(id, session id, user id, user message, bubbles JSON), users taking turns."""
    weights = [1 / (rank + 1) for rank in range(len(words))]
    cumulative = list(_accumulate(weights))
    for i in range(count):
        drawn = rng.choices(words, cum_weights=cumulative, k=WORDS_PER_TASK)
        user = f"user-{i % USERS}"
        message = " ".join(drawn[:8]).capitalize() + "?"
        bubbles = json.dumps([{"type": "agent", "text": " ".join(drawn[8:]).capitalize() + "."}])
        yield f"t-{i}", f"{user}-s{i // (USERS * 20)}", user, message, bubbles


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def rows(count: int, words: list[str], rng: random.Random) -> Iterator[tuple[object, ...]]:
    for task_id, session_id, user, message, bubbles in tasks(count, words, rng):
        task = ChatTask(task_id, session_id, user, message, bubbles, None, 1, 1)
        yield (task_id, session_id, user, message, bubbles, None, 1, 1, task.search_message(), task.search_bubbles())


COLUMNS = (
    "id, session_id, user_id, user_message, message_bubbles, task_metadata, created_time, updated_time, "
    "search_message, search_bubbles"
)


def sessions(count: int) -> Iterator[tuple[str, str]]:
    for i in range(0, count, USERS * 20):
        for user in range(USERS):
            yield f"user-{user}-s{i // (USERS * 20)}", f"user-{user}"


def load_postgres(url: str, count: int, words: list[str]) -> None:
    migrate.upgrade("gateway", url)
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DROP INDEX ix_chat_tasks_search_vector")  # built once after the load: faster
        with db.cursor() as cursor:
            with cursor.copy("COPY sessions (id, user_id, created_time, updated_time) FROM STDIN") as copy:
                for session_id, user in sessions(count):
                    copy.write_row((session_id, user, 1, 1))
            with cursor.copy(f"COPY chat_tasks ({COLUMNS}) FROM STDIN") as copy:
                for row in rows(count, words, random.Random(1)):
                    copy.write_row(row)
        db.execute("CREATE INDEX ix_chat_tasks_search_vector ON chat_tasks USING gin (search_vector)")
        db.execute("ANALYZE chat_tasks")


def load_sqlite(url: str, count: int, words: list[str]) -> None:
    migrate.upgrade("gateway", url)
    with sqlite3.connect(sqlite_path(url)) as db:
        db.executemany(
            "INSERT INTO sessions (id, user_id, created_time, updated_time) VALUES (?, ?, 1, 1)", sessions(count)
        )
        db.executemany(
            f"INSERT INTO chat_tasks ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows(count, words, random.Random(1)),
        )
        db.execute("ANALYZE")


LIKE_SCAN = (
    "SELECT id FROM chat_tasks WHERE user_id = {p} AND (search_message LIKE {p} OR search_bubbles LIKE {p}) "
    "ORDER BY created_time DESC, id LIMIT 21"
)


def queries(words: list[str], rng: random.Random) -> list[tuple[str, list[str]]]:
    """(user, words): one middling word, or two."""
    middling = words[200:2000]
    return [(f"user-{rng.randrange(USERS)}", rng.sample(middling, 1 if i % 2 else 2)) for i in range(QUERIES)]


async def timed(calls: list[Callable[[], Awaitable[object]]]) -> list[float]:
    times = []
    for call in calls:
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure_index(url: str, asked: list[tuple[str, list[str]]]) -> tuple[list[float], int]:
    async def run() -> tuple[list[float], int]:
        store = SqlGatewayStore.at(url)
        gateway = GatewayService(store)
        hits = 0
        try:
            await gateway.search_messages(*asked[0][0:1], " ".join(asked[0][1]))  # warm the pool

            def one(user: str, query: list[str]) -> Callable[[], Awaitable[object]]:
                async def call() -> None:
                    nonlocal hits
                    found, _ = await gateway.search_messages(user, " ".join(query))
                    hits += len(found)

                return call

            return await timed([one(user, query) for user, query in asked]), hits
        finally:
            await store.close()

    return asyncio.run(run())


def measure_like(run_query: Callable[[str, str], object], asked: list[tuple[str, list[str]]]) -> list[float]:
    times = []
    for user, query in asked:
        pattern = f"%{query[0]}%"
        started = time.perf_counter()
        run_query(user, pattern)
        times.append((time.perf_counter() - started) * 1000)
    return times


def line(name: str, index: list[float], like: list[float]) -> str:
    p50, like_p50 = statistics.median(index), statistics.median(like)
    p95 = statistics.quantiles(index, n=20)[-1]
    return (
        f"  {name:<11} full-text index p50 {p50:7.2f} ms, p95 {p95:7.2f} ms;"
        f"  LIKE scan p50 {like_p50:8.2f} ms ({like_p50 / p50:.1f}x the index)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(7)
    words = vocabulary(rng)
    asked = queries(words, rng)
    print(
        f"Message search over {args.tasks:,} chat tasks of {USERS} users, {QUERIES} queries (one or two words), "
        f"in process ({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})"
    )
    with throwaway_postgres() as url:
        started = time.perf_counter()
        load_postgres(url, args.tasks, words)
        loaded = time.perf_counter() - started
        index, hits = measure_index(url, asked)
        with psycopg.connect(url) as db:
            sql = LIKE_SCAN.format(p="%s")
            like = measure_like(lambda user, pattern: db.execute(sql, (user, pattern, pattern)).fetchall(), asked)
        print(line("PostgreSQL", index, like) + f"  [{hits} hits; loaded in {loaded:.0f} s]")
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'search.db'}"
        started = time.perf_counter()
        load_sqlite(url, args.tasks, words)
        loaded = time.perf_counter() - started
        index, hits = measure_index(url, asked)
        with sqlite3.connect(sqlite_path(url)) as db:
            sql = LIKE_SCAN.format(p="?")
            like = measure_like(lambda user, pattern: db.execute(sql, (user, pattern, pattern)).fetchall(), asked)
        print(line("SQLite", index, like) + f"  [{hits} hits; loaded in {loaded:.0f} s]")


if __name__ == "__main__":
    main()
