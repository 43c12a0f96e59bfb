"""What the WebUI reads of a session (project name, source, background task, scheduled task, last
viewed), tombstones of deleted sessions, and feedback without foreign keys (kept for a task the
store does not hold, as the gateway keeps it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from infrastructure.sql.types import EpochMs, Id, Name

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FEEDBACK_KEYS = (
    ("fk_feedback_session_id_sessions", "sessions", "session_id"),
    ("fk_feedback_task_id_chat_tasks", "chat_tasks", "task_id"),
)


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.add_column(sa.Column("project_name", Name, nullable=True))
        batch_op.add_column(sa.Column("source", Name, nullable=False, server_default="chat"))
        batch_op.add_column(
            sa.Column("has_running_background_task", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("scheduled_task_id", Id, nullable=True))
        batch_op.add_column(sa.Column("scheduled_task_name", Name, nullable=True))
        batch_op.add_column(sa.Column("last_viewed_at", EpochMs, nullable=True))
    op.create_table(
        "deleted_sessions",
        sa.Column("id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("deleted_time", EpochMs, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deleted_sessions"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index("ix_deleted_sessions_deleted_time", "deleted_sessions", ["deleted_time"])
    with op.batch_alter_table("feedback") as batch_op:
        for name, _, _ in FEEDBACK_KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    # Feedback on tasks the store does not hold cannot stand under the keys again.
    for _, table, column in FEEDBACK_KEYS:
        op.execute(f"DELETE FROM feedback WHERE {column} NOT IN (SELECT id FROM {table})")
    with op.batch_alter_table("feedback") as batch_op:
        for name, table, column in FEEDBACK_KEYS:
            batch_op.create_foreign_key(name, table, [column], ["id"], ondelete="CASCADE")
    op.drop_index("ix_deleted_sessions_deleted_time", table_name="deleted_sessions")
    op.drop_table("deleted_sessions")
    with op.batch_alter_table("sessions") as batch_op:
        for column in (
            "last_viewed_at",
            "scheduled_task_name",
            "scheduled_task_id",
            "has_running_background_task",
            "source",
            "project_name",
        ):
            batch_op.drop_column(column)
