"""Growth: does a page cost more when there are more rows? p50 over HTTP, PostgreSQL, in two parts.

1. Other users' rows: a sessions page and a history page of one user with 50 sessions and a session
   of 50 tasks, while `sessions` and `chat_tasks` grow to 10^6 rows of other users.
2. One user's own rows: pages of one session's history as it grows to 100,000 tasks, of one user's
   sessions as they grow to 100,000, and of one agent session's events as it grows to 100,000: the
   first page, one half way down (by cursor), and, for the sessions, the first page with its total
   count (what `pageNumber` paging costs).

Rows are bulk-loaded with COPY between measurements. Run: `python -m benchmarks.growth [--sizes ...]`.
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
from domain.paging import SortKey, encode_cursor
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
    return await p50_as(base, path, USER, reads)


async def seed_measured(base: str) -> None:
    async with HttpConnection(base, USER) as client:
        for i in range(50):
            await client.request("POST", "/api/v1/sessions", {"id": f"mine-{i}"})
        for i in range(50):
            await client.request(
                "POST", "/api/v1/sessions/mine-0/chat-tasks", {"taskId": f"mine-t{i}", "messageBubbles": BUBBLES}
            )


AGENT = "bench-agent"
CONFIG = """session_service:
  type: sql
  database_url: "{url}"
agents:
  - name: bench-agent
    session_service: {{type: sql, database_url: "{url}"}}
logging:
  level: WARNING
"""


def grow_own(url: str, start: int, stop: int) -> None:
    """The measured user's own rows start..stop-1: tasks of session `long`, sessions of their own
    (as `many`), events of the agent session `long`."""
    event = json.dumps({"content": {"parts": [{"text": "a message of some length " * 4}]}})
    with psycopg.connect(url, autocommit=True) as connection, connection.cursor() as cursor:
        columns = "id, session_id, user_id, message_bubbles, created_time, updated_time"
        with cursor.copy(f"COPY chat_tasks ({columns}) FROM STDIN") as copy:
            for i in range(start, stop):
                copy.write_row((f"long-{i:06}", "long", "measured", BUBBLES, 10_000 + i, 10_000 + i))
        with cursor.copy("COPY sessions (id, user_id, created_time, updated_time) FROM STDIN") as copy:
            for i in range(start, stop):
                copy.write_row((f"many-{i:06}", "many", i, i))
        columns = "app_name, user_id, session_id, sequence, id, invocation_id, author, timestamp, body"
        with cursor.copy(f"COPY agent_events ({columns}) FROM STDIN") as copy:
            for i in range(start, stop):
                copy.write_row((AGENT, "measured", "long", i + 1, f"e{i}", "inv", "user", i, event))
        cursor.execute("UPDATE agent_sessions SET last_sequence = %s, version = %s WHERE id = 'long'", (stop, stop + 1))
        for table in ("sessions", "chat_tasks", "agent_events"):
            cursor.execute(f"ANALYZE {table}")


async def seed_own(base: str) -> None:
    async with HttpConnection(base, USER) as client:
        await client.request("POST", "/api/v1/sessions", {"id": "long"})
        await client.request("POST", f"/api/v1/agents/{AGENT}/sessions", {"sessionId": "long"})


def own_pages(size: int) -> dict[str, tuple[str, dict[str, str]]]:
    """Each page measured at `size` rows: its path, and whose it is."""
    middle = size // 2
    history_cursor = encode_cursor(SortKey(10_000 + middle, f"long-{middle:06}"))
    sessions_cursor = encode_cursor(SortKey(middle, f"many-{middle:06}"))
    many = {"X-User-Id": "many"}
    events = f"/api/v1/agents/{AGENT}/sessions/long/events"
    return {
        "history, first page": ("/api/v1/sessions/long/chat-tasks?limit=20", USER),
        "history, half way": (f"/api/v1/sessions/long/chat-tasks?limit=20&cursor={history_cursor}", USER),
        "sessions, first page + total": ("/api/v1/sessions?pageSize=20", many),
        "sessions, half way (cursor)": (f"/api/v1/sessions?pageSize=20&cursor={sessions_cursor}", many),
        "events, first page": (f"{events}?limit=20", USER),
        "events, half way": (f"{events}?afterSequence={middle}&limit=20", USER),
        "agent session, 20 recent": (f"/api/v1/agents/{AGENT}/sessions/long?numRecentEvents=20", USER),
    }


async def p50_as(base: str, path: str, headers: dict[str, str], reads: int) -> float:
    async with HttpConnection(base, headers) as client:
        await client.request("GET", path)
        samples = []
        for _ in range(reads):
            started = time.perf_counter()
            status, _ = await client.request("GET", path)
            samples.append(time.perf_counter() - started)
            assert status == 200, path
    return statistics.median(samples) * 1000


def own_rows(sizes: list[int], reads: int) -> None:
    print(f"\nOne user's own rows: p50 ms of each page, {reads} reads each")
    figures: dict[str, list[float]] = {}
    with throwaway_postgres() as url:
        migrate.upgrade("gateway", url)
        migrate.upgrade("agent", url)
        with running_server(url, CONFIG.format(url=url)) as base:
            asyncio.run(seed_own(base))
            loaded = 0
            for size in sizes:
                grow_own(url, loaded, size)
                loaded = size
                for name, (path, headers) in own_pages(size).items():
                    figures.setdefault(name, []).append(asyncio.run(p50_as(base, path, headers, reads)))
    print(f"  {'page':<32}" + "".join(f"{size:>12,}" for size in sizes) + f"{'largest/smallest':>18}")
    for name, values in figures.items():
        row = "".join(f"{value:>12.2f}" for value in values)
        print(f"  {name:<32}{row}{values[-1] / values[0]:>17.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--own-sizes", default="100,10000,100000")
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
    own_rows([int(s) for s in args.own_sizes.split(",")], args.reads)


if __name__ == "__main__":
    main()
