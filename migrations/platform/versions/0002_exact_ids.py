"""Ids, user ids and names compare exactly on MySQL/MariaDB (a binary collation); rows are kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from migrations.exact_text import convert

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("platform_agents", "platform_connectors", "platform_deployments")


def upgrade() -> None:
    convert(TABLES, exact=True)


def downgrade() -> None:
    convert(TABLES, exact=False)
