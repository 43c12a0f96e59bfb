"""The agent store's tables (history in migrations/agent). Every key starts with the agent's name,
so agents sharing one database (the seed's shared-anchor pattern) never see each other's rows."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKeyConstraint, Index, MetaData, String, Table, UniqueConstraint

from infrastructure.sql.types import EpochMs, Id, LongText, compare_exactly

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
AgentName = String(64)
# Event ids are UUIDs in practice; 128 keeps MySQL's 3072-byte key limit for the unique index.
EventId = String(128)

agent_sessions = Table(
    "agent_sessions",
    metadata,
    Column("app_name", AgentName, primary_key=True),
    Column("user_id", Id, primary_key=True),
    Column("id", Id, primary_key=True),
    Column("state", LongText, nullable=False),
    Column("version", EpochMs, nullable=False),
    Column("last_sequence", EpochMs, nullable=False),
    Column("created_time", EpochMs, nullable=False),
    Column("last_update_time", EpochMs, nullable=False),
    Index("ix_agent_sessions_user_updated", "app_name", "user_id", "last_update_time", "id"),
    Index("ix_agent_sessions_app_updated", "app_name", "last_update_time"),  # the retention purge
)

agent_events = Table(
    "agent_events",
    metadata,
    Column("app_name", AgentName, primary_key=True),
    Column("user_id", Id, primary_key=True),
    Column("session_id", Id, primary_key=True),
    # The primary key serves "the newest N events" and "events after sequence S" as index range scans.
    Column("sequence", EpochMs, primary_key=True, autoincrement=False),
    Column("id", EventId, nullable=False),
    Column("invocation_id", Id, nullable=False),
    Column("author", Id, nullable=False),
    Column("timestamp", EpochMs, nullable=False),
    Column("body", LongText, nullable=False),
    ForeignKeyConstraint(
        ["app_name", "user_id", "session_id"],
        ["agent_sessions.app_name", "agent_sessions.user_id", "agent_sessions.id"],
        ondelete="CASCADE",
    ),
    UniqueConstraint("app_name", "user_id", "session_id", "id"),
    Index("ix_agent_events_session_time", "app_name", "user_id", "session_id", "timestamp"),
)

agent_app_states = Table(
    "agent_app_states",
    metadata,
    Column("app_name", AgentName, primary_key=True),
    Column("state", LongText, nullable=False),
    Column("update_time", EpochMs, nullable=False),
)

agent_user_states = Table(
    "agent_user_states",
    metadata,
    Column("app_name", AgentName, primary_key=True),
    Column("user_id", Id, primary_key=True),
    Column("state", LongText, nullable=False),
    Column("update_time", EpochMs, nullable=False),
)

agent_runs = Table(
    "agent_runs",
    metadata,
    Column("app_name", AgentName, primary_key=True),
    Column("id", Id, primary_key=True),
    Column("user_id", Id, nullable=False),
    Column("session_id", Id, nullable=False),
    Column("requested_session_id", Id, nullable=False),
    Column("behavior", String(16), nullable=False),
    Column("created_time", EpochMs, nullable=False),
    Column("ended_time", EpochMs),
    # The runs still open, oldest first: what the server ends after runs.ttl_seconds.
    Index("ix_agent_runs_open", "app_name", "ended_time", "created_time"),
)

compare_exactly(metadata)
