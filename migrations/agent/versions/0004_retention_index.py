"""An index on each agent's sessions by last update (agent, last_update_time): the retention purge
finds the sessions older than retention.agent_days through it. Builds an index on agent_sessions
only; rows are kept.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_agent_sessions_app_updated", "agent_sessions", ["app_name", "last_update_time"])


def downgrade() -> None:
    op.drop_index("ix_agent_sessions_app_updated", table_name="agent_sessions")
