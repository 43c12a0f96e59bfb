"""Work the server does by itself while it serves: ending runs older than runs.ttl_seconds, and the
retention purge (retention.*).

Every instance runs both; that is safe because each is idempotent and works in batches of one short
transaction each (two instances ending the same run both leave it ended once; two purging the same
sessions delete them once, the second skipping what the first holds).
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from domain.agent.service import AgentService
from domain.gateway.service import GatewayService
from domain.retention import Purged
from infrastructure.config.model import Config

log = structlog.get_logger("session_store.background")


class Periodic:
    """`sweep` every `interval_s` seconds from start() to stop(), the first after one interval."""

    name = "periodic"

    def __init__(self, interval_s: float) -> None:
        self._interval = interval_s
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def wanted(self) -> bool:
        return True

    async def sweep(self) -> object:
        raise NotImplementedError

    async def _loop(self) -> None:
        # Waits first: a server starting (or a test's app) does no work before its first interval.
        while not await self._stopped_within(self._interval):
            await self.sweep()

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()

    async def start(self) -> None:
        if self.wanted() and self._task is None:
            self._stopping = asyncio.Event()  # bound to the loop that serves
            self._task = asyncio.create_task(self._loop(), name=f"session-store-{self.name}")

    async def stop(self) -> None:
        """Lets a sweep under way finish its transaction rather than cancel it halfway."""
        if self._task is not None:
            self._stopping.set()
            await self._task
            self._task = None


class RunReaper(Periodic):
    name = "run-reaper"

    def __init__(self, agents: dict[str, AgentService], interval_s: float) -> None:
        super().__init__(interval_s)
        self._agents = agents

    def wanted(self) -> bool:
        return bool(self._agents)

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


def reaper_interval(ttl_seconds: int) -> float:
    """How often to look: a quarter of the TTL, at most a minute, so a run outlives it by little."""
    return max(0.5, min(60.0, ttl_seconds / 4))


async def purge(
    config: Config, gateway: GatewayService, agents: dict[str, AgentService], *, dry_run: bool = False
) -> dict[str, Purged]:
    """Each store's purge under the config's retention, by store ("gateway", "agent NAME"). A store
    that fails raises: the caller says what to do (the server logs it and goes on)."""
    retention = config.retention
    done = {"gateway": await gateway.purge(retention.gateway_days, retention.tombstone_days, dry_run=dry_run)}
    for agent in config.agents or []:
        if agent.name in agents:
            done[f"agent {agent.name}"] = await agents[agent.name].purge(retention.agent(agent), dry_run=dry_run)
    return done


class Purger(Periodic):
    """The retention purge, in the background: sessions past their store's retention and old tombstones."""

    name = "purger"

    def __init__(self, config: Config, gateway: GatewayService, agents: dict[str, AgentService]) -> None:
        super().__init__(config.retention.interval_seconds)
        self._config, self._gateway, self._agents = config, gateway, agents

    async def sweep(self) -> dict[str, Purged]:
        try:
            done = await purge(self._config, self._gateway, self._agents)
        except Exception as exc:  # an unreachable database must not stop the sweeps
            log.warning("retention purge failed", error=type(exc).__name__)
            return {}
        for store, purged in done.items():
            if purged != Purged():
                log.info("retention purge", store=store, sessions=purged.sessions, tombstones=purged.tombstones)
        return done
