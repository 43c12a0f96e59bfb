"""The README's quick start, pasted as written into a shell, against `session-store serve` with the
built-in configuration (as `make run` starts it): what a new user does first must work."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx

from infrastructure.config.loader import load_config
from tests.e2e.server import Server

README = Path(__file__).resolve().parents[2] / "README.md"


def quick_start() -> str:
    section = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert found, "the README's quick start has no bash block"
    return found.group(1)


def test_the_quick_start_works_as_written(tmp_path: Path) -> None:
    server = Server(tmp_path / "unused.yaml", tmp_path)
    server.start(["--port", str(server.port)]).wait_ready()  # no --config: the built-in one
    try:
        script = quick_start().replace("localhost:8000", f"localhost:{server.port}")
        result = subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        # One JSON document per curl, printed back to back.
        decoder, text, documents = json.JSONDecoder(), result.stdout, []
        while text.strip():
            document, end = decoder.raw_decode(text.strip())
            documents.append(document)
            text = text.strip()[end:]
        created, saved, history, sessions = documents
        assert created["data"]["id"] == "web-session-1" and created["data"]["name"] == "Lisbon trip"
        assert saved["taskId"] == "task-1"
        bubbles = json.loads(history["tasks"][0]["messageBubbles"])
        assert [b["type"] for b in bubbles] == ["user", "agent"]
        assert [s["id"] for s in sessions["data"]] == ["web-session-1"]
        server.stop()
        server.start(["--port", str(server.port)]).wait_ready()  # "Restart the server"
        again = httpx.get(f"{server.url}/api/v1/sessions/web-session-1/chat-tasks", headers={"X-User-Id": "alice"})
        assert again.json()["tasks"] == history["tasks"]
    finally:
        server.stop()


def test_the_configuration_shown_loads_with_every_key_it_names(tmp_path: Path) -> None:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert found, "the README's configuration has no yaml block"
    (tmp_path / "c.yaml").write_text(found.group(1))
    config = load_config(tmp_path / "c.yaml", environ={})
    assert config.retention.gateway_days == 90 and config.server.max_import_size == 1024**3
    assert [agent.name for agent in config.agents or []] == ["agent-a"]
