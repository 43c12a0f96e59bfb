"""A database that does not answer is a 503 with Retry-After, never a 500 or a hang."""

from __future__ import annotations

from litestar.testing import TestClient

from app.factory import create_app
from infrastructure.config.model import AgentConfig, Config, SessionServiceConfig, StoreType

NOTHING_LISTENS = "postgresql://postgres:pw@127.0.0.1:1/none"


def test_requests_answer_503_and_readiness_says_why() -> None:
    config = Config(
        session_service=SessionServiceConfig(StoreType.SQL, NOTHING_LISTENS),
        agents=[AgentConfig("agent-a", SessionServiceConfig(StoreType.SQL, NOTHING_LISTENS))],
    )
    with TestClient(create_app(config)) as client:
        for method, path in [
            ("GET", "/api/v1/sessions"),
            ("POST", "/api/v1/sessions"),
            ("GET", "/api/v1/agents/agent-a/sessions"),
            ("POST", "/api/v1/agents/agent-a/sessions"),
        ]:
            response = client.request(method, path, json={} if method == "POST" else None)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "pw" not in response.text
        ready = client.get("/health/ready")
        assert ready.status_code == 503 and ready.headers["retry-after"] == "5"
        assert ready.json()["stores"]["gateway"] == {
            "type": "sql",
            "reachable": False,
            "error": "the database did not answer",
        }
        assert ready.json()["agents"]["agent-a"]["reachable"] is False
        assert client.get("/health").status_code == 200
