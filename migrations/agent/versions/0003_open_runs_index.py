"""An index on the runs still open (agent, ended_time, created_time): the server ends those older
than runs.ttl_seconds. Builds an index on agent_runs only; rows are kept.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_agent_runs_open", "agent_runs", ["app_name", "ended_time", "created_time"])


def downgrade() -> None:
    op.drop_index("ix_agent_runs_open", table_name="agent_runs")
