"""The gateway store's tables (their history lives in migrations/gateway)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from infrastructure.sql.types import EpochMs, Id, LongText, Name

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class GatewayBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SessionRow(GatewayBase):
    __tablename__ = "sessions"
    __table_args__ = (
        # Serves "the caller's sessions, newest activity first" as a keyset scan.
        Index("ix_sessions_user_updated", "user_id", "updated_time", "id"),
        Index("ix_sessions_user_agent_updated", "user_id", "agent_id", "updated_time", "id"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(Id)
    name: Mapped[str | None] = mapped_column(Name)
    agent_id: Mapped[str | None] = mapped_column(Id)
    project_id: Mapped[str | None] = mapped_column(Id)
    created_time: Mapped[int] = mapped_column(EpochMs)
    updated_time: Mapped[int] = mapped_column(EpochMs)


class ChatTaskRow(GatewayBase):
    __tablename__ = "chat_tasks"
    __table_args__ = (Index("ix_chat_tasks_session_created", "session_id", "created_time", "id"),)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    session_id: Mapped[str] = mapped_column(Id, ForeignKey("sessions.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(Id)
    user_message: Mapped[str | None] = mapped_column(LongText)
    message_bubbles: Mapped[str] = mapped_column(LongText)
    task_metadata: Mapped[str | None] = mapped_column(LongText)
    created_time: Mapped[int] = mapped_column(EpochMs)
    updated_time: Mapped[int] = mapped_column(EpochMs)


class FeedbackRow(GatewayBase):
    __tablename__ = "feedback"
    __table_args__ = (
        Index("ix_feedback_user_created", "user_id", "created_time", "id"),
        Index("ix_feedback_session", "session_id"),
        Index("ix_feedback_task", "task_id"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    # Unlike the incumbent's, these cascade: deleting a session leaves no orphaned feedback.
    session_id: Mapped[str] = mapped_column(Id, ForeignKey("sessions.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(Id, ForeignKey("chat_tasks.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(Id)
    rating: Mapped[str] = mapped_column(Name)
    comment: Mapped[str | None] = mapped_column(LongText)
    created_time: Mapped[int] = mapped_column(EpochMs)
