"""Gateway tables: sessions, chat_tasks, feedback, with the indexes their list queries use.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from infrastructure.sql.types import EpochMs, Id, LongText, Name

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", Id, primary_key=True),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("name", Name, nullable=True),
        sa.Column("agent_id", Id, nullable=True),
        sa.Column("project_id", Id, nullable=True),
        sa.Column("created_time", EpochMs, nullable=False),
        sa.Column("updated_time", EpochMs, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_user_updated", "sessions", ["user_id", "updated_time", "id"])
    op.create_index("ix_sessions_user_agent_updated", "sessions", ["user_id", "agent_id", "updated_time", "id"])

    op.create_table(
        "chat_tasks",
        sa.Column("id", Id, nullable=False),
        sa.Column("session_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("user_message", LongText, nullable=True),
        sa.Column("message_bubbles", LongText, nullable=False),
        sa.Column("task_metadata", LongText, nullable=True),
        sa.Column("created_time", EpochMs, nullable=False),
        sa.Column("updated_time", EpochMs, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chat_tasks"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_chat_tasks_session_id_sessions", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_chat_tasks_session_created", "chat_tasks", ["session_id", "created_time", "id"])

    op.create_table(
        "feedback",
        sa.Column("id", Id, nullable=False),
        sa.Column("session_id", Id, nullable=False),
        sa.Column("task_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("rating", Name, nullable=False),
        sa.Column("comment", LongText, nullable=True),
        sa.Column("created_time", EpochMs, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_feedback_session_id_sessions", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["chat_tasks.id"], name="fk_feedback_task_id_chat_tasks", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_feedback_user_created", "feedback", ["user_id", "created_time", "id"])
    op.create_index("ix_feedback_session", "feedback", ["session_id"])
    op.create_index("ix_feedback_task", "feedback", ["task_id"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("chat_tasks")
    op.drop_table("sessions")
