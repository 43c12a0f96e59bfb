"""Growth: does a page cost more when the tables hold more rows? p50 of a sessions page and of a
history page over HTTP with 10^3, 10^5 and 10^6 rows in `sessions` and in `chat_tasks`.

Other users' rows are bulk-loaded with COPY between measurements; the measured user always has the
same 50 sessions and a session with 50 tasks. Run: `python -m benchmarks.growth [--sizes ...]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import psycopg

from benchmarks.http_client import HttpConnection
from benchmarks.support import running_server, throwaway_postgres
from infrastructure.sql import migrate

BUBBLES = json.dumps([{"type": "agent", "text": "a reply of some length " * 4}])
USER = {"X-User-Id": "measured"}


def load(url: str, start: int, stop: int) -> None:
    """Rows start..stop-1 for other users: a session each, and a task each."""
    with psycopg.connect(url, autocommit=True) as connection, connection.cursor() as cursor:
        with cursor.copy("COPY sessions (id, user_id, name, created_time, updated_time) FROM STDIN") as copy:
            for i in range(start, stop):
                copy.write_row((f"bulk-{i}", f"user-{i % 50_000}", None, i, i))
        columns = "id, session_id, user_id, message_bubbles, created_time, updated_time"
        with cursor.copy(f"COPY chat_tasks ({columns}) FROM STDIN") as copy:
            for i in range(start, stop):
                copy.write_row((f"bulk-task-{i}", f"bulk-{i}", f"user-{i % 50_000}", BUBBLES, i, i))
        cursor.execute("ANALYZE sessions")
        cursor.execute("ANALYZE chat_tasks")


async def p50_ms(base: str, path: str, reads: int) -> float:
    async with HttpConnection(base, USER) as client:
        await client.request("GET", path)
        samples = []
        for _ in range(reads):
            started = time.perf_counter()
            status, _ = await client.request("GET", path)
            samples.append(time.perf_counter() - started)
            assert status == 200
    return statistics.median(samples) * 1000


async def seed_measured(base: str) -> None:
    async with HttpConnection(base, USER) as client:
        for i in range(50):
            await client.request("POST", "/api/v1/sessions", {"id": f"mine-{i}"})
        for i in range(50):
            await client.request(
                "POST", "/api/v1/sessions/mine-0/chat-tasks", {"taskId": f"mine-t{i}", "messageBubbles": BUBBLES}
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--reads", type=int, default=400)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("Growth benchmark: PostgreSQL, one `session-store serve` process, p50 of", args.reads, "reads each")
    print(f"  {'rows per table':>15}{'sessions page ms':>18}{'history page ms':>17}")
    results = []
    with throwaway_postgres() as url:
        migrate.upgrade("gateway", url)
        with running_server(url) as base:
            asyncio.run(seed_measured(base))
            loaded = 0
            for size in sizes:
                load(url, loaded, size)
                loaded = size
                sessions = asyncio.run(p50_ms(base, "/api/v1/sessions?pageSize=20", args.reads))
                history = asyncio.run(p50_ms(base, "/api/v1/sessions/mine-0/chat-tasks?limit=20", args.reads))
                results.append((sessions, history))
                print(f"  {size:>15,}{sessions:>18.2f}{history:>17.2f}")
    (s0, h0), (s1, h1) = results[0], results[-1]
    print(f"  largest / smallest: sessions {s1 / s0:.2f}x, history {h1 / h0:.2f}x (target: within 1.5x)")


if __name__ == "__main__":
    main()
