"""Column types that mean the same on SQLite, PostgreSQL and MySQL/MariaDB."""

from __future__ import annotations

from sqlalchemy import BigInteger, MetaData, String, Text
from sqlalchemy.dialects import mysql

# Ids are short strings (checked by the domain); 255 keeps MySQL composite indexes within bounds.
Id = String(255)
Name = String(255)
# MySQL's TEXT stops at 64 KiB; a chat task can be megabytes.
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
# Epoch milliseconds, as the wire format: no DATETIME precision differences between databases.
EpochMs = BigInteger()


def compare_exactly(metadata: MetaData) -> None:
    """On MySQL/MariaDB every text column of these tables compares exactly, as on PostgreSQL and
    SQLite: their default collations fold case, so `CAROL` would read `carol`'s rows (the tables
    created before are converted by migrations/exact_text.py)."""
    for table in metadata.tables.values():
        table.dialect_kwargs.update(mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin")
