"""Platform tables: agents (unique name), connectors, deployments (referencing an agent).

Revision ID: 0001
Revises:
Create Date: 2026-11-25 08:27:27.612785
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
        "platform_agents",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "description",
            sa.Text().with_variant(mysql.LONGTEXT(), "mariadb").with_variant(mysql.LONGTEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "config",
            sa.Text().with_variant(mysql.LONGTEXT(), "mariadb").with_variant(mysql.LONGTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_agents")),
        sa.UniqueConstraint("name", name=op.f("uq_platform_agents_name")),
    )
    with op.batch_alter_table("platform_agents", schema=None) as batch_op:
        batch_op.create_index("ix_platform_agents_created", ["created_time", "id"], unique=False)

    op.create_table(
        "platform_connectors",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column(
            "config",
            sa.Text().with_variant(mysql.LONGTEXT(), "mariadb").with_variant(mysql.LONGTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_connectors")),
    )
    with op.batch_alter_table("platform_connectors", schema=None) as batch_op:
        batch_op.create_index("ix_platform_connectors_created", ["created_time", "id"], unique=False)

    op.create_table(
        "platform_deployments",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("agent_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "config",
            sa.Text().with_variant(mysql.LONGTEXT(), "mariadb").with_variant(mysql.LONGTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["platform_agents.id"], name=op.f("fk_platform_deployments_agent_id_platform_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_deployments")),
    )
    with op.batch_alter_table("platform_deployments", schema=None) as batch_op:
        batch_op.create_index("ix_platform_deployments_agent", ["agent_id"], unique=False)
        batch_op.create_index("ix_platform_deployments_created", ["created_time", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("platform_deployments", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_deployments_created")
        batch_op.drop_index("ix_platform_deployments_agent")

    op.drop_table("platform_deployments")
    with op.batch_alter_table("platform_connectors", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_connectors_created")

    op.drop_table("platform_connectors")
    with op.batch_alter_table("platform_agents", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_agents_created")

    op.drop_table("platform_agents")
