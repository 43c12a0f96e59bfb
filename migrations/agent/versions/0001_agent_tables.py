"""Agent tables: sessions, events, app and user state, runs; every key starts with the agent name.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 07:38:04.820292
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_app_states",
        sa.Column("app_name", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Text().with_variant(mysql.LONGTEXT(), "mariadb").with_variant(mysql.LONGTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("app_name", name=op.f("pk_agent_app_states")),
    )
    op.create_table(
        "agent_runs",
        sa.Column("app_name", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=False),
        sa.Column("requested_session_id", sa.String(length=255), nullable=False),
        sa.Column("behavior", sa.String(length=16), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("ended_time", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("app_name", "id", name=op.f("pk_agent_runs")),
    )
    op.create_table(
        "agent_sessions",
        sa.Column("app_name", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column(
            "state",
            sa.Text().with_variant(mysql.LONGTEXT(), "mariadb").with_variant(mysql.LONGTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("app_name", "user_id", "id", name=op.f("pk_agent_sessions")),
    )
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_sessions_user_updated", ["app_name", "user_id", "last_update_time", "id"], unique=False
        )

    op.create_table(
        "agent_user_states",
        sa.Column("app_name", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column(
            "state",
            sa.Text().with_variant(mysql.LONGTEXT(), "mariadb").with_variant(mysql.LONGTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("app_name", "user_id", name=op.f("pk_agent_user_states")),
    )
    op.create_table(
        "agent_events",
        sa.Column("app_name", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=False),
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("invocation_id", sa.String(length=255), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column(
            "body",
            sa.Text().with_variant(mysql.LONGTEXT(), "mariadb").with_variant(mysql.LONGTEXT(), "mysql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["app_name", "user_id", "session_id"],
            ["agent_sessions.app_name", "agent_sessions.user_id", "agent_sessions.id"],
            name=op.f("fk_agent_events_agent_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("app_name", "user_id", "session_id", "sequence", name=op.f("pk_agent_events")),
        sa.UniqueConstraint(
            "app_name", "user_id", "session_id", "id", name=op.f("uq_agent_events_app_name_user_id_session_id_id")
        ),
    )
    with op.batch_alter_table("agent_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_events_session_time", ["app_name", "user_id", "session_id", "timestamp"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_events", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_events_session_time")

    op.drop_table("agent_events")
    op.drop_table("agent_user_states")
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_sessions_user_updated")

    op.drop_table("agent_sessions")
    op.drop_table("agent_runs")
    op.drop_table("agent_app_states")
