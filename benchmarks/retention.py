"""The chat loop's latency while the server purges 100,000 sessions (issue 16: the purge works in
small batches and never holds a lock long enough to delay a request).

PostgreSQL, one `serve` process with `retention.gateway_days: 30`: the database holds 100,000
sessions (one chat task each) untouched for 40 days. The chat loop runs at 16 clients first before the
purge (the baseline, same run), then from the server's first purge until no old session is left.

Usage: python -m benchmarks.retention [--sessions 100000] [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import psycopg

from benchmarks.chat_loop import ROUTES, chat_client, run
from benchmarks.support import Latencies, running_server, throwaway_postgres
from domain.gateway.model import ChatTask
from domain.retention import DAY_MS
from infrastructure.sql import migrate

FIRST_PURGE_S = 12  # the server's retention interval: the baseline runs before the first purge
BUBBLES = json.dumps([{"type": "agent", "text": "Around 22 degrees in Lisbon in May, cooler at night."}])


def seed(url: str, sessions: int) -> None:
    """`sessions` sessions of 1,000 users, one task each, as the server writes them, 40 days old."""
    old = int(time.time() * 1000) - 40 * DAY_MS
    task = ChatTask("t", "s", "u", "How warm is Lisbon?", BUBBLES, None, old, old)
    with psycopg.connect(url, autocommit=True) as db, db.cursor() as cursor:
        with cursor.copy("COPY sessions (id, user_id, created_time, updated_time) FROM STDIN") as copy:
            for n in range(sessions):
                copy.write_row((f"old-{n}", f"user-{n % 1000}", old, old))
        columns = "id, session_id, user_id, user_message, message_bubbles, created_time, updated_time, search_message"
        with cursor.copy(f"COPY chat_tasks ({columns}) FROM STDIN") as copy:
            for n in range(sessions):
                row = (f"old-{n}-t", f"old-{n}", f"user-{n % 1000}", task.user_message, BUBBLES, old, old)
                copy.write_row((*row, task.search_message()))
        cursor.execute("ANALYZE")


def old_sessions(url: str) -> int:
    with psycopg.connect(url) as db:
        found = db.execute("SELECT count(*) FROM sessions WHERE id LIKE 'old-%'").fetchone()
        return int(found[0]) if found else 0


def merged(parts: list[tuple[Latencies, float]]) -> tuple[Latencies, float]:
    total = Latencies()
    for stats, _ in parts:
        for route, samples in stats.samples.items():
            total.samples.setdefault(route, []).extend(samples)
        total.errors += stats.errors
    return total, sum(elapsed for _, elapsed in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    print(f"Retention: the chat loop at {args.clients} clients while the server purges {args.sessions:,} sessions")
    with throwaway_postgres() as url:
        migrate.upgrade("gateway", url)
        seed(url, args.sessions)
        config = (
            f'session_service:\n  type: sql\n  database_url: "{url}"\n  pool_size: 20\n'
            f"retention: {{gateway_days: 30, interval_seconds: {FIRST_PURGE_S}}}\n"
            "agents: []\nlogging:\n  level: WARNING\n"
        )
        with running_server(url, config) as server:
            started = time.monotonic()
            before = asyncio.run(run(server, args.clients, 5, chat_client))
            assert old_sessions(url) == args.sessions, "the purge began before the baseline ended"
            time.sleep(max(0.0, FIRST_PURGE_S - (time.monotonic() - started)))
            during, purge_started = [], time.monotonic()
            while old_sessions(url):
                during.append(asyncio.run(run(server, args.clients, 2, chat_client)))
            purge_took = time.monotonic() - purge_started
    print(f"  the purge took about {purge_took:.0f} s ({args.sessions / purge_took:,.0f} sessions/s)")
    print(f"  {'route':<16}{'p50 before':>11}{'p99 before':>11}{'p50 during':>11}{'p99 during':>11}{'req/s':>13}")
    during_all = merged(during)
    for route in ROUTES:
        _, _, rate_b, p50_b, p99_b = before[0].row(route, before[1])
        _, _, rate_d, p50_d, p99_d = during_all[0].row(route, during_all[1])
        cells = f"{p50_b:>9.1f}ms{p99_b:>9.1f}ms{p50_d:>9.1f}ms{p99_d:>9.1f}ms"
        print(f"  {route:<16}{cells}{rate_b:>6.0f}->{rate_d:<6.0f}")
    print(f"  errors: before {before[0].errors}, during {during_all[0].errors}")


if __name__ == "__main__":
    main()
