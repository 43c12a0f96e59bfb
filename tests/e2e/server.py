"""A real `session-store serve` process, as users run it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def one_database_config(directory: Path, url: str) -> Path:
    """A config file with the gateway store and one agent, `a`, on the database at `url`."""
    config = directory / "c.yaml"
    config.write_text(
        f'session_service:\n  type: sql\n  database_url: "{url}"\n'
        f'agents:\n  - name: a\n    session_service: {{type: sql, database_url: "{url}"}}\n'
    )
    return config


def agents_config(directory: Path, agents: dict[str, str], auth: str = "") -> Path:
    """A config file with the gateway in memory and each agent of `agents` (name: database URL),
    `auth` (YAML under `auth:`) when given."""
    listed = "".join(
        f'  - name: {name}\n    session_service: {{type: sql, database_url: "{url}"}}\n' for name, url in agents.items()
    )
    config = directory / "c.yaml"
    config.write_text(f"session_service: {{type: memory}}\nagents:\n{listed}" + (f"auth:\n{auth}" if auth else ""))
    return config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    def __init__(self, config: Path, cwd: Path, port: int | None = None) -> None:
        self.config, self.cwd = config, cwd
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self.log = cwd / f"server-{self.port}.log"

    def start(self, args: list[str] | None = None, env: dict[str, str] | None = None) -> Server:
        """`session-store serve` with `args` (default: this config, this port) and `env` (default: ours)."""
        arguments = args if args is not None else ["--config", str(self.config), "--port", str(self.port)]
        command = [sys.executable, "-m", "app.cli", "serve", *arguments]
        env = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"}
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT, text=True, env=env
            )
        return self

    def wait_ready(self, timeout: float = 30) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not ready after {timeout}s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, as a crash or an OOM kill."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def client(self, user: str = "alice") -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-User-Id": user}, timeout=10)
