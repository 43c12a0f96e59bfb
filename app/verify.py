"""`session-store verify`: the guide's "Verify Migration" steps, run for real against a config.

Starts the server on the config, starts a conversation with an agent, sends a message (a gateway
chat task and an agent event), restarts the server process, checks the history is visible and the
agent's context is there, sends another message, and checks the agent remembers. Each step is
printed with PASS or FAIL; the exit status is 1 if any failed, so Scenarios B, C and D fail exactly
where the guide says they break.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt

from infrastructure.config.model import AuthMode, Config

READY_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _headers(config: Config, user: str) -> dict[str, str]:
    auth = config.auth
    if auth.mode is AuthMode.JWT:
        if not auth.jwt.secret:
            raise SystemExit("verify: auth.mode jwt with a public key: verify cannot mint a token for itself")
        claims = {"sub": user, "exp": int(time.time()) + 600, "scope": "platform:read platform:write"}
        claims |= {k: v for k, v in (("aud", auth.jwt.audience), ("iss", auth.jwt.issuer)) if v}
        algorithm = (auth.jwt.algorithms or ["HS256"])[0]
        return {"Authorization": f"Bearer {jwt.encode(claims, auth.jwt.secret, algorithm=algorithm)}"}
    if auth.mode is AuthMode.TRUSTED_HEADER:
        return {"Authorization": f"Bearer {auth.trusted_header.token}", auth.trusted_header.header: user}
    return {"X-User-Id": user}


class _Server:
    def __init__(self, config_file: Path, port: int) -> None:
        self.command = [sys.executable, "-m", "app.cli", "serve", "--config", str(config_file), "--port", str(port)]
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = (self.process.stderr.read() if self.process.stderr else b"").decode().strip()
                raise RuntimeError(f"the server exited: {error.splitlines()[-1] if error else self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {READY_TIMEOUT_S}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def run_verify(config: Config, config_file: Path, out: Callable[[str], None] = print) -> int:
    agents = config.agents or []
    if not agents:
        out("FAIL  the config has no agent: there is no agent to remember the conversation (scenario D)")
        return 1
    agent = agents[0].name
    user = f"verify-{uuid.uuid4().hex[:8]}"
    session_id = f"web-session-{uuid.uuid4().hex}"
    headers = _headers(config, user)
    server = _Server(config_file, _free_port())
    failures = 0

    # One client for every step, as one browser: its cookie (mode none's user, and the session it
    # names) goes along across the restart.
    browser = httpx.Client(base_url=server.url, headers=headers, timeout=30)

    def step(name: str, check: Callable[[httpx.Client], Any]) -> None:
        nonlocal failures
        try:
            detail = check(browser)
            out(f"PASS  {name}" + (f": {detail}" if detail else ""))
        except Exception as exc:  # a failed step is reported, and the next ones still run
            failures += 1
            out(f"FAIL  {name}: {exc}")

    def expect(response: httpx.Response, *statuses: int) -> dict[str, Any]:
        if response.status_code not in statuses:
            raise AssertionError(
                f"{response.request.method} {response.request.url.path} answered "
                f"{response.status_code}: {response.text[:200]}"
            )
        body: dict[str, Any] = response.json() if response.content else {}
        return body

    def message(client: httpx.Client, task_id: str, text: str, delta: dict[str, Any]) -> None:
        bubbles = json.dumps([{"type": "user", "text": text}, {"type": "agent", "text": f"noted: {text}"}])
        expect(
            client.post(
                f"/api/v1/sessions/{session_id}/chat-tasks",
                json={"taskId": task_id, "userMessage": text, "messageBubbles": bubbles},
            ),
            201,
            200,
        )
        event = {
            "invocationId": task_id,
            "author": "user",
            "content": {"parts": [{"text": text}]},
            "actions": {"stateDelta": delta},
        }
        expect(client.post(f"/api/v1/agents/{agent}/sessions/{session_id}/events", json=event), 201)

    try:
        server.start()
        out(f"PASS  start the server on {config_file}")
    except RuntimeError as exc:
        out(f"FAIL  start the server on {config_file}: {exc}")
        return 1
    try:

        def begin(c: httpx.Client) -> str:
            gateway_session = {"id": session_id, "name": "session-store verify", "agentId": agent}
            expect(c.post("/api/v1/sessions", json=gateway_session), 201)
            run = {"sessionId": session_id, "behavior": "PERSISTENT"}
            expect(c.post(f"/api/v1/agents/{agent}/runs", json=run), 201)
            return f"session {session_id} with agent {agent}"

        step("start a conversation with an agent", begin)
        step("send a message", lambda c: message(c, "verify-1", "My name is Ana", {"user:name": "Ana"}))
        server.stop()
        try:
            server.start()
            out("PASS  restart the application")
        except RuntimeError as exc:
            out(f"FAIL  restart the application: {exc}")
            return 1

        def history(c: httpx.Client) -> str:
            tasks = expect(c.get(f"/api/v1/sessions/{session_id}/chat-tasks"), 200)["tasks"]
            if [t["taskId"] for t in tasks] != ["verify-1"]:
                raise AssertionError(f"the UI would show {len(tasks)} earlier message(s), not 1")
            return "the earlier message is there"

        step("refresh: conversation history is visible", history)

        def another(c: httpx.Client) -> None:
            expect(
                c.post(f"/api/v1/agents/{agent}/runs", json={"sessionId": session_id, "behavior": "PERSISTENT"}), 201
            )
            message(c, "verify-2", "What is my name?", {})

        step("send another message to the same agent", another)

        def remembers(c: httpx.Client) -> str:
            session = expect(c.get(f"/api/v1/agents/{agent}/sessions/{session_id}"), 200)
            said = [e.get("content", {}).get("parts", [{}])[0].get("text") for e in session["events"]]
            if "My name is Ana" not in said or session["state"].get("user:name") != "Ana":
                raise AssertionError(f"the agent has {len(said)} event(s) and no memory of the first message")
            return f"{len(said)} events, state user:name = Ana"

        step("the agent remembers the previous conversation", remembers)

        def clean_up(c: httpx.Client) -> None:
            c.delete(f"/api/v1/sessions/{session_id}")
            c.delete(f"/api/v1/agents/{agent}/sessions/{session_id}")

        step("clean up", clean_up)
    finally:
        browser.close()
        server.stop()
    out("verified: conversations survive restarts" if failures == 0 else f"{failures} step(s) failed")
    return 1 if failures else 0
