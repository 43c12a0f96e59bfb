"""Google ADK's DatabaseSessionService over HTTP: the baseline of benchmarks/agent_http.py. Not shipped.

ADK's own `adk api_server` serves sessions with FastAPI and uvicorn, but it appends events only by
running an agent (`/run`, which needs a model) or by PATCHing state, and its GET returns every event.
This is that server's session routes (same paths, same FastAPI + uvicorn stack), with the two
operations the benchmark compares added the way a thin server would add them: append an event (load
the session without its events, then `append_event`) and `get_session` with `numRecentEvents`.
Runs in the baselines' virtualenv (`make bench-baselines-env`):

    .venv-baselines/bin/python benchmarks/adk_http.py DATABASE_URL PORT [--seed 100,10000]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import uvicorn
from adk_baseline import seeded
from fastapi import Body, FastAPI, HTTPException
from google.adk.events import Event
from google.adk.sessions import DatabaseSessionService
from google.adk.sessions.base_session_service import GetSessionConfig


def build(service: DatabaseSessionService) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/apps/{app_name}/users/{user_id}/sessions")
    async def create_session(app_name: str, user_id: str, body: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008
        session = await service.create_session(app_name=app_name, user_id=user_id, session_id=body.get("sessionId"))
        return session.model_dump(mode="json", by_alias=True, exclude_none=True)

    @app.post("/apps/{app_name}/users/{user_id}/sessions/{session_id}/events")
    async def append(app_name: str, user_id: str, session_id: str, body: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008
        session = await service.get_session(
            app_name=app_name, user_id=user_id, session_id=session_id, config=GetSessionConfig(num_recent_events=0)
        )
        if session is None:
            raise HTTPException(404, "Session not found")
        event = await service.append_event(session, Event.model_validate(body))
        return event.model_dump(mode="json", by_alias=True, exclude_none=True)

    @app.get("/apps/{app_name}/users/{user_id}/sessions/{session_id}")
    async def get_session(
        app_name: str, user_id: str, session_id: str, numRecentEvents: int | None = None
    ) -> dict[str, Any]:
        config = None if numRecentEvents is None else GetSessionConfig(num_recent_events=numRecentEvents)
        session = await service.get_session(app_name=app_name, user_id=user_id, session_id=session_id, config=config)
        if session is None:
            raise HTTPException(404, "Session not found")
        return session.model_dump(mode="json", by_alias=True, exclude_none=True)

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("port", type=int)
    parser.add_argument("--seed", default="", help="comma-separated history sizes to seed as sessions size-N")
    args = parser.parse_args()
    service = DatabaseSessionService(db_url=args.url)

    async def seed() -> None:
        for size in (int(s) for s in args.seed.split(",") if s):
            await seeded(service, f"size-{size}", size)

    asyncio.run(seed())
    # A fresh service for serving: the seeding one's engine belongs to the finished event loop.
    app = build(DatabaseSessionService(db_url=args.url))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", loop="uvloop", http="httptools")


if __name__ == "__main__":
    main()
