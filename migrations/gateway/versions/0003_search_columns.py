"""Search compares folded text, the same on every database: sessions.search_name,
chat_tasks.search_message and chat_tasks.search_bubbles, filled for the rows already stored.

Rewrites every row of sessions and chat_tasks (the fill, 1,000 rows a statement), after adding the
columns: on PostgreSQL the ALTER's lock on chat_tasks is held to the end of the revision, so other
instances' reads and writes of chat_tasks wait for the whole of it. At 1,000,000 tasks on
PostgreSQL (tests/reliability/test_migration_locks.py, 2026-12-05): 24 s, reads and writes waiting
up to 24 s. Rows are kept.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from infrastructure.sql.types import LongText
from migrations.backfill import bubble_texts, fill

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SEPARATOR = "\x1f"


# The rule of this revision, kept here as it was (domain.search has moved on since).
def fold(text: str | None) -> str | None:
    return None if text is None else text.replace(SEPARATOR, " ").casefold()


def fold_bubbles(message_bubbles: str) -> str:
    return SEPARATOR + SEPARATOR.join(fold(text) or "" for text in bubble_texts(message_bubbles)) + SEPARATOR


def upgrade() -> None:
    op.add_column("sessions", sa.Column("search_name", LongText, nullable=True))
    op.add_column("chat_tasks", sa.Column("search_message", LongText, nullable=True))
    op.add_column("chat_tasks", sa.Column("search_bubbles", LongText, nullable=True))
    bind = op.get_bind()
    sessions = sa.table("sessions", sa.column("id"), sa.column("name"), sa.column("search_name"))
    fill(
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
    fill(
        bind,
        tasks,
        sa.select(tasks.c.id, tasks.c.user_message, tasks.c.message_bubbles),
        lambda row: {"search_message": fold(row.user_message), "search_bubbles": fold_bubbles(row.message_bubbles)},
    )


def downgrade() -> None:
    with op.batch_alter_table("chat_tasks") as batch_op:
        batch_op.drop_column("search_bubbles")
        batch_op.drop_column("search_message")
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.drop_column("search_name")
