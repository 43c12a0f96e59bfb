"""The platform tables compare ids, user ids and names exactly on MySQL/MariaDB (a binary
collation, migrations/exact_text.py); rows are kept. Revision 0002, after 0001, 2026-11-29."""

from migrations.exact_text import migration

revision, down_revision, branch_labels, depends_on = "0002", "0001", None, None
upgrade, downgrade = migration(("platform_agents", "platform_connectors", "platform_deployments"))
