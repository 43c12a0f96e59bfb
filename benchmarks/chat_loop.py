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


async def start_conversation(client: HttpConnection, user: str, turn: int) -> None:
    """A conversation's first turn makes its session first, as the gateway does on the first
    message (not timed: the loop times what each turn repeats)."""
    if turn % TURNS_PER_SESSION == 0:
        await client.request("POST", "/api/v1/sessions", {"id": f"{user}-s{turn // TURNS_PER_SESSION}"})


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
            await start_conversation(client, user, turn)
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
                if route == "save task":
                    await start_conversation(client, user, turn)
                await timed(client, stats, *turn_calls(user, turn)[ROUTES.index(route)])
                turn += route == "save task"

    return worker


async def seed_users(base: str, count: int) -> list[str]:
    users = [f"reader-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    for user in users:
        async with HttpConnection(base, {"X-User-Id": user}) as client:
            for turn in range(SEEDED_TURNS):
                await start_conversation(client, user, turn)
                # A failed seed shows as the readers' errors (404) in the phase that follows.
                await client.request(*turn_calls(user, turn)[0][1:])
    return users


async def health_client(base: str, stop_at: float, stats: Latencies) -> None:
    async with HttpConnection(base) as client:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status, _ = await client.request("GET", "/health")
            stats.add(FLOOR, time.perf_counter() - started)
            if status != 200:
                stats.errors += 1


# How long a client may take past the end of a measurement before it counts as stalled: beyond the
# 30 s a SQLAlchemy pool waits for a connection, so a server stuck there answers (or fails) first.
GRACE_SECONDS = 35


async def run(base: str, clients: int, seconds: float, worker: Worker) -> tuple[Latencies, float]:
    stats = Latencies()
    started = time.perf_counter()
    stop_at = started + seconds
    tasks = [asyncio.create_task(worker(base, stop_at, stats)) for _ in range(clients)]
    _, pending = await asyncio.wait(tasks, timeout=seconds + GRACE_SECONDS)
    for task in pending:
        task.cancel()
    stats.stalled = len(pending)
    return stats, time.perf_counter() - started


Measured = tuple[Latencies, float]
SEED_TIMEOUT_SECONDS = 120


class Phases:
    """Runs the measurements, giving up on a server once it has stalled: a wedged server would only
    make every later phase wait out its timeouts (the incumbent-style app wedges at 64 clients)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.wedged: set[str] = set()

    def run(self, server: str, clients: int, worker: Worker) -> Measured:
        if server in self.wedged:
            return Latencies(stalled=clients), 0.0
        measured = asyncio.run(run(server, clients, self.seconds, worker))
        if measured[0].stalled:
            self.wedged.add(server)
        return measured

    def alone(self, server: str, clients: int, route: str) -> Measured:
        if server in self.wedged:
            return Latencies(stalled=clients), 0.0
        try:
            users = asyncio.run(asyncio.wait_for(seed_users(server, clients), SEED_TIMEOUT_SECONDS))
        except TimeoutError:
            self.wedged.add(server)
            return Latencies(stalled=clients), 0.0
        return self.run(server, clients, route_client(route, users))


def ratio(mine: float, theirs: float) -> str:
    return f"{mine / theirs:.2f}x" if theirs else "n/a"


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
        f"{ratio(totals[0], totals[1])} the incumbent's {totals[1]:.0f} req/s"
    )
    print("  each route alone (every client on that route: its capacity)")
    for route, pair in alone.items():
        _compare(pair, (route,), floor_rate)
    mine = [floor[0], ours[0], *(p[0][0] for p in alone.values())]
    theirs = [incumbent[0], *(p[1][0] for p in alone.values())]
    print(
        f"  errors: ours {sum(s.errors for s in mine)}, incumbent {sum(s.errors for s in theirs)}; clients stalled "
        f"past the end (> {GRACE_SECONDS} s): ours {sum(s.stalled for s in mine)}, "
        f"incumbent {sum(s.stalled for s in theirs)}"
    )
    save_ours, save_theirs = (m[0].row("save task", m[1])[2] for m in alone["save task"])
    print(
        f"  raw driver floor (psycopg, one INSERT per round trip, {clients} connection(s)): {raw:.0f}/s; save task "
        f"alone = {save_ours / raw:.2f} x that floor, {ratio(save_ours, save_theirs)} the incumbent"
    )
    reads = [m[0].row(r, m[1])[2] / floor_rate for r in ("read history", "list sessions") for m in alone[r][:1]]
    print(f"  reads alone: {reads[0]:.2f} (history) and {reads[1]:.2f} (sessions) x the /health floor")


def _compare(pair: tuple[Measured, Measured], routes: tuple[str, ...], floor_rate: float) -> None:
    (ours, ours_elapsed), (theirs, theirs_elapsed) = pair
    for route in routes:
        ours_row, theirs_row = ours.row(route, ours_elapsed), theirs.row(route, theirs_elapsed)
        versus = f"{ratio(ours_row[2], theirs_row[2]):>14}"
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
    print("Session Store chat-loop benchmark: PostgreSQL, one `session-store serve` process (Granian,")
    print("1 worker) against the incumbent's architecture (benchmarks/incumbent_gateway.py: FastAPI +")
    print(
        f"sync SQLAlchemy, uvicorn, 1 worker) on the same database server; client, servers and database on one "
        f"machine ({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}); "
        f"{args.seconds:.0f}s per measurement"
    )
    levels = [int(c) for c in args.clients.split(",")]
    with throwaway_postgres() as url, throwaway_postgres() as incumbent_url:
        # First, with no server holding connections: 64 of them and two servers' pools would pass
        # PostgreSQL's default max_connections (100).
        raw = {clients: asyncio.run(raw_insert_floor(url, clients, args.seconds)) for clients in levels}
        with running_server(url) as base, running_baseline("incumbent_gateway.py", incumbent_url) as incumbent_base:
            phases = Phases(args.seconds)
            for clients in levels:
                floor = phases.run(base, clients, health_client)
                ours, theirs = (phases.run(server, clients, chat_client) for server in (base, incumbent_base))
                alone = {
                    route: (phases.alone(base, clients, route), phases.alone(incumbent_base, clients, route))
                    for route in ROUTES
                }
                report(clients, floor, (ours, theirs), alone, raw[clients])


if __name__ == "__main__":
    main()
