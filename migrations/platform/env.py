"""Alembic environment of the platform lineage, run by infrastructure.sql.migrate (which holds the lock)."""

from infrastructure.sql.migrate import run_env
from infrastructure.sql.platform.tables import metadata

run_env(metadata)
