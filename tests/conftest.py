"""Shared fixtures: the gateway store on every backend, each on a database of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from domain.ports import GatewayStore
from infrastructure.memory.gateway import MemoryGatewayStore
from infrastructure.sql import migrate
from infrastructure.sql.engine import create_engine
from infrastructure.sql.gateway.store import SqlGatewayStore
from tests.databases import fresh_database

BACKENDS = ["memory", "sqlite", "postgres", "mysql"]


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
def migrated(request: pytest.FixtureRequest) -> dict[str, str]:
    """URL of a migrated gateway database per SQL backend, migrated once per run (lazily)."""
    return {}


def gateway_url(request: pytest.FixtureRequest, backend: str) -> str:
    cache: dict[str, str] = request.getfixturevalue("migrated")
    if backend not in cache:
        url = request.getfixturevalue(f"{backend}_database")
        migrate.upgrade("gateway", url)
        cache[backend] = url
    return cache[backend]


@pytest.fixture(params=BACKENDS)
async def gateway_store(request: pytest.FixtureRequest) -> AsyncIterator[GatewayStore]:
    """The gateway store on each backend, emptied after every test."""
    if request.param == "memory":
        yield MemoryGatewayStore()
        return
    store = SqlGatewayStore(create_engine(gateway_url(request, request.param)))
    try:
        yield store
    finally:
        async with store.engine.begin() as connection:
            for table in ("feedback", "chat_tasks", "sessions"):
                await connection.execute(text(f"DELETE FROM {table}"))
        await store.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path
