"""Issue 5's HTTP targets against what any Python server reaches on this machine.

Session Store's three chat-loop routes, each alone at 16 clients, beside the same routes on
`benchmarks/bare_gateway.py`: the same SQL on the same driver and the same server (Granian, one
worker), with nothing
else (no framework, validation, identity, errors or logs). Each server's reads are set against its
own `/health`, its writes against the raw driver floor, all measured in this run on one PostgreSQL
server. Where the bare gateway misses a target too, no Python server with this driver meets it on
this machine; where it meets one, the gap is Session Store's own.

Usage: python -m benchmarks.ceiling [--clients 16] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform

from benchmarks.chat_loop import FLOOR, ROUTES, Measured, Phases, health_client
from benchmarks.support import raw_insert_floor, running_bare_gateway, running_server, throwaway_postgres

READ_TARGET, WRITE_TARGET = 0.4, 0.5  # of the /health floor, of the raw driver floor


def rate(measured: Measured, route: str) -> float:
    stats, elapsed = measured
    return stats.row(route, elapsed)[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
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


if __name__ == "__main__":
    main()
