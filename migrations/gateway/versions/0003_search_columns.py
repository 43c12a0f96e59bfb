"""Search compares folded text, the same on every database: sessions.search_name,
chat_tasks.search_message and chat_tasks.search_bubbles, filled for the rows already stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from domain.search import fold, fold_bubbles
from infrastructure.sql.types import LongText

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    op.add_column("sessions", sa.Column("search_name", LongText, nullable=True))
    op.add_column("chat_tasks", sa.Column("search_message", LongText, nullable=True))
    op.add_column("chat_tasks", sa.Column("search_bubbles", LongText, nullable=True))
    bind = op.get_bind()
    sessions = sa.table("sessions", sa.column("id"), sa.column("name"), sa.column("search_name"))
    _fill(
        bind,
        sessions,
        sa.select(sessions.c.id, sessions.c.name),
        lambda row: {"search_name": fold(row.name)},
    )
    tasks = sa.table(
        "chat_tasks",
        sa.column("id"),
        sa.column("user_message"),
        sa.column("message_bubbles"),
        sa.column("search_message"),
        sa.column("search_bubbles"),
    )
    _fill(
        bind,
        tasks,
        sa.select(tasks.c.id, tasks.c.user_message, tasks.c.message_bubbles),
        lambda row: {"search_message": fold(row.user_message), "search_bubbles": fold_bubbles(row.message_bubbles)},
    )


def _fill(bind, table, rows, values) -> None:  # type: ignore[no-untyped-def]
    """Compute the folded columns of every row, BATCH rows at a time in the order of their ids."""
    update = sa.update(table).where(table.c.id == sa.bindparam("key"))
    last = None
    while True:
        page = rows.order_by(table.c.id).limit(BATCH)
        found = bind.execute(page if last is None else page.where(table.c.id > last)).all()
        if not found:
            return
        bind.execute(update, [{"key": row.id, **values(row)} for row in found])
        last = found[-1].id


def downgrade() -> None:
    with op.batch_alter_table("chat_tasks") as batch_op:
        batch_op.drop_column("search_bubbles")
        batch_op.drop_column("search_message")
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.drop_column("search_name")
