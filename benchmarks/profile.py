"""Where a route's CPU goes: py-spy samples the server while one route runs alone at 16 clients.

Each working sample's innermost frame (idle threads and the event loop's poll left out) is counted
against the package it is in (the server, the framework,
the driver, the event loop, Session Store's own layers), so the table says what a request pays for
above its SQL. Needs py-spy (`pip install py-spy`) and, to attach, the right to trace the server
(root, or kernel.yama.ptrace_scope 0). Run: `python -m benchmarks.profile [--seconds 8]`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.chat_loop import ROUTES, Phases
from benchmarks.support import running_server, throwaway_postgres

OWNERS = (
    ("litestar/", "Litestar (routing, DI, middleware, responses)"),
    ("granian", "Granian (HTTP)"),
    ("msgspec", "msgspec (JSON)"),
    ("psycopg", "psycopg (driver)"),
    ("structlog", "structlog (logs)"),
    ("/app/", "Session Store: app/"),
    ("/domain/", "Session Store: domain/"),
    ("/infrastructure/", "Session Store: infrastructure/"),
    ("asyncio", "asyncio (event loop)"),
    ("sqlalchemy", "SQLAlchemy (statement compiling)"),
)


# Waiting, not working: idle pool threads, the event loop's poll.
IDLE = ("_worker (concurrent/futures/thread.py", "select (selectors.py")


def owner(frame: str) -> str:
    return next((name for marker, name in OWNERS if marker in frame), "other (stdlib, C, idle)")


def profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [py_spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "250", "-f", "raw", "-o", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def shares(collapsed: Path) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """Each owner's share of the samples, and the leaf frames the unowned ones are in."""
    counts: collections.Counter[str] = collections.Counter()
    others: collections.Counter[str] = collections.Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            leaf = stack.split(";")[-1]
            if any(marker in leaf for marker in IDLE):
                continue
            counts[owner(leaf)] += int(count)
            if owner(leaf).startswith("other"):
                others[leaf] += int(count)
    total = sum(counts.values()) or 1
    return {name: n / total for name, n in counts.most_common()}, [(f, n / total) for f, n in others.most_common(6)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    print(f"Where the CPU goes, each route alone at 16 clients, {args.seconds:.0f}s sampled (py-spy, self time)")
    with throwaway_postgres() as url, running_server(url) as server, tempfile.TemporaryDirectory() as work:
        phases = Phases(args.seconds + 1)
        for route in ROUTES:
            out = Path(work) / f"{route.replace(' ', '-')}.txt"

            async def sampled(route: str = route, out: Path = out) -> None:
                spy = profile(server.pid, args.seconds, out)
                await asyncio.to_thread(phases.alone, server, 16, route)
                await asyncio.to_thread(spy.wait, 30)

            asyncio.run(sampled())
            print(f"  {route}:")
            owners, unowned = shares(out) if out.exists() else ({}, [])
            for name, share in owners.items():
                if share >= 0.01:
                    print(f"    {share:6.1%}  {name}")
            for frame, share in unowned:
                print(f"           {share:6.1%}  of which {frame}")


if __name__ == "__main__":
    main()
