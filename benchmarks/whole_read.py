"""Whole reads, batched against in one query: what streaming a long history costs.

An agent session of 10,000 small events on PostgreSQL read whole two ways in one run: one query
(`get_session`, what the API did before it streamed) and batch by batch (`whole_session`, what the
API streams now, domain.paging.Batches). Prints the best of five of each and their ratio.

Run: `python -m benchmarks.whole_read` (needs the PostgreSQL of the development machine).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from benchmarks.support import throwaway_postgres
from domain.agent.model import Behavior
from domain.agent.service import AgentService, EventInput
from infrastructure.sql import migrate
from infrastructure.sql.agent.store import SqlAgentStore


async def measure(url: str, events: int) -> tuple[float, float]:
    store = SqlAgentStore.at(url, "bench")
    agent = AgentService("bench", store, Behavior.PERSISTENT)
    try:
        await agent.create_session("u", "s")
        body = {"content": {"parts": [{"text": "hello there " * 5}]}}
        for _ in range(events):
            await agent.append_event("u", "s", EventInput("inv", "user", body))
        single, batched = [], []
        for _ in range(5):
            started = time.perf_counter()
            assert len((await agent.get_session("u", "s")).events) == events
            single.append(time.perf_counter() - started)
            started = time.perf_counter()
            _, batches = await agent.whole_session("u", "s")
            assert sum([len(batch) async for batch in batches]) == events
            batched.append(time.perf_counter() - started)
        return min(single), min(batched)
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    with throwaway_postgres() as url:
        migrate.upgrade("agent", url)
        single, batched = asyncio.run(measure(url, args.events))
    print(f"Whole read of an agent session of {args.events:,} events, PostgreSQL, best of 5:")
    print(f"  one query        {single * 1000:7.1f} ms")
    print(f"  batch by batch   {batched * 1000:7.1f} ms   ({batched / single:.2f}x the one query)")


if __name__ == "__main__":
    main()
