"""Alembic environment of the agent lineage, run by infrastructure.sql.migrate (which holds the lock)."""

from infrastructure.sql.agent.tables import metadata
from infrastructure.sql.migrate import run_env

run_env(metadata)
