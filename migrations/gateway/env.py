"""Alembic environment of the gateway lineage, run by infrastructure.sql.migrate (which holds the lock)."""

from infrastructure.sql.gateway.tables import metadata
from infrastructure.sql.migrate import run_env

run_env(metadata)
