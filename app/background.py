"""Work the server does by itself while it serves: ending runs older than runs.ttl_seconds.

Every instance runs it; that is safe because ending a run is idempotent and each batch is one short
transaction (two instances ending the same run both leave it ended once, its session deleted).
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from domain.agent.service import AgentService

log = structlog.get_logger("session_store.background")


class RunReaper:
    def __init__(self, agents: dict[str, AgentService], interval_s: float) -> None:
        self._agents, self._interval = agents, interval_s
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def sweep(self) -> int:
        """One pass over every agent store; a store that fails is logged and tried again next pass."""
        total = 0
        for name, agent in self._agents.items():
            try:
                ended = await agent.end_expired_runs()
            except Exception as exc:  # an unreachable database must not stop the sweeps
                log.warning("ending expired runs failed", agent=name, error=type(exc).__name__)
                continue
            if ended:
                log.info("expired runs ended", agent=name, runs=ended)
            total += ended
        return total

    async def _loop(self) -> None:
        # Waits first: a server starting (or a test's app) does no work before its first interval.
        while not await self._stopped_within(self._interval):
            await self.sweep()

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()

    async def start(self) -> None:
        if self._agents and self._task is None:
            self._stopping = asyncio.Event()  # bound to the loop that serves
            self._task = asyncio.create_task(self._loop(), name="session-store-run-reaper")

    async def stop(self) -> None:
        """Lets a sweep under way finish its transaction rather than cancel it halfway."""
        if self._task is not None:
            self._stopping.set()
            await self._task
            self._task = None


def reaper_interval(ttl_seconds: int) -> float:
    """How often to look: a quarter of the TTL, at most a minute, so a run outlives it by little."""
    return max(0.5, min(60.0, ttl_seconds / 4))
