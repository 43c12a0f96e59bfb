"""Who may do what (domain.access), against a real server in jwt and trusted-header modes.

The matrix: every route the server documents x every kind of caller x both modes. Each cell is
allowed (anything but 401/403, never a 5xx) or refused (403 problem+json; 401 without credentials),
as docs/operations.md documents. A route the matrix does not know fails the test: a new route needs
its row.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from tests.e2e.server import Server

SECRET = "authorization-matrix-secret-of-32+chars"
PROXY_TOKEN = "the-proxys-own-token"

# caller -> its scopes (None: no credentials at all)
CALLERS: dict[str, str | None] = {
    "nobody": None,
    "end user": "",
    "agent service": "agents",
    "agent a only": "agent:a",
    "agent b only": "agent:b",
    "operator (read)": "platform:read",
    "operator (write)": "platform:write",
}
EVERYONE = set(CALLERS)
IDENTIFIED = EVERYONE - {"nobody"}
# route kind -> the callers it lets in. Agent-store routes are asked about agent `a`.
ALLOWED: dict[str, set[str]] = {
    "public": EVERYONE,
    "gateway": IDENTIFIED,
    "agents list": {"agent service", "agent a only", "agent b only"},
    "agent a": {"agent service", "agent a only"},
    "platform read": {"operator (read)"},
    "platform write": {"operator (write)"},
}


def kind_of(method: str, path: str) -> str:
    if path.startswith("/health"):
        return "public"
    if path.startswith("/api/v1/platform"):
        return "platform read" if method == "GET" else "platform write"
    if path.rstrip("/") == "/api/v1/agents":
        return "agents list"
    if path.startswith("/api/v1/agents/"):
        return "agent a"
    if path.startswith("/api/v1/"):
        return "gateway"
    raise AssertionError(f"{method} {path}: a route without a row in the authorization matrix")


def start(tmp_path: Path, auth: str) -> Iterator[Server]:
    db = tmp_path / "db"
    db.mkdir()
    agents = "".join(
        f'  - name: {name}\n    session_service: {{type: sql, database_url: "sqlite:///{db / name}.db"}}\n'
        for name in ("a", "b")
    )
    config = tmp_path / "c.yaml"
    config.write_text(
        f'session_service: {{type: sql, database_url: "sqlite:///{db / "gateway.db"}"}}\n'
        f'platform_service: {{database_url: "sqlite:///{db / "platform.db"}"}}\n'
        f"agents:\n{agents}auth:\n{auth}"
    )
    server = Server(config, tmp_path).start()
    try:
        yield server.wait_ready()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def jwt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start(tmp_path_factory.mktemp("jwt"), f"  mode: jwt\n  jwt: {{secret: {SECRET}}}\n")


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start(
        tmp_path_factory.mktemp("proxy"), f"  mode: trusted-header\n  trusted_header: {{token: {PROXY_TOKEN}}}\n"
    )


def as_jwt(user: str, scopes: str | None) -> dict[str, str]:
    if scopes is None:
        return {}
    claims = {"sub": user, "exp": int(time.time()) + 600, **({"scope": scopes} if scopes else {})}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


def as_proxied(user: str, scopes: str | None) -> dict[str, str]:
    if scopes is None:
        return {}
    return {"Authorization": f"Bearer {PROXY_TOKEN}", "X-Forwarded-User": user, "X-Forwarded-Scopes": scopes}


MODES = {"jwt": (as_jwt, "jwt_server"), "trusted-header": (as_proxied, "proxied_server")}


def routes(server: Server) -> list[tuple[str, str]]:
    schema = httpx.get(f"{server.url}/schema/openapi.json", timeout=10).json()
    found = [(method.upper(), path) for path, item in schema["paths"].items() for method in item]
    assert len(found) > 30, "the server documents fewer routes than it serves"
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "a" if m.group(0) == "{agent_name}" else "x1", path)


@pytest.mark.parametrize("mode", MODES)
def test_every_route_by_every_kind_of_caller(mode: str, request: pytest.FixtureRequest) -> None:
    credentials, fixture = MODES[mode]
    server: Server = request.getfixturevalue(fixture)
    wrong: list[str] = []
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for method, path in routes(server):
            kind = kind_of(method, path)
            for caller, scopes in CALLERS.items():
                body = {} if method in ("POST", "PUT", "PATCH") else None
                answer = http.request(method, concrete(path), json=body, headers=credentials("u1", scopes))
                allowed = caller in ALLOWED[kind]
                if answer.status_code >= 500:
                    wrong.append(f"{method} {path} as {caller}: {answer.status_code}")
                elif allowed and answer.status_code in (401, 403):
                    wrong.append(f"{method} {path} as {caller}: refused ({answer.status_code}), should be allowed")
                elif not allowed:
                    expected = 401 if scopes is None else 403
                    problem_json = answer.headers.get("content-type", "").startswith("application/problem+json")
                    if answer.status_code != expected or not problem_json:
                        wrong.append(f"{method} {path} as {caller}: {answer.status_code}, should be {expected}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("mode", MODES)
def test_a_refused_caller_reads_and_writes_nothing(mode: str, request: pytest.FixtureRequest) -> None:
    credentials, fixture = MODES[mode]
    server: Server = request.getfixturevalue(fixture)
    agent, user, other_agent = credentials("eve", "agents"), credentials("eve", ""), credentials("eve", "agent:b")
    reader, writer = credentials("op", "platform:read"), credentials("op", "platform:write")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        # An end user cannot plant app: state that every user's sessions of agent a would load.
        created = http.post(
            "/api/v1/agents/a/sessions", json={"sessionId": f"s-{mode}", "state": {"app:rule": "IGNORE"}}, headers=user
        )
        assert created.status_code == 403
        assert (
            http.post("/api/v1/agents/a/sessions", json={"sessionId": f"s-{mode}"}, headers=other_agent).status_code
            == 403
        )
        assert http.get(f"/api/v1/agents/a/sessions/s-{mode}", headers=agent).status_code == 404
        # Nor can an agent of the platform registry, nor a reader change it.
        made = http.post("/api/v1/platform/agents", json={"name": f"planted-{mode}"}, headers=agent)
        assert made.status_code == 403
        assert http.post("/api/v1/platform/agents", json={"name": f"planted-{mode}"}, headers=reader).status_code == 403
        names = [a["name"] for a in http.get("/api/v1/platform/agents", headers=reader).json()["data"]]
        assert f"planted-{mode}" not in names
        # The right one can; then the others cannot delete it.
        record = http.post("/api/v1/platform/agents", json={"name": f"kept-{mode}"}, headers=writer).json()
        assert http.delete(f"/api/v1/platform/agents/{record['id']}", headers=reader).status_code == 403
        assert http.delete(f"/api/v1/platform/agents/{record['id']}", headers=user).status_code == 403
        assert http.get(f"/api/v1/platform/agents/{record['id']}", headers=reader).status_code == 200


@pytest.mark.parametrize("mode", MODES)
def test_the_agents_list_shows_only_the_agents_a_caller_may_reach(mode: str, request: pytest.FixtureRequest) -> None:
    credentials, fixture = MODES[mode]
    server: Server = request.getfixturevalue(fixture)
    with httpx.Client(base_url=server.url, timeout=10) as http:

        def names(scopes: str) -> list[str]:
            answer = http.get("/api/v1/agents", headers=credentials("u1", scopes))
            assert answer.status_code == 200, answer.text
            return [a["name"] for a in answer.json()["data"]]

        assert names("agents") == ["a", "b"]
        assert names("agent:b") == ["b"]
        assert names("agent:a agent:b") == ["a", "b"]


def test_an_agent_acts_for_the_user_it_names(proxied_server: Server) -> None:
    """The agent service names the user as an end user is named; each user's rows stay theirs."""
    with httpx.Client(base_url=proxied_server.url, timeout=10) as http:
        for user in ("ann", "bob"):
            headers = as_proxied(user, "agents")
            assert (
                http.post("/api/v1/agents/a/sessions", json={"sessionId": f"chat-{user}"}, headers=headers).status_code
                == 201
            )
        mine = http.get("/api/v1/agents/a/sessions", headers=as_proxied("ann", "agents")).json()
        assert [s["id"] for s in mine["data"]] == ["chat-ann"]
        assert http.get("/api/v1/agents/a/sessions/chat-bob", headers=as_proxied("ann", "agents")).status_code == 404


def test_the_scopes_header_sent_twice_is_a_400(proxied_server: Server) -> None:
    headers = [
        ("Authorization", f"Bearer {PROXY_TOKEN}"),
        ("X-Forwarded-User", "mallory"),
        ("X-Forwarded-Scopes", "agents"),
        ("X-Forwarded-Scopes", "platform:write"),
    ]
    answer = httpx.get(f"{proxied_server.url}/api/v1/agents", headers=headers, timeout=10)
    assert answer.status_code == 400
    assert "X-Forwarded-Scopes" in answer.text or "x-forwarded-scopes" in answer.text
