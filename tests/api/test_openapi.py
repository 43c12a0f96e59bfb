"""The OpenAPI document is what REST clients read: every route, its types and its errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from app.docs import SCALAR_BUNDLE
from tests.databases import IN_CI

Client = TestClient  # type: ignore[type-arg]


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_every_api_route_documents_its_response_and_problem_errors(client: Client) -> None:
    spec = client.get("/schema/openapi.json").json()
    assert spec["info"]["title"] == "Session Store"
    paths = set(spec["paths"])
    assert {
        "/api/v1/sessions",
        "/api/v1/sessions/search",
        "/api/v1/sessions/{session_id}",
        "/api/v1/sessions/{session_id}/chat-tasks",
        "/api/v1/sessions/{session_id}/messages",
        "/api/v1/feedback",
        "/api/v1/platform/agents",
        "/health",
        "/health/ready",
    } <= paths
    for method, path, op in operations(spec):
        if not path.startswith("/api/"):
            continue
        assert op.get("summary"), (method, path)
        errors = {code: r for code, r in op["responses"].items() if code.startswith(("4", "5"))}
        assert errors, (method, path)
        for response in errors.values():
            assert "application/problem+json" in response["content"], (method, path)
        if method in ("post", "patch") and not path.startswith("/api/v1/platform") and not path.endswith("/end"):
            assert "requestBody" in op, (method, path)


def test_the_task_schema_uses_the_gateways_camel_case_names(client: Client) -> None:
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    task = next(v for k, v in schemas.items() if k.endswith("TaskResponse"))
    assert set(task["properties"]) == {
        "taskId",
        "sessionId",
        "userMessage",
        "messageBubbles",
        "taskMetadata",
        "createdTime",
        "updatedTime",
    }


@pytest.mark.parametrize("ui", ["swagger", "scalar"])
def test_the_docs_uis_are_served_without_a_cdn(client: Client, ui: str) -> None:
    if ui == "scalar" and not (SCALAR_BUNDLE / "standalone.js").exists():
        message = "Scalar's bundle was not installed (make install needs npm for it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    page = client.get(f"/schema/{ui}")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/schema/static/") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


GATEWAY_ROUTES = ("/api/v1/sessions", "/api/v1/feedback", "/api/v1/search")


def test_the_gateway_routes_show_an_example_request_and_answer(client: Client) -> None:
    spec = client.get("/schema/openapi.json").json()
    checked = 0
    for method, path, op in operations(spec):
        if not path.startswith(GATEWAY_ROUTES):
            continue
        checked += 1
        success = {code: r for code, r in op["responses"].items() if code.startswith("2") and code != "204"}
        for code, response in success.items():
            assert response["content"]["application/json"].get("examples"), (method, path, code)
        if "requestBody" in op:
            assert op["requestBody"]["content"]["application/json"]["schema"].get("examples"), (method, path)
        assert "422" in op["responses"], (method, path)
        if method in ("post", "patch", "put"):
            assert "415" in op["responses"], (method, path)
    assert checked >= 14


def test_callers_are_described_as_security_schemes(client: Client) -> None:
    spec = client.get("/schema/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerJwt"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["bearerJwt"]["description"],
    }
    assert (schemes["developmentUser"]["in"], schemes["developmentUser"]["name"]) == ("header", "X-User-Id")
    assert (schemes["forwardedUser"]["in"], schemes["forwardedUser"]["name"]) == ("header", "X-Forwarded-User")
    assert spec["security"] == [{"developmentUser": []}, {}]  # mode none: the header, or an anonymous cookie
    assert spec["paths"]["/health"]["get"]["security"] == [{}]


def test_message_bubbles_describe_their_elements(client: Client) -> None:
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    for name in ("TaskSave", "TaskResponse"):
        bubbles = next(v for k, v in schemas.items() if k.endswith(name))["properties"]["messageBubbles"]
        assert bubbles["contentMediaType"] == "application/json"
        element = bubbles["contentSchema"]["items"]["properties"]
        assert element["type"]["enum"] == ["user", "agent"] and element["text"]["type"] == "string"
