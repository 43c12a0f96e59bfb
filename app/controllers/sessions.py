"""Gateway sessions: the conversations a user sees in the web UI's side bar."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter

from app.dependencies import Gateway, UserId
from app.guards import identified
from app.identity import remember
from app.openapi import errors
from app.params import Cursor, PageNumber, PageSize, SessionId, page_request
from app.schemas import SessionCreate, SessionEnvelope, SessionList, SessionRename, SessionResponse


class SessionController(Controller):
    path = "/api/v1/sessions"
    guards = [identified]  # who is calling before what they asked: 401 ahead of a 400
    tags = ["Sessions"]

    @post("/", summary="Create a session", status_code=201, responses=errors(400, 409, 413))
    async def create(
        self, data: JSONBody[SessionCreate], gateway: Gateway, user_id: UserId, request: Request[Any, Any, Any]
    ) -> SessionEnvelope:
        session = await gateway.create_session(
            user_id, session_id=data.id, name=data.name, agent_id=data.agent_id, project_id=data.project_id
        )
        remember(request, session_id=session.id)
        return SessionEnvelope(SessionResponse.of(session))

    @get("/", summary="List the caller's sessions, newest activity first", responses=errors(400))
    async def list_sessions(
        self,
        gateway: Gateway,
        user_id: UserId,
        page_number: PageNumber = 1,
        page_size: PageSize = 20,
        cursor: Cursor = None,
        agent_id: Annotated[str | None, QueryParameter(name="agentId")] = None,
        agent_id_legacy: Annotated[str | None, QueryParameter(name="agent_id", description="Alias of agentId.")] = None,
        project_id: Annotated[str | None, QueryParameter(name="projectId")] = None,
        project_id_legacy: Annotated[
            str | None, QueryParameter(name="project_id", description="Alias of projectId.")
        ] = None,
    ) -> SessionList:
        page = await gateway.list_sessions(
            user_id,
            page_request(page_number, page_size, cursor),
            agent_id=agent_id or agent_id_legacy,
            project_id=project_id or project_id_legacy,
        )
        return SessionList.of(page)

    @get("/search", summary="Search the caller's sessions by name and by message text", responses=errors(400))
    async def search(
        self,
        gateway: Gateway,
        user_id: UserId,
        text: Annotated[str, QueryParameter(name="query", min_length=1, max_length=255, description="Text to find.")],
        page_number: PageNumber = 1,
        page_size: PageSize = 20,
        cursor: Cursor = None,
    ) -> SessionList:
        return SessionList.of(
            await gateway.search_sessions(user_id, text, page_request(page_number, page_size, cursor))
        )

    @get("/{session_id:str}", summary="Read a session", responses=errors(400, 404))
    async def read(self, session_id: SessionId, gateway: Gateway, user_id: UserId) -> SessionEnvelope:
        return SessionEnvelope(SessionResponse.of(await gateway.get_session(user_id, session_id)))

    @patch("/{session_id:str}", summary="Rename a session", responses=errors(400, 404, 413))
    async def rename(
        self, session_id: SessionId, data: JSONBody[SessionRename], gateway: Gateway, user_id: UserId
    ) -> SessionResponse:
        return SessionResponse.of(await gateway.rename_session(user_id, session_id, data.name))

    @delete(
        "/{session_id:str}",
        summary="Delete a session with its chat tasks and feedback",
        status_code=204,
        responses=errors(400, 404),
    )
    async def remove(self, session_id: SessionId, gateway: Gateway, user_id: UserId) -> None:
        await gateway.delete_session(user_id, session_id)
