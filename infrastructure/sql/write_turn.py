"""Whose turn it is to write to a SQLite file, among the writers of this process.

SQLite lets one transaction write at a time and makes the others sleep and retry until its busy
timeout, in growing steps: a session created beside a stream of appends waited up to 630 ms, and a
writer behind a long transaction failed once the timeout passed. Writers of one process queue here
instead; other processes still take turns through the busy timeout.
"""

from __future__ import annotations

import asyncio


class WriteTurn:
    """Transactions (statement by statement in the writer thread) write one at a time and never
    beside a one-hop job (`SqliteBackend.run_whole`). One-hop jobs may be let through together, as
    the one writer thread runs them one after another anyway (holding them back one by one here
    would leave that thread idle between them). A waiting transaction holds back new one-hop jobs,
    so a stream of them cannot starve it."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._one_hops = 0
        self._writing = False
        self._waiting = 0

    async def begin_transaction(self) -> None:
        async with self._changed:
            self._waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._writing and self._one_hops == 0)
            finally:
                self._waiting -= 1
            self._writing = True

    async def end_transaction(self) -> None:
        async with self._changed:
            self._writing = False
            self._changed.notify_all()

    async def begin_one_hop(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._writing and self._waiting == 0)
            self._one_hops += 1

    async def end_one_hop(self) -> None:
        async with self._changed:
            self._one_hops -= 1
            if self._one_hops == 0:
                self._changed.notify_all()
