"""Schema fuzzing: schemathesis generates requests from /schema/openapi.json and runs them through
the app on SQLite. No 5xx, and every response matches what the document says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from litestar import Litestar
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.factory import create_app
from app.stores import migrate_all
from infrastructure.config.model import PlatformServiceConfig
from tests.api.conftest import app_config

EXAMPLES_PER_OPERATION = 12


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: Any, value: Any) -> bytes:
    """The import's body (NDJSON, a string in the document) as schemathesis generates it."""
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Litestar]:
    tmp_path: Path = tmp_path_factory.mktemp("fuzz")
    config = app_config("sqlite", tmp_path)
    import msgspec

    config = msgspec.structs.replace(
        config, platform_service=PlatformServiceConfig(f"sqlite:///{tmp_path / 'platform.db'}")
    )
    migrate_all(config)
    yield create_app(config)


@pytest.fixture(scope="module")
def api_schema(app: Litestar) -> Any:
    return schemathesis.openapi.from_asgi("/schema/openapi.json", app)


def test_no_server_error_and_responses_match_the_document(api_schema: Any) -> None:
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    failures: list[str] = []
    calls: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            calls.append(case.operation.label)
            case.call_and_validate(checks=checks)

        try:
            run()
        except Exception as exc:  # collect every operation's first failure, then report them all
            failures.append(f"{operation.label}: {str(exc).strip().splitlines()[0][:300]}")
    assert operations >= 30
    assert len(calls) >= operations * 3  # every operation was really exercised
    assert failures == []
