"""Connector secrets on a real server: masked on every read, kept on a write-back, encrypted at
rest, and readable across a key rotation (PLATFORM_SECRET_KEY, _PREVIOUS, `db reseal`)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from domain.platform.service import PlatformService
from infrastructure.sql.platform.store import SqlPlatformStore
from tests.e2e.server import Server
from tests.unit.test_secrets import PLANTED

P = "/api/v1/platform"


def serve(tmp_path: Path, key: str, previous: str = "") -> tuple[Server, dict[str, str]]:
    config = tmp_path / "c.yaml"
    config.write_text(
        f'session_service: {{type: memory}}\nplatform_service: {{database_url: "sqlite:///{tmp_path}/platform.db"}}\n'
    )
    env = {**os.environ, "PLATFORM_SECRET_KEY": key, "PLATFORM_SECRET_KEY_PREVIOUS": previous}
    return Server(config, tmp_path).start(env=env).wait_ready(), env


def test_secrets_are_masked_kept_and_encrypted_across_a_rotation(tmp_path: Path) -> None:
    server, _ = serve(tmp_path, "first-key")
    try:
        with httpx.Client(base_url=server.url, headers={"X-User-Id": "op"}, timeout=10) as http:
            made = http.post(f"{P}/connectors", json={"name": "crm", "type": "http", "config": PLANTED})
            assert made.status_code == 201
            ident = made.json()["id"]
            agent = http.post(f"{P}/agents", json={"name": "helper", "config": {"apiKey": "S3CRET-a"}}).json()
            deployment = http.post(
                f"{P}/deployments", json={"agentId": agent["id"], "config": {"dsn": "mysql://u:S3CRET-d@h/db"}}
            ).json()
            reads = [
                made.text,
                http.get(f"{P}/connectors/{ident}").text,
                http.get(f"{P}/connectors").text,
                http.get(f"{P}/agents/{agent['id']}").text,
                http.get(f"{P}/deployments/{deployment['id']}").text,
                http.get(f"{P}/deployments").text,
            ]
            assert not [r for r in reads if "S3CRET" in r]
            # Read, change one field, write the whole config back: the secrets stay as they were.
            config = http.get(f"{P}/connectors/{ident}").json()["config"]
            config["url"] = "https://crm2.example.com"
            patched = http.patch(f"{P}/connectors/{ident}", json={"config": config})
            assert patched.status_code == 200 and "S3CRET" not in patched.text
    finally:
        server.stop()

    with sqlite3.connect(tmp_path / "platform.db") as db:
        at_rest = [
            row[0] for t in ("platform_connectors", "platform_agents") for row in db.execute(f"SELECT config FROM {t}")
        ]
    assert at_rest and not [value for value in at_rest if "S3CRET" in value or "crm" in value]

    # Rotation: the new key first, the old one still listed; then reseal; then the old key goes.
    server, env = serve(tmp_path, "second-key", previous="first-key")
    try:
        with httpx.Client(base_url=server.url, headers={"X-User-Id": "op"}, timeout=10) as http:
            assert http.get(f"{P}/connectors/{ident}").status_code == 200
    finally:
        server.stop()
    config_file = str(tmp_path / "c.yaml")
    resealed = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "reseal", "--config", config_file],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert resealed.returncode == 0, resealed.stderr
    assert "3 config(s) sealed" in resealed.stdout and "first-key" not in resealed.stdout + resealed.stderr

    server, _ = serve(tmp_path, "second-key")
    try:
        with httpx.Client(base_url=server.url, headers={"X-User-Id": "op"}, timeout=10) as http:
            stored = http.get(f"{P}/connectors/{ident}").json()["config"]
            assert stored["url"] == "https://crm2.example.com" and stored["password"] == "***"
    finally:
        server.stop()
    assert "second-key" not in server.output() and "first-key" not in server.output()


async def test_the_stored_secrets_are_what_was_sent(tmp_path: Path) -> None:
    """What the write-back kept is each secret itself, read back through the domain (which may see it)."""
    server, _ = serve(tmp_path, "only-key")
    try:
        async with httpx.AsyncClient(base_url=server.url, headers={"X-User-Id": "op"}, timeout=10) as http:
            made = await http.post(f"{P}/connectors", json={"name": "c", "type": "t", "config": PLANTED})
            ident = made.json()["id"]
            shown = (await http.get(f"{P}/connectors/{ident}")).json()["config"]
            assert (await http.patch(f"{P}/connectors/{ident}", json={"config": shown})).status_code == 200
    finally:
        server.stop()
    store = SqlPlatformStore.at(f"sqlite:///{tmp_path}/platform.db", ["only-key"])
    try:
        assert (await PlatformService(store).get_connector(ident)).config == PLANTED
    finally:
        await store.close()
