"""The gateway store's tables (their history lives in migrations/gateway)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, MetaData, Table, false

from infrastructure.sql.types import EpochMs, Id, LongText, Name, compare_exactly

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", Id, nullable=False),
    Column("name", Name),
    Column("agent_id", Id),
    Column("project_id", Id),
    Column("created_time", EpochMs, nullable=False),
    Column("updated_time", EpochMs, nullable=False),
    # The name as search compares it (domain.search): folded by the service, compared exactly here.
    Column("search_name", LongText),
    Column("project_name", Name),
    Column("source", Name, nullable=False, server_default="chat"),
    Column("has_running_background_task", Boolean, nullable=False, server_default=false()),
    Column("scheduled_task_id", Id),
    Column("scheduled_task_name", Name),
    Column("last_viewed_at", EpochMs),
    # Serve "the caller's sessions, newest activity first" (optionally of one agent) as keyset scans.
    Index("ix_sessions_user_updated", "user_id", "updated_time", "id"),
    Index("ix_sessions_user_agent_updated", "user_id", "agent_id", "updated_time", "id"),
    Index("ix_sessions_updated", "updated_time"),  # the retention purge
)

chat_tasks = Table(
    "chat_tasks",
    metadata,
    Column("id", Id, primary_key=True),
    Column("session_id", Id, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Id, nullable=False),
    Column("user_message", LongText),
    Column("message_bubbles", LongText, nullable=False),
    Column("task_metadata", LongText),
    Column("created_time", EpochMs, nullable=False),
    Column("updated_time", EpochMs, nullable=False),
    # The user's message and the bubbles' visible text as search compares them (domain.search).
    Column("search_message", LongText),
    Column("search_bubbles", LongText),
    Index("ix_chat_tasks_session_created", "session_id", "created_time", "id"),
    # A user's tasks: what a message search narrows to (and a user's data as a whole).
    Index("ix_chat_tasks_user_created", "user_id", "created_time", "id"),
)

# What deleted sessions leave: their ids, which a late save may not bring back (the retention
# purge clears them).
deleted_sessions = Table(
    "deleted_sessions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", Id, nullable=False),
    Column("deleted_time", EpochMs, nullable=False),
    Index("ix_deleted_sessions_deleted_time", "deleted_time"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Id, primary_key=True),
    # No foreign keys: feedback on a task the store does not hold is kept, as the gateway keeps it.
    # Deleting a session deletes its feedback all the same (GatewayService.delete_session).
    Column("session_id", Id, nullable=False),
    Column("task_id", Id, nullable=False),
    Column("user_id", Id, nullable=False),
    Column("rating", Name, nullable=False),
    Column("comment", LongText),
    Column("created_time", EpochMs, nullable=False),
    Index("ix_feedback_user_created", "user_id", "created_time", "id"),
    Index("ix_feedback_session", "session_id"),
    Index("ix_feedback_task", "task_id"),
)
# What feedback would refer to were it a foreign key: `db copy --merge` skips feedback on a session
# the target holds as someone else's, as it skips that session's tasks.
feedback.info["refers_to"] = [(("session_id",), "sessions", ("id",))]

compare_exactly(metadata)

# Each database's own full-text index of chat_tasks (migration 0005), outside the tables every
# database shares: PostgreSQL's search_vector column and its GIN index, MySQL's FULLTEXT index,
# SQLite's FTS5 table (chat_tasks_fts, chat_tasks_fts_rows: not tables of this metadata, so not
# compared either). Comparing the schema with the code leaves these names out.
metadata.info["own_per_database"] = frozenset(
    {"search_vector", "ix_chat_tasks_search_vector", "ix_chat_tasks_fulltext"}
)
