"""Message search: chat_tasks.search_message and search_bubbles now hold the words of the user's
message and of the bubbles' visible text (folded, cut by the rule below, separated by spaces), and
a full-text index covers them, each database's own: PostgreSQL a tsvector column
and a GIN index, MySQL/MariaDB a FULLTEXT index, SQLite an FTS5 table kept by triggers. And the
user's tasks by time, which a search narrows to first.

Rewrites every row of chat_tasks: the fill (1,000 rows a statement; reads go on meanwhile), then on
PostgreSQL the stored tsvector column rewrites the table and the GIN index is built, under locks
held to the end of the revision. At 1,000,000 tasks on PostgreSQL
(tests/reliability/test_migration_locks.py, 2026-12-05): 48 s, reads of chat_tasks waiting up to
18 s, writes up to 20 s. Rows are kept.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import re
from typing import Any

import sqlalchemy as sa
from alembic import op

from migrations.backfill import bubble_texts, fill

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

VECTOR = "to_tsvector('simple', coalesce(search_message, '') || ' ' || coalesce(search_bubbles, ''))"

# SQLite: the FTS5 table holds its own copy of the folded text; chat_tasks_fts_rows says which of its
# rows is which task (chat_tasks has no integer key a VACUUM would keep).
SQLITE_UP = [
    """CREATE VIRTUAL TABLE chat_tasks_fts USING fts5(
        task_id UNINDEXED, user_id, search_message, search_bubbles, tokenize = 'unicode61 remove_diacritics 0')""",
    "CREATE TABLE chat_tasks_fts_rows (task_id VARCHAR(255) NOT NULL PRIMARY KEY, fts_rowid INTEGER NOT NULL)",
    """CREATE TRIGGER chat_tasks_fts_insert AFTER INSERT ON chat_tasks BEGIN
        INSERT INTO chat_tasks_fts (task_id, user_id, search_message, search_bubbles)
            VALUES (new.id, new.user_id, new.search_message, new.search_bubbles);
        INSERT INTO chat_tasks_fts_rows (task_id, fts_rowid) VALUES (new.id, last_insert_rowid());
    END""",
    """CREATE TRIGGER chat_tasks_fts_update AFTER UPDATE OF user_id, search_message, search_bubbles ON chat_tasks
    BEGIN
        UPDATE chat_tasks_fts
            SET user_id = new.user_id, search_message = new.search_message, search_bubbles = new.search_bubbles
            WHERE rowid = (SELECT fts_rowid FROM chat_tasks_fts_rows WHERE task_id = old.id);
    END""",
    """CREATE TRIGGER chat_tasks_fts_delete AFTER DELETE ON chat_tasks BEGIN
        DELETE FROM chat_tasks_fts WHERE rowid = (SELECT fts_rowid FROM chat_tasks_fts_rows WHERE task_id = old.id);
        DELETE FROM chat_tasks_fts_rows WHERE task_id = old.id;
    END""",
]
SQLITE_FILL = [
    """INSERT INTO chat_tasks_fts (task_id, user_id, search_message, search_bubbles)
        SELECT id, user_id, search_message, search_bubbles FROM chat_tasks""",
    "INSERT INTO chat_tasks_fts_rows (task_id, fts_rowid) SELECT task_id, rowid FROM chat_tasks_fts",
]


_WORD = re.compile(r"\w+")


# The rule of this revision (domain.search.indexed), kept here as it is now.
def indexed(texts: list[str]) -> str:
    return " ".join(word for text in texts if text for word in _WORD.findall(text.casefold()))


def _words(row: Any) -> dict[str, Any]:
    message = None if row.user_message is None else indexed([row.user_message])
    return {"search_message": message, "search_bubbles": indexed(bubble_texts(row.message_bubbles))}


def upgrade() -> None:
    tasks = sa.table(
        "chat_tasks",
        sa.column("id"),
        sa.column("user_message"),
        sa.column("message_bubbles"),
        sa.column("search_message"),
        sa.column("search_bubbles"),
    )
    fill(op.get_bind(), tasks, sa.select(tasks.c.id, tasks.c.user_message, tasks.c.message_bubbles), _words)
    op.create_index("ix_chat_tasks_user_created", "chat_tasks", ["user_id", "created_time", "id"])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE chat_tasks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED")
        op.execute("CREATE INDEX ix_chat_tasks_search_vector ON chat_tasks USING gin (search_vector)")
    elif dialect in ("mysql", "mariadb"):
        op.execute("CREATE FULLTEXT INDEX ix_chat_tasks_fulltext ON chat_tasks (search_message, search_bubbles)")
    elif dialect == "sqlite":
        for statement in SQLITE_UP + SQLITE_FILL:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX ix_chat_tasks_search_vector")
        op.execute("ALTER TABLE chat_tasks DROP COLUMN search_vector")
    elif dialect in ("mysql", "mariadb"):
        op.execute("DROP INDEX ix_chat_tasks_fulltext ON chat_tasks")
    elif dialect == "sqlite":
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER chat_tasks_fts_{trigger}")
        op.execute("DROP TABLE chat_tasks_fts_rows")
        op.execute("DROP TABLE chat_tasks_fts")
    op.drop_index("ix_chat_tasks_user_created", table_name="chat_tasks")
