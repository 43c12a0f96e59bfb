"""Chat-loop load benchmark against PostgreSQL, beside the framework floor measured in the same run.

Each client plays a user chatting: save a chat task, read the session's history, list its sessions;
every 20 turns it starts a new conversation, as real users do. The floor is the same server's
`/health` under the same concurrency. Run: `make bench` or `python -m benchmarks.chat_loop --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
import uuid

from benchmarks.http_client import HttpConnection
from benchmarks.support import Latencies, raw_insert_floor, running_server, throwaway_postgres

TURNS_PER_SESSION = 20
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
            stats.add("/health (floor)", time.perf_counter() - started)
            if status != 200:
                stats.errors += 1


async def run(base: str, clients: int, seconds: float, worker) -> tuple[Latencies, float]:  # type: ignore[no-untyped-def]
    stats = Latencies()
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(worker(base, stop_at, stats) for _ in range(clients)))
    return stats, time.perf_counter() - started


def report(clients: int, floor: tuple[Latencies, float], chat: tuple[Latencies, float], raw: float) -> None:
    floor_stats, floor_elapsed = floor
    chat_stats, chat_elapsed = chat
    floor_row = floor_stats.row("/health (floor)", floor_elapsed)
    print(f"\n{clients} concurrent client(s)")
    print(f"  {'route':<18}{'requests':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs floor':>10}")
    rows = [floor_row] + [chat_stats.row(r, chat_elapsed) for r in ("save task", "read history", "list sessions")]
    total = sum(r[1] for r in rows[1:]) / chat_elapsed
    for route, count, rate, p50, p99 in rows:
        print(f"  {route:<18}{count:>10}{rate:>10.0f}{p50:>9.2f}{p99:>9.2f}{rate / floor_row[2]:>10.2f}")
    print(
        f"  chat loop total: {total:.0f} req/s = {total / floor_row[2]:.2f} x the /health floor; "
        f"errors: {chat_stats.errors + floor_stats.errors}"
    )
    writes = chat_stats.row("save task", chat_elapsed)[2]
    print(
        f"  raw driver floor (psycopg, one INSERT per round trip, {clients} connection(s)): {raw:.0f}/s; "
        f"save task = {writes / raw:.2f} x that floor"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", default="1,16,64", help="comma-separated concurrency levels (default 1,16,64)")
    parser.add_argument("--seconds", type=float, default=10, help="duration of each measurement (default 10)")
    args = parser.parse_args()
    print("Session Store chat-loop benchmark: PostgreSQL, one `session-store serve` process (uvicorn, 1 worker),")
    print(
        f"client and server on one machine ({platform.machine()}, Python {platform.python_version()}); "
        f"{args.seconds:.0f}s per measurement"
    )
    with throwaway_postgres() as url, running_server(url) as base:
        for clients in (int(c) for c in args.clients.split(",")):
            floor = asyncio.run(run(base, clients, args.seconds, health_client))
            chat = asyncio.run(run(base, clients, args.seconds, chat_client))
            raw = asyncio.run(raw_insert_floor(url, clients, args.seconds))
            report(clients, floor, chat, raw)


if __name__ == "__main__":
    main()
