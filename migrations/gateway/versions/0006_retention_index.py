"""An index on sessions by last update (updated_time): the retention purge finds the sessions older
than retention.gateway_days through it. Builds an index on sessions only; rows are kept.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sessions_updated", "sessions", ["updated_time"])


def downgrade() -> None:
    op.drop_index("ix_sessions_updated", table_name="sessions")
