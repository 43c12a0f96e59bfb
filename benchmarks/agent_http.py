"""Agent store over HTTP against Google ADK's DatabaseSessionService over HTTP, SQLite and PostgreSQL.

Ours: `session-store serve` (Granian, 1 worker) with one agent, `bench`, on the
database. ADK: its session service behind FastAPI + uvicorn (uvloop, httptools, 1 worker), the stack
of its own `adk api_server` (benchmarks/adk_http.py). Both on the same database server, driven by
the same client in the same run: appends (one session; 16 sessions at once), a session with its 20
recent events (histories of 100 / 10,000 / 100,000 events, seeded by bulk insert; 100,000 ours only),
and a whole 10,000-event history (ours: pages of 1,000 events; ADK: its one GET).

Run: `make bench-agent`, or `python -m benchmarks.agent_http --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from benchmarks.agent_store import ROUNDS, TEXT, USER, add_measure_arguments, analyze, seed_history
from benchmarks.http_client import HttpConnection
from benchmarks.support import ServerProcess, running_baseline, running_server, throwaway_postgres

AGENT = "bench"


def event(i: int) -> dict[str, object]:
    return {
        "invocationId": f"inv-{i}",
        "author": "user",
        "content": {"role": "user", "parts": [{"text": TEXT}]},
        "actions": {"stateDelta": {"turn": i}},
    }


@dataclass(frozen=True)
class Routes:
    """Where each operation lives on one of the two servers."""

    sessions: str
    whole_history_pages: bool

    def session(self, session_id: str) -> str:
        return f"{self.sessions}/{session_id}"

    def events(self, session_id: str) -> str:
        return f"{self.sessions}/{session_id}/events"


OURS = Routes(f"/api/v1/agents/{AGENT}/sessions", whole_history_pages=True)
ADK = Routes(f"/apps/{AGENT}/users/{USER}/sessions", whole_history_pages=False)


async def expect(client: HttpConnection, method: str, path: str, body: object = None) -> bytes:
    status, payload = await client.request(method, path, body)
    if status >= 300:
        raise RuntimeError(f"{method} {path}: {status} {payload[:300]!r}")
    return payload


async def appends(base: str, routes: Routes, sessions: int, total: int) -> float:
    """The median of ROUNDS rounds (see benchmarks/agent_store.py)."""
    rates = []
    for _ in range(ROUNDS):
        tag = f"a{sessions}-{time.monotonic_ns()}"

        async def writer(n: int, tag: str = tag) -> None:
            async with HttpConnection(base, {"X-User-Id": USER}) as client:
                session_id = f"{tag}-{n}"
                await expect(client, "POST", routes.sessions, {"sessionId": session_id})
                for i in range(total // sessions):
                    await expect(client, "POST", routes.events(session_id), event(i))

        started = time.perf_counter()
        await asyncio.gather(*(writer(n) for n in range(sessions)))
        rates.append(total // sessions * sessions / (time.perf_counter() - started))
    return statistics.median(rates)


async def mean_ms(base: str, reads: int, paths: list[str], expect_events: int) -> float:
    async with HttpConnection(base, {"X-User-Id": USER}) as client:

        async def once() -> None:
            count = 0
            for path in paths:
                body = json.loads(await expect(client, "GET", path))
                count += len(body["events"] if "events" in body else body["data"])
            assert count == expect_events, (paths[0], count, expect_events)

        await once()
        started = time.perf_counter()
        for _ in range(reads):
            await once()
        return (time.perf_counter() - started) / reads * 1000


async def measure(base: str, routes: Routes, args: argparse.Namespace, sizes: list[int]) -> dict[str, float]:
    figures = {
        "append_sequential_per_s": await appends(base, routes, 1, args.appends),
        "append_16_sessions_per_s": await appends(base, routes, 16, args.appends),
    }
    for size in sizes:
        path = f"{routes.session(f'size-{size}')}?numRecentEvents=20"
        figures[f"recent20_ms_{size}"] = await mean_ms(base, 20, [path], 20)
    whole = f"size-{args.whole}"
    if routes.whole_history_pages:
        paths = [f"{routes.events(whole)}?afterSequence={after}&limit=1000" for after in range(0, args.whole, 1000)]
    else:
        paths = [routes.session(whole)]
    figures["whole_history_ms"] = await mean_ms(base, 3, paths, args.whole)
    return figures


@contextmanager
def database(backend: str) -> Iterator[tuple[str, str]]:
    """(our URL, ADK's URL): two databases on the same server, or two SQLite files."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as work:
            yield f"sqlite:///{work}/ours.db", f"sqlite+aiosqlite:///{work}/adk.db"
    else:
        with throwaway_postgres() as ours, throwaway_postgres() as theirs:
            yield ours, theirs.replace("postgresql://", "postgresql+psycopg://", 1)


def our_config(url: str) -> str:
    return (
        "session_service:\n  type: memory\n"
        f'agents:\n  - name: {AGENT}\n    session_service:\n      type: sql\n      database_url: "{url}"\n'
        "logging:\n  level: WARNING\n"
    )


async def seed(url: str, sizes: set[int]) -> None:
    for size in sorted(sizes):
        await seed_history(url, AGENT, f"size-{size}", size)
    await analyze(url)


def report(backend: str, mine: dict[str, float], theirs: dict[str, float]) -> None:
    print(f"\n{backend}")
    print(f"  {'measure (over HTTP)':<34}{'ours':>12}{'ADK':>12}{'ours vs ADK':>16}")
    for key, value in mine.items():
        other = theirs.get(key)
        rate = key.endswith("per_s")
        unit = "/s" if rate else " ms"
        versus = "" if other is None else (f"{value / other:.1f}x" if rate else f"{other / value:.1f}x faster")
        shown = "" if other is None else f"{other:.1f}{unit}"
        print(f"  {key:<34}{f'{value:.1f}{unit}':>12}{shown:>12}{versus:>16}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_measure_arguments(parser)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    adk_sizes = [int(s) for s in args.adk_sizes.split(",")]
    print("Agent store over HTTP: `session-store serve` (Granian, 1 worker) against google-adk's")
    print("DatabaseSessionService behind FastAPI + uvicorn (uvloop, httptools, 1 worker), same database server,")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"same client, this machine ({machine})")
    for backend in args.backends.split(","):
        with database(backend) as (our_url, adk_url):
            server: ServerProcess
            with running_server(our_url, our_config(our_url)) as server:
                asyncio.run(seed(our_url, {*sizes, args.whole}))
                mine = asyncio.run(measure(server, OURS, args, sizes))
            seeds = ",".join(str(s) for s in sorted({*adk_sizes, args.whole}))
            with running_baseline("adk_http.py", adk_url, "--seed", seeds) as server:
                theirs = asyncio.run(measure(server, ADK, args, adk_sizes))
        report(backend, mine, theirs)


if __name__ == "__main__":
    main()
