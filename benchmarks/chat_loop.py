"""Chat-loop load benchmark against PostgreSQL, beside the framework floor measured in the same run.

Each client plays a user chatting: save a chat task, read the session's history, list its sessions;
every 20 turns it starts a new conversation, as real users do. The floor is the same server's
`/health` under the same concurrency. Run: `make bench` or `python -m benchmarks.chat_loop --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
import uuid

from benchmarks.http_client import HttpConnection
from benchmarks.support import Latencies, raw_insert_floor, running_baseline, running_server, throwaway_postgres

TURNS_PER_SESSION = 20
FLOOR = "/health (floor)"
ROUTES = ("save task", "read history", "list sessions")
BUBBLES = json.dumps(
    [
        {"type": "user", "text": "How warm is Lisbon in May?"},
        {"type": "agent", "text": "Around 22°C in the afternoon, cooler at night. " * 4},
    ]
)


async def chat_client(base: str, stop_at: float, stats: Latencies) -> None:
    user = f"bench-{uuid.uuid4().hex[:8]}"
    async with HttpConnection(base, {"X-User-Id": user}) as client:
        turn = 0
        while time.perf_counter() < stop_at:
            session = f"{user}-s{turn // TURNS_PER_SESSION}"
            calls = [
                (
                    "save task",
                    "POST",
                    f"/api/v1/sessions/{session}/chat-tasks",
                    {
                        "taskId": f"{session}-t{turn}",
                        "userMessage": "How warm is Lisbon in May?",
                        "messageBubbles": BUBBLES,
                    },
                ),
                ("read history", "GET", f"/api/v1/sessions/{session}/chat-tasks", None),
                ("list sessions", "GET", "/api/v1/sessions?pageSize=20", None),
            ]
            for route, method, path, body in calls:
                started = time.perf_counter()
                status, _ = await client.request(method, path, body)
                stats.add(route, time.perf_counter() - started)
                if status >= 400:
                    stats.errors += 1
            turn += 1


async def health_client(base: str, stop_at: float, stats: Latencies) -> None:
    async with HttpConnection(base) as client:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status, _ = await client.request("GET", "/health")
            stats.add(FLOOR, time.perf_counter() - started)
            if status != 200:
                stats.errors += 1


async def run(base: str, clients: int, seconds: float, worker) -> tuple[Latencies, float]:  # type: ignore[no-untyped-def]
    stats = Latencies()
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(worker(base, stop_at, stats) for _ in range(clients)))
    return stats, time.perf_counter() - started


def report(
    clients: int,
    floor: tuple[Latencies, float],
    ours: tuple[Latencies, float],
    incumbent: tuple[Latencies, float],
    raw: float,
) -> None:
    floor_rate = floor[0].row(FLOOR, floor[1])[2]
    print(f"\n{clients} concurrent client(s)")
    print(
        f"  {'server':<11}{'route':<16}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'vs floor':>10}{'vs incumbent':>14}"
    )
    print(f"  {'ours':<11}" + _cells(floor[0].row(FLOOR, floor[1]), floor_rate))
    for route in ROUTES:
        ours_row, theirs_row = ours[0].row(route, ours[1]), incumbent[0].row(route, incumbent[1])
        versus = f"{ours_row[2] / theirs_row[2]:>13.2f}x" if theirs_row[2] else f"{'-':>14}"
        print(f"  {'ours':<11}" + _cells(ours_row, floor_rate) + versus)
        print(f"  {'incumbent':<11}" + _cells(theirs_row, floor_rate))
    totals = [sum(stats.row(r, elapsed)[2] for r in ROUTES) for stats, elapsed in (ours, incumbent)]
    print(
        f"  chat loop: ours {totals[0]:.0f} req/s = {totals[0] / floor_rate:.2f} x the /health floor, "
        f"{totals[0] / max(totals[1], 1e-9):.2f} x the incumbent's {totals[1]:.0f} req/s; "
        f"errors: ours {ours[0].errors + floor[0].errors}, incumbent {incumbent[0].errors}"
    )
    writes = ours[0].row("save task", ours[1])[2]
    print(
        f"  raw driver floor (psycopg, one INSERT per round trip, {clients} connection(s)): {raw:.0f}/s; "
        f"save task = {writes / raw:.2f} x that floor"
    )


def _cells(row: tuple[str, int, float, float, float], floor_rate: float) -> str:
    route, count, rate, p50, p99 = row
    return f"{route:<16}{count:>9}{rate:>8.0f}{p50:>8.2f}{p99:>8.2f}{rate / floor_rate:>10.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", default="1,16,64", help="comma-separated concurrency levels (default 1,16,64)")
    parser.add_argument("--seconds", type=float, default=10, help="duration of each measurement (default 10)")
    args = parser.parse_args()
    print("Session Store chat-loop benchmark: PostgreSQL, one `session-store serve` process (uvicorn, uvloop,")
    print("httptools, 1 worker) against the incumbent's architecture (benchmarks/incumbent_gateway.py: FastAPI +")
    print(
        f"sync SQLAlchemy, uvicorn, 1 worker) on the same database server; client, servers and database on one "
        f"machine ({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}); "
        f"{args.seconds:.0f}s per measurement"
    )
    with (
        throwaway_postgres() as url,
        throwaway_postgres() as incumbent_url,
        running_server(url) as base,
        running_baseline("incumbent_gateway.py", incumbent_url) as incumbent_base,
    ):
        for clients in (int(c) for c in args.clients.split(",")):
            floor = asyncio.run(run(base, clients, args.seconds, health_client))
            ours = asyncio.run(run(base, clients, args.seconds, chat_client))
            incumbent = asyncio.run(run(incumbent_base, clients, args.seconds, chat_client))
            raw = asyncio.run(raw_insert_floor(url, clients, args.seconds))
            report(clients, floor, ours, incumbent, raw)


if __name__ == "__main__":
    main()
