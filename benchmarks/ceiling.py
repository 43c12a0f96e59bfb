"""Issue 5's HTTP targets against what any Python server reaches on this machine.

Session Store's three chat-loop routes, each alone at 16 clients, beside the same routes on
`benchmarks/bare_gateway.py`: the same SQL on the same driver and the same server (Granian, one
worker), with nothing
else (no framework, validation, identity, errors or logs). Each server's reads are set against its
own `/health`, its writes against the raw driver floor, all measured in this run on one PostgreSQL
server. Where the bare gateway misses a target too, no Python server with this driver meets it on
this machine; where it meets one, the gap is Session Store's own.

Then each route's p99 with `--busy` clients (issue 15: under 25 ms at 64), on both servers, and
each route's cost per request (one over the rate: the server is the busy part) above the bare app's,
set beside what `/health` alone costs above the bare app's: the framework's fixed price per request,
which no route can go below.

Usage: python -m benchmarks.ceiling [--clients 16] [--busy 64] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform

from benchmarks.chat_loop import FLOOR, ROUTES, Measured, Phases, health_client
from benchmarks.support import raw_insert_floor, running_bare_gateway, running_server, throwaway_postgres

READ_TARGET, WRITE_TARGET = 0.4, 0.5  # of the /health floor, of the raw driver floor
BARE_TARGET, P99_TARGET_MS = 0.8, 25.0  # issue 15: of the bare app's rate; p99 at --busy clients


def rate(measured: Measured, route: str) -> float:
    stats, elapsed = measured
    return stats.row(route, elapsed)[2]


def p99(measured: Measured, route: str) -> float:
    stats, elapsed = measured
    return stats.row(route, elapsed)[4]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--busy", type=int, default=64, help="clients for the p99 (0: skip)")
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    print(
        f"Ceiling: Session Store against a bare ASGI gateway, {args.clients} clients, {args.seconds:.0f}s each; "
        f"both on Granian, 1 worker each, PostgreSQL, "
        f"client, servers and database on one machine "
        f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})"
    )
    with throwaway_postgres() as url:
        raw = asyncio.run(raw_insert_floor(url, args.clients, args.seconds))
        with running_server(url) as ours, running_bare_gateway(url) as bare:
            phases = Phases(args.seconds)
            measured = {
                name: {FLOOR: phases.run(server, args.clients, health_client)}
                | {route: phases.alone(server, args.clients, route) for route in ROUTES}
                for name, server in (("ours", ours), ("bare", bare))
            }
            busy = {
                name: {route: phases.alone(server, args.busy, route) for route in ROUTES}
                for name, server in (("ours", ours), ("bare", bare))
                if args.busy
            }
    errors = {name: sum(m[0].errors + m[0].stalled for m in runs.values()) for name, runs in measured.items()}
    floors = {name: rate(runs[FLOOR], FLOOR) for name, runs in measured.items()}
    print(f"\n  raw driver floor (psycopg, one INSERT per round trip, {args.clients} connections): {raw:.0f}/s")
    print(f"  {'route':<16}{'ours req/s':>11}{'bare req/s':>11}{'ours/bare':>10}   against the target's baseline")
    for route in (FLOOR, *ROUTES):
        mine, theirs = rate(measured["ours"][route], route), rate(measured["bare"][route], route)
        if route == FLOOR:
            against = "each server's own floor"
        elif route == "save task":
            against = f"raw floor: ours {mine / raw:.2f}x, bare {theirs / raw:.2f}x (target {WRITE_TARGET}x)"
        else:
            against = (
                f"own /health: ours {mine / floors['ours']:.2f}x, bare {theirs / floors['bare']:.2f}x "
                f"(target {READ_TARGET}x)"
            )
        print(f"  {route:<16}{mine:>11.0f}{theirs:>11.0f}{mine / theirs:>10.2f}   {against}")
    print(f"  errors and stalled clients: ours {errors['ours']}, bare {errors['bare']}")
    fixed = 1e6 / floors["ours"] - 1e6 / floors["bare"]
    print(
        f"\n  cost per request above the bare app's (us), against /health's {fixed:.0f} us (the framework's "
        f"fixed price); a route at {BARE_TARGET}x may cost at most a quarter of the bare app's own"
    )
    for route in ROUTES:
        mine, theirs = (1e6 / rate(measured[name][route], route) for name in ("ours", "bare"))
        print(f"  {route:<16}{mine - theirs:>6.0f} above {theirs:.0f}; {BARE_TARGET}x allows {theirs / 4:.0f}")
    if busy:
        print(f"\n  p99 with {args.busy} clients (target under {P99_TARGET_MS:.0f} ms)")
        print(f"  {'route':<16}{'ours ms':>9}{'bare ms':>9}{'ours req/s':>11}{'bare req/s':>11}")
        for route in ROUTES:
            o, b = busy["ours"][route], busy["bare"][route]
            cells = f"{p99(o, route):>9.1f}{p99(b, route):>9.1f}{rate(o, route):>11.0f}{rate(b, route):>11.0f}"
            print(f"  {route:<16}{cells}")
        stalled = sum(m[0].errors + m[0].stalled for runs in busy.values() for m in runs.values())
        print(f"  errors and stalled clients: {stalled}")


if __name__ == "__main__":
    main()
