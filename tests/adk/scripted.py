"""A real ADK `Runner` and `LlmAgent` on a scripted model (no network): what the model is sent each
turn is what the session service remembered. Run as a module, one turn in a process of its own:

    python -m tests.adk.scripted URL SESSION_ID TEXT OUT.json [PROXY_TOKEN]
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncGenerator
from pathlib import Path

from google.adk.agents import LlmAgent
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.runners import Runner
from google.adk.sessions.base_session_service import BaseSessionService
from google.genai import types
from pydantic import Field

from app.adk import SessionStoreSessionService

APP, USER = "helper", "ana"


class ScriptedModel(BaseLlm):
    """Answers `noted: <the user's last words>`, and keeps what it was sent."""

    model: str = "scripted"
    requests: list[list[str]] = Field(default_factory=list)

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        said = [f"{c.role}: {p.text}" for c in llm_request.contents for p in c.parts or [] if p.text]
        self.requests.append(said)
        last = next((line for line in reversed(said) if line.startswith("user: ")), "user: ")
        answer = f"noted: {last.removeprefix('user: ')}"
        yield LlmResponse(content=types.Content(role="model", parts=[types.Part(text=answer)]))


async def turn(service: BaseSessionService, session_id: str, text: str) -> list[str]:
    """One user message through a Runner; what the model was sent for it."""
    model = ScriptedModel()
    runner = Runner(
        agent=LlmAgent(name=APP, model=model, instruction="Be brief."), app_name=APP, session_service=service
    )
    if await service.get_session(app_name=APP, user_id=USER, session_id=session_id) is None:
        await service.create_session(app_name=APP, user_id=USER, session_id=session_id)
    message = types.Content(role="user", parts=[types.Part(text=text)])
    async for _ in runner.run_async(user_id=USER, session_id=session_id, new_message=message):
        pass
    return model.requests[-1]


async def main(url: str, session_id: str, text: str, out: str, proxy_token: str | None = None) -> None:
    options = {"proxy_token": proxy_token} if proxy_token else {}
    async with SessionStoreSessionService(url, **options) as service:
        Path(out).write_text(json.dumps(await turn(service, session_id, text)))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
