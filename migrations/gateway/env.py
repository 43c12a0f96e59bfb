"""Alembic environment of the gateway lineage. Run by infrastructure.sql.migrate, which passes the
connection (sync driver) and holds the cross-process lock."""

from alembic import context

from infrastructure.sql.gateway.tables import metadata

config = context.config
context.configure(
    connection=config.attributes["connection"],
    target_metadata=metadata,
    version_table=config.attributes["version_table"],
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
