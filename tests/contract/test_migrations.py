"""Each lineage's migrations build exactly the tables the code uses, on every SQL backend."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine

from infrastructure.sql.agent.tables import metadata as agent_metadata
from infrastructure.sql.gateway.tables import metadata as gateway_metadata
from infrastructure.sql.platform.tables import metadata as platform_metadata
from infrastructure.sql.urls import sync_url
from tests.conftest import migrated_url

LINEAGES = {"gateway": gateway_metadata, "agent": agent_metadata, "platform": platform_metadata}


@pytest.mark.parametrize("lineage", sorted(LINEAGES))
@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
def test_the_migrated_schema_is_the_schema_the_code_uses(
    request: pytest.FixtureRequest, backend: str, lineage: str
) -> None:
    metadata: MetaData = LINEAGES[lineage]
    engine = create_engine(sync_url(migrated_url(request, backend, lineage)))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, _p: kind != "table" or name in metadata.tables,
                },
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()
