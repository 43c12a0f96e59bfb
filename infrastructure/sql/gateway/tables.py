"""The gateway store's tables (their history lives in migrations/gateway)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, MetaData, Table

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
    # Serve "the caller's sessions, newest activity first" (optionally of one agent) as keyset scans.
    Index("ix_sessions_user_updated", "user_id", "updated_time", "id"),
    Index("ix_sessions_user_agent_updated", "user_id", "agent_id", "updated_time", "id"),
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
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Id, primary_key=True),
    # Unlike the incumbent's, these cascade: deleting a session leaves no orphaned feedback.
    Column("session_id", Id, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("task_id", Id, ForeignKey("chat_tasks.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Id, nullable=False),
    Column("rating", Name, nullable=False),
    Column("comment", LongText),
    Column("created_time", EpochMs, nullable=False),
    Index("ix_feedback_user_created", "user_id", "created_time", "id"),
    Index("ix_feedback_session", "session_id"),
    Index("ix_feedback_task", "task_id"),
)

compare_exactly(metadata)
