"""Shared fixtures: the gateway store on every backend, each on a database of its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from domain.ports import AgentStore, GatewayStore, PlatformStore
from infrastructure.memory.agent import MemoryAgentStore
from infrastructure.memory.gateway import MemoryGatewayStore
from infrastructure.memory.platform import MemoryPlatformStore
from infrastructure.sql import migrate, urls
from infrastructure.sql.agent.store import SqlAgentStore
from infrastructure.sql.gateway.store import SqlGatewayStore
from infrastructure.sql.platform.store import SqlPlatformStore
from tests.databases import fresh_database

BACKENDS = ["memory", "sqlite", "postgres", "mysql"]
# Every table of the gateway lineage, children first.
GATEWAY_TABLES = ("feedback", "chat_tasks", "sessions", "deleted_sessions")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    with fresh_database("postgres") as url:
        yield url


@pytest.fixture(scope="session")
def mysql_database() -> Iterator[str]:
    with fresh_database("mysql") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'gateway.db'}"


@pytest.fixture(scope="session")
def migrated(request: pytest.FixtureRequest) -> dict[tuple[str, str], str]:
    """URL of a migrated gateway database per SQL backend, migrated once per run (lazily)."""
    return {}


def migrated_url(request: pytest.FixtureRequest, backend: str, lineage: str = "gateway") -> str:
    """The backend's test database with `lineage` migrated (once per run)."""
    cache: dict[tuple[str, str], str] = request.getfixturevalue("migrated")
    if (backend, lineage) not in cache:
        url = request.getfixturevalue(f"{backend}_database")
        migrate.upgrade(lineage, url)
        cache[(backend, lineage)] = url
    return cache[(backend, lineage)]


def gateway_url(request: pytest.FixtureRequest, backend: str) -> str:
    return migrated_url(request, backend, "gateway")


@pytest.fixture(params=BACKENDS)
async def gateway_store(request: pytest.FixtureRequest) -> AsyncIterator[GatewayStore]:
    """The gateway store on each backend, emptied after every test."""
    if request.param == "memory":
        yield MemoryGatewayStore()
        return
    url = gateway_url(request, request.param)
    store = SqlGatewayStore.at(url)
    try:
        yield store
    finally:
        await store.close()
        empty_tables(url, *GATEWAY_TABLES)


def empty_tables(url: str, *tables: str) -> None:
    """Delete every row of `tables` (children first), through SQLAlchemy on the sync driver."""
    engine = migrate.migration_engine(url)
    try:
        with engine.begin() as connection:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database on each SQL backend, dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with fresh_database(request.param) as url:
        yield url


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Callable[[str], str]:
    """Makes a SQLite file migrated to a lineage's tables (gateway, agent, platform); gives its URL."""

    def migrated_file(lineage: str) -> str:
        url = f"sqlite:///{tmp_path / f'{lineage}-{uuid.uuid4().hex[:8]}.db'}"
        migrate.upgrade(lineage, url)
        return url

    return migrated_file


@pytest.fixture
def impatient_sqlite_file(sqlite_file: Callable[[str], str], monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """sqlite_file with a busy timeout of 100 ms: a writer left to wait on SQLite's lock fails fast."""
    monkeypatch.setattr(urls, "SQLITE_BUSY_TIMEOUT_MS", 100)
    return sqlite_file


@pytest.fixture(params=BACKENDS)
async def agent_store(request: pytest.FixtureRequest) -> AsyncIterator[AgentStore]:
    """Agent `agent-a`'s store on each backend, emptied after every test."""
    async for store in _agent_store(request, request.param, "agent-a"):
        yield store


async def _agent_store(request: pytest.FixtureRequest, backend: str, name: str) -> AsyncIterator[AgentStore]:
    if backend == "memory":
        yield MemoryAgentStore()
        return
    url = migrated_url(request, backend, "agent")
    store = SqlAgentStore.at(url, name)
    try:
        yield store
    finally:
        await store.close()
        empty_tables(url, "agent_events", "agent_sessions", "agent_app_states", "agent_user_states", "agent_runs")


@pytest.fixture(params=BACKENDS)
async def platform_store(request: pytest.FixtureRequest) -> AsyncIterator[PlatformStore]:
    """The platform store on each backend, emptied after every test."""
    if request.param == "memory":
        yield MemoryPlatformStore()
        return
    url = migrated_url(request, request.param, "platform")
    store = SqlPlatformStore.at(url, ["test-platform-key"])
    try:
        yield store
    finally:
        await store.close()
        empty_tables(url, "platform_deployments", "platform_connectors", "platform_agents")
