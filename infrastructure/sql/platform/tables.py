"""The platform registry's tables (history in migrations/platform)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, MetaData, String, Table

from infrastructure.sql.types import EpochMs, Id, LongText, Name, compare_exactly

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

platform_agents = Table(
    "platform_agents",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", Name, nullable=False, unique=True),
    Column("description", LongText),
    Column("config", LongText, nullable=False),
    Column("created_time", EpochMs, nullable=False),
    Column("updated_time", EpochMs, nullable=False),
    Index("ix_platform_agents_created", "created_time", "id"),
)

platform_connectors = Table(
    "platform_connectors",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", Name, nullable=False),
    Column("type", Name, nullable=False),
    Column("config", LongText, nullable=False),
    Column("created_time", EpochMs, nullable=False),
    Column("updated_time", EpochMs, nullable=False),
    Index("ix_platform_connectors_created", "created_time", "id"),
)

platform_deployments = Table(
    "platform_deployments",
    metadata,
    Column("id", Id, primary_key=True),
    # No cascade: an agent with deployments cannot be deleted (the service says 409 first).
    Column("agent_id", Id, ForeignKey("platform_agents.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("config", LongText, nullable=False),
    Column("created_time", EpochMs, nullable=False),
    Column("updated_time", EpochMs, nullable=False),
    Index("ix_platform_deployments_created", "created_time", "id"),
    Index("ix_platform_deployments_agent", "agent_id"),
)

compare_exactly(metadata)
