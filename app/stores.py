"""Wiring: the adapters each configured store runs on."""

from __future__ import annotations

from dataclasses import dataclass

from domain.ports import GatewayStore
from infrastructure.config.model import Config, SessionServiceConfig, StoreType
from infrastructure.memory.gateway import MemoryGatewayStore
from infrastructure.sql import migrate
from infrastructure.sql.engine import create_engine
from infrastructure.sql.gateway.store import SqlGatewayStore

GATEWAY = "gateway"


@dataclass
class Stores:
    gateway: GatewayStore
    gateway_type: StoreType

    async def close(self) -> None:
        await self.gateway.close()


def gateway_store(config: SessionServiceConfig) -> GatewayStore:
    if config.type is StoreType.MEMORY:
        return MemoryGatewayStore()
    assert config.database_url is not None  # the config loader guarantees it
    return SqlGatewayStore(create_engine(config.database_url))


def open_stores(config: Config) -> Stores:
    return Stores(gateway=gateway_store(config.session_service), gateway_type=config.session_service.type)


def migrate_all(config: Config) -> list[tuple[str, str | None, str | None]]:
    """Run every SQL store's migrations (before the server starts); returns (store, before, after)."""
    done = []
    if config.session_service.type is StoreType.SQL and config.session_service.database_url:
        done.append((GATEWAY, *migrate.upgrade(GATEWAY, config.session_service.database_url)))
    return done
