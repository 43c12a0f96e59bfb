"""Wiring: the adapters each configured store runs on, and their migrations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.agent.model import RunPolicy
from domain.agent.service import AgentService
from domain.platform.service import PlatformService
from domain.ports import AgentStore, GatewayStore, PlatformStore
from domain.scenario import Scenario, deployment_scenario, pair_scenario
from infrastructure.config.model import AgentConfig, Config, SessionServiceConfig, StoreType
from infrastructure.memory.agent import MemoryAgentStore
from infrastructure.memory.gateway import MemoryGatewayStore
from infrastructure.sql import migrate
from infrastructure.sql.agent.store import SqlAgentStore
from infrastructure.sql.backend import Backend, open_backend
from infrastructure.sql.gateway.store import SqlGatewayStore
from infrastructure.sql.platform.store import SqlPlatformStore
from infrastructure.sql.urls import DEFAULT_POOL_SIZE

GATEWAY = "gateway"
AGENT = "agent"
PLATFORM = "platform"


@dataclass
class Stores:
    gateway: GatewayStore
    gateway_type: StoreType
    agents: dict[str, AgentService] = field(default_factory=dict)
    agent_types: dict[str, StoreType] = field(default_factory=dict)
    scenario: Scenario = Scenario.A
    agent_scenarios: dict[str, Scenario] = field(default_factory=dict)
    # None while platform_service.database_url (PLATFORM_DATABASE_URL) is unset: its routes answer 501.
    platform: PlatformService | None = None
    platform_store: PlatformStore | None = None
    # The backends the SQL stores share, one per database URL (one set of pools each).
    backends: list[Backend] = field(default_factory=list)

    async def close(self) -> None:
        await self.gateway.close()
        if self.platform_store is not None:
            await self.platform_store.close()
        for agent in self.agents.values():
            await agent.store.close()
        for backend in self.backends:
            await backend.close()


class SharedBackends:
    """One backend per database URL, shared by every store on it, its pool as large as `pool_sizes`
    says (pool_sizes())."""

    def __init__(self, timeout_ms: int | None, pool_sizes: dict[str, int]) -> None:
        self._timeout_ms = timeout_ms
        self._pool_sizes = pool_sizes
        self.by_url: dict[str, Backend] = {}

    def at(self, url: str) -> Backend:
        if url not in self.by_url:
            self.by_url[url] = open_backend(url, statement_timeout_ms=self._timeout_ms, pool_size=self._pool_sizes[url])
        return self.by_url[url]


def pool_sizes(config: Config) -> dict[str, int]:
    """The pool of each database URL the gateway and agent stores use: server.pool_size when set, else
    the largest any store on the URL asks (default DEFAULT_POOL_SIZE). The most connections one process
    opens to a database server is the sum over its URLs on that server, plus the platform store's
    pool when it is there too (docs/operations.md, "Connections")."""
    sizes: dict[str, int] = {}
    for service in (config.session_service, *(a.session_service for a in config.agents or [])):
        if service.type is StoreType.SQL:
            wanted = config.server.pool_size or service.pool_size or DEFAULT_POOL_SIZE
            sizes[_url(service)] = max(sizes.get(_url(service), 0), wanted)
    return sizes


def _url(config: SessionServiceConfig) -> str:
    assert config.database_url is not None  # the config loader guarantees it for type: sql
    return config.database_url


def gateway_store(config: SessionServiceConfig, backends: SharedBackends) -> GatewayStore:
    if config.type is StoreType.MEMORY:
        return MemoryGatewayStore()
    return SqlGatewayStore(backends.at(_url(config)), owns_backend=False)


def agent_store(agent: AgentConfig, backends: SharedBackends) -> AgentStore:
    if agent.session_service.type is StoreType.MEMORY:
        return MemoryAgentStore()
    return SqlAgentStore(backends.at(_url(agent.session_service)), agent.name, owns_backend=False)


def open_stores(config: Config, platform_keys: Sequence[str] | None = None) -> Stores:
    """`platform_keys` (current first) encrypt the platform registry's configs; needed when it is configured."""
    agents = config.agents or []
    scenario, agent_scenarios = scenarios(config)
    platform_url = config.platform_service.database_url
    timeout = config.server.statement_timeout_ms
    runs = RunPolicy(config.runs.copy_recent_events, config.runs.ttl_seconds * 1000)
    platform_store: PlatformStore | None = None
    backends = SharedBackends(timeout, pool_sizes(config))
    if platform_url:
        if not platform_keys:
            raise ValueError("the platform store needs its secret keys (PLATFORM_SECRET_KEY)")
        size = config.server.pool_size or config.platform_service.pool_size or DEFAULT_POOL_SIZE
        platform_store = SqlPlatformStore.at(platform_url, platform_keys, statement_timeout_ms=timeout, pool_size=size)
    return Stores(
        platform=PlatformService(platform_store) if platform_store else None,
        platform_store=platform_store,
        scenario=scenario,
        agent_scenarios=agent_scenarios,
        gateway=gateway_store(config.session_service, backends),
        gateway_type=config.session_service.type,
        agents={
            a.name: AgentService(a.name, agent_store(a, backends), a.session_service.default_behavior, runs=runs)
            for a in agents
        },
        agent_types={a.name: a.session_service.type for a in agents},
        backends=list(backends.by_url.values()),
    )


def scenarios(config: Config) -> tuple[Scenario, dict[str, Scenario]]:
    """The deployment's scenario and each agent's (with the gateway)."""
    gateway = config.session_service.type is StoreType.SQL
    agents = {a.name: a.session_service.type is StoreType.SQL for a in config.agents or []}
    return deployment_scenario(gateway, agents), {n: pair_scenario(gateway, p) for n, p in agents.items()}


def sql_stores(config: Config) -> list[tuple[str, str]]:
    """(lineage, URL) of every SQL store; agents sharing a database migrate it once."""
    found = []
    if config.session_service.type is StoreType.SQL:
        found.append((GATEWAY, _url(config.session_service)))
    for agent in config.agents or []:
        if agent.session_service.type is StoreType.SQL and (AGENT, _url(agent.session_service)) not in found:
            found.append((AGENT, _url(agent.session_service)))
    if config.platform_service.database_url:
        found.append((PLATFORM, config.platform_service.database_url))
    return found


def migrate_all(config: Config) -> list[tuple[str, str, str | None, str | None]]:
    """Run every SQL store's migrations (before the server starts): (lineage, url, before, after)."""
    return [(lineage, url, *migrate.upgrade(lineage, url)) for lineage, url in sql_stores(config)]
