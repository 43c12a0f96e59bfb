"""Column types that mean the same on SQLite, PostgreSQL and MySQL/MariaDB."""

from __future__ import annotations

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.dialects import mysql

# Ids are short strings (checked by the domain); 255 keeps MySQL composite indexes within bounds.
Id = String(255)
Name = String(255)
# MySQL's TEXT stops at 64 KiB; a chat task can be megabytes.
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
# Epoch milliseconds, as the wire format: no DATETIME precision differences between databases.
EpochMs = BigInteger()
