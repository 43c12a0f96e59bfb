"""An ADK agent remembers: a real Runner and LlmAgent (on a scripted model) over several turns, the
later ones in a new process, embedded on PostgreSQL and remote through a server restarted between
turns. What the model is sent on the third turn holds the first two."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.adk import SessionStoreSessionService
from tests.adk.scripted import turn
from tests.databases import fresh_database
from tests.e2e.server import Server, agents_config

TOKEN = "runner-test-proxy-token"
FIRST, SECOND, THIRD = "My name is Ana", "I live in Lisbon", "What do you know about me?"


def third_turn_in_a_new_process(tmp_path: Path, url: str, *token: str) -> list[str]:
    out = tmp_path / "third.json"
    command = [sys.executable, "-m", "tests.adk.scripted", url, "s1", THIRD, str(out), *token]
    subprocess.run(command, check=True, cwd=Path(__file__).parents[2], timeout=120)
    said: list[str] = json.loads(out.read_text())
    return said


def assert_remembers(said: list[str]) -> None:
    assert said == [
        f"user: {FIRST}",
        f"model: noted: {FIRST}",
        f"user: {SECOND}",
        f"model: noted: {SECOND}",
        f"user: {THIRD}",
    ]


async def test_an_embedded_agent_remembers_across_turns_and_processes(tmp_path: Path) -> None:
    with fresh_database("postgres") as url:
        async with SessionStoreSessionService(url) as service:
            assert await turn(service, "s1", FIRST) == [f"user: {FIRST}"]
            assert await turn(service, "s1", SECOND) == [f"user: {FIRST}", f"model: noted: {FIRST}", f"user: {SECOND}"]
        assert_remembers(third_turn_in_a_new_process(tmp_path, url))


async def test_a_remote_agent_remembers_through_a_server_restart(tmp_path: Path) -> None:
    with fresh_database("postgres") as url:
        auth = f"  mode: trusted-header\n  trusted_header: {{token: {TOKEN}}}\n"
        config = agents_config(tmp_path, {"helper": url}, auth)
        server = Server(config, tmp_path).start().wait_ready()
        try:
            async with SessionStoreSessionService(server.url, proxy_token=TOKEN) as service:
                await turn(service, "s1", FIRST)
                await turn(service, "s1", SECOND)
            server.stop()
            server.start().wait_ready()
            assert_remembers(third_turn_in_a_new_process(tmp_path, server.url, TOKEN))
        finally:
            server.stop()


async def test_the_remote_transport_signs_its_own_tokens_for_a_jwt_server(tmp_path: Path) -> None:
    secret = "adk-service-shared-secret-of-32-chars+"
    auth = f"  mode: jwt\n  jwt: {{secret: {secret}, issuer: platform}}\n"
    config = agents_config(tmp_path, {"helper": f"sqlite:///{tmp_path / 'a.db'}"}, auth)
    server = Server(config, tmp_path).start().wait_ready()
    try:
        async with SessionStoreSessionService(server.url, jwt_secret=secret, jwt_issuer="platform") as service:
            assert await turn(service, "s1", FIRST) == [f"user: {FIRST}"]
            assert (await turn(service, "s1", SECOND))[:2] == [f"user: {FIRST}", f"model: noted: {FIRST}"]
            assert (await service.get_user_state(app_name="helper", user_id="ana")) == {}
        async with SessionStoreSessionService(server.url, jwt_secret="not-the-servers-secret-at-all-32+") as wrong:
            with pytest.raises(ConnectionError, match="401"):
                await wrong.get_session(app_name="helper", user_id="ana", session_id="s1")
    finally:
        server.stop()
