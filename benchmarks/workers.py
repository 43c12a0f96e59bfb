"""The chat loop at 1 and 2 workers (`session-store serve --workers N`), 16 and 64 clients.

On this 2-core machine the client shares the cores with the server and the database, so the figures
say as much about the machine as about the server: the table states the client's own share of CPU
(its CPU time over the run's wall time and the cores). Run: `python -m benchmarks.workers`.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource

from benchmarks.chat_loop import ROUTES, Phases, chat_client
from benchmarks.support import running_server, throwaway_postgres


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", default="16,64")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(
        f"Chat loop by workers: PostgreSQL, one `session-store serve` with --workers N (Granian), "
        f"{args.seconds:.0f}s a measurement, client, server and database on one machine "
        f"({platform.machine()}, {cores} cores, Python {platform.python_version()})"
    )
    print(f"  {'workers':>7} {'clients':>7} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}  client CPU")
    with throwaway_postgres() as url:
        for workers in (1, 2):
            with running_server(url, workers=workers) as base:
                phases = Phases(args.seconds)
                for clients in (int(c) for c in args.clients.split(",")):
                    before = cpu_seconds()
                    stats, elapsed = phases.run(base, clients, chat_client)
                    client_share = (cpu_seconds() - before) / (elapsed * cores)
                    total = sum(stats.row(route, elapsed)[1] for route in ROUTES)
                    samples = sorted(s for route in ROUTES for s in stats.samples.get(route, []))
                    p50 = samples[len(samples) // 2] * 1000 if samples else 0.0
                    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000 if samples else 0.0
                    print(
                        f"  {workers:>7} {clients:>7} {total / elapsed:>8.0f} {p50:>7.1f} {p99:>7.1f}  "
                        f"{client_share:.0%} of the machine (errors {stats.errors}, stalled {stats.stalled})"
                    )


if __name__ == "__main__":
    main()
