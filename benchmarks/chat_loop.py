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
from collections.abc import Awaitable, Callable

from benchmarks.http_client import HttpConnection
from benchmarks.support import Latencies, raw_insert_floor, running_baseline, running_server, throwaway_postgres

TURNS_PER_SESSION = 20
FLOOR = "/health (floor)"
ROUTES = ("save task", "read history", "list sessions")
Worker = Callable[[str, float, Latencies], Awaitable[None]]
BUBBLES = json.dumps(
    [
        {"type": "user", "text": "How warm is Lisbon in May?"},
        {"type": "agent", "text": "Around 22°C in the afternoon, cooler at night. " * 4},
    ]
)


def turn_calls(user: str, turn: int) -> list[tuple[str, str, str, object]]:
    """A user's turn in a conversation: save the task, read the history, list the sessions."""
    session = f"{user}-s{turn // TURNS_PER_SESSION}"
    task = {"taskId": f"{session}-t{turn}", "userMessage": "How warm is Lisbon in May?", "messageBubbles": BUBBLES}
    return [
        ("save task", "POST", f"/api/v1/sessions/{session}/chat-tasks", task),
        ("read history", "GET", f"/api/v1/sessions/{session}/chat-tasks", None),
        ("list sessions", "GET", "/api/v1/sessions?pageSize=20", None),
    ]


async def timed(client: HttpConnection, stats: Latencies, route: str, method: str, path: str, body: object) -> None:
    started = time.perf_counter()
    status, _ = await client.request(method, path, body)
    stats.add(route, time.perf_counter() - started)
    if status >= 400:
        stats.errors += 1


async def chat_client(base: str, stop_at: float, stats: Latencies) -> None:
    user = f"bench-{uuid.uuid4().hex[:8]}"
    async with HttpConnection(base, {"X-User-Id": user}) as client:
        turn = 0
        while time.perf_counter() < stop_at:
            for call in turn_calls(user, turn):
                await timed(client, stats, *call)
            turn += 1


SEEDED_TURNS = TURNS_PER_SESSION // 2  # what a chat-loop conversation holds on average


def route_client(route: str, users: list[str]) -> Worker:
    """One route alone, as fast as the clients go: the route's own capacity. Readers read a
    conversation of SEEDED_TURNS tasks; writers write new tasks, 20 to a session."""
    pending = iter(users)

    async def worker(base: str, stop_at: float, stats: Latencies) -> None:
        user = next(pending)
        async with HttpConnection(base, {"X-User-Id": user}) as client:
            turn = SEEDED_TURNS
            while time.perf_counter() < stop_at:
                await timed(client, stats, *turn_calls(user, turn)[ROUTES.index(route)])
                turn += route == "save task"

    return worker


async def seed_users(base: str, count: int) -> list[str]:
    users = [f"reader-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    for user in users:
        async with HttpConnection(base, {"X-User-Id": user}) as client:
            for turn in range(SEEDED_TURNS):
                status, _ = await client.request(*turn_calls(user, turn)[0][1:])
                assert status < 300, status
    return users


async def health_client(base: str, stop_at: float, stats: Latencies) -> None:
    async with HttpConnection(base) as client:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status, _ = await client.request("GET", "/health")
            stats.add(FLOOR, time.perf_counter() - started)
            if status != 200:
                stats.errors += 1


async def run(base: str, clients: int, seconds: float, worker: Worker) -> tuple[Latencies, float]:
    stats = Latencies()
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(worker(base, stop_at, stats) for _ in range(clients)))
    return stats, time.perf_counter() - started


Measured = tuple[Latencies, float]


def report(
    clients: int,
    floor: Measured,
    mixed: tuple[Measured, Measured],
    alone: dict[str, tuple[Measured, Measured]],
    raw: float,
) -> None:
    floor_rate = floor[0].row(FLOOR, floor[1])[2]
    print(f"\n{clients} concurrent client(s)")
    print(
        f"  {'server':<11}{'route':<16}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'vs floor':>10}{'vs incumbent':>14}"
    )
    print(f"  {'ours':<11}" + _cells(floor[0].row(FLOOR, floor[1]), floor_rate))
    print("  the chat loop (each client: save, read history, list sessions, in turn)")
    _compare(mixed, ROUTES, floor_rate)
    ours, incumbent = mixed
    totals = [sum(stats.row(r, elapsed)[2] for r in ROUTES) for stats, elapsed in mixed]
    print(
        f"  chat loop: ours {totals[0]:.0f} req/s = {totals[0] / floor_rate:.2f} x the /health floor, "
        f"{totals[0] / max(totals[1], 1e-9):.2f} x the incumbent's {totals[1]:.0f} req/s"
    )
    print("  each route alone (every client on that route: its capacity)")
    for route, pair in alone.items():
        _compare(pair, (route,), floor_rate)
    errors = floor[0].errors + sum(m[0].errors for m in (ours, *(p[0] for p in alone.values())))
    their_errors = incumbent[0].errors + sum(p[1][0].errors for p in alone.values())
    print(f"  errors: ours {errors}, incumbent {their_errors}")
    save_ours, save_theirs = (m[0].row("save task", m[1])[2] for m in alone["save task"])
    print(
        f"  raw driver floor (psycopg, one INSERT per round trip, {clients} connection(s)): {raw:.0f}/s; save task "
        f"alone = {save_ours / raw:.2f} x that floor, {save_ours / max(save_theirs, 1e-9):.2f} x the incumbent"
    )
    reads = [m[0].row(r, m[1])[2] / floor_rate for r in ("read history", "list sessions") for m in alone[r][:1]]
    print(f"  reads alone: {reads[0]:.2f} (history) and {reads[1]:.2f} (sessions) x the /health floor")


def _compare(pair: tuple[Measured, Measured], routes: tuple[str, ...], floor_rate: float) -> None:
    (ours, ours_elapsed), (theirs, theirs_elapsed) = pair
    for route in routes:
        ours_row, theirs_row = ours.row(route, ours_elapsed), theirs.row(route, theirs_elapsed)
        versus = f"{ours_row[2] / theirs_row[2]:>13.2f}x" if theirs_row[2] else f"{'-':>14}"
        print(f"  {'ours':<11}" + _cells(ours_row, floor_rate) + versus)
        print(f"  {'incumbent':<11}" + _cells(theirs_row, floor_rate))


def _cells(row: tuple[str, int, float, float, float], floor_rate: float) -> str:
    route, count, rate, p50, p99 = row
    return f"{route:<16}{count:>9}{rate:>8.0f}{p50:>8.2f}{p99:>8.2f}{rate / floor_rate:>10.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", default="1,16,64", help="comma-separated concurrency levels (default 1,16,64)")
    parser.add_argument("--seconds", type=float, default=5, help="duration of each measurement (default 5)")
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
        servers = (base, incumbent_base)
        for clients in (int(c) for c in args.clients.split(",")):
            floor = asyncio.run(run(base, clients, args.seconds, health_client))
            ours, theirs = (asyncio.run(run(server, clients, args.seconds, chat_client)) for server in servers)
            alone = {}
            for route in ROUTES:
                ours_alone, theirs_alone = (
                    asyncio.run(
                        run(
                            server, clients, args.seconds, route_client(route, asyncio.run(seed_users(server, clients)))
                        )
                    )
                    for server in servers
                )
                alone[route] = (ours_alone, theirs_alone)
            raw = asyncio.run(raw_insert_floor(url, clients, args.seconds))
            report(clients, floor, (ours, theirs), alone, raw)


if __name__ == "__main__":
    main()
