"""Gateway sessions: the conversations a user sees in the web UI's side bar."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import QueryParameter

from app.dependencies import Gateway, UserId
from app.examples import MOVE, PAGINATION, RENAME, SESSION, SESSION_CREATE, answer, body
from app.guards import identified
from app.identity import remember
from app.openapi import errors
from app.params import Cursor, PageNumber, PageSize, SessionId, page_request
from app.schemas import (
    ProjectMove,
    SessionCreate,
    SessionEnvelope,
    SessionList,
    SessionRename,
    SessionResponse,
    Viewed,
    ViewedRequest,
)
from domain.errors import MalformedRequest
from domain.gateway.model import SessionSource

SESSION_PAGE = {"data": [SESSION], "meta": {"pagination": PAGINATION}}
AgentFilter = Annotated[str | None, QueryParameter(name="agent_id", description="Only this agent's sessions.")]
AgentFilterCamel = Annotated[str | None, QueryParameter(name="agentId", description="Alias of agent_id.")]
ProjectFilter = Annotated[str | None, QueryParameter(name="project_id", description="Only this project's sessions.")]
ProjectFilterCamel = Annotated[str | None, QueryParameter(name="projectId", description="Alias of project_id.")]


def _source(value: str | None) -> SessionSource | None:
    if value is None:
        return None
    try:
        return SessionSource(value)
    except ValueError:
        raise MalformedRequest("source", "must be chat or scheduler") from None


class SessionController(Controller):
    path = "/api/v1/sessions"
    guards = [identified]  # who is calling before what they asked: 401 ahead of a 400
    tags = ["Sessions"]

    @post(
        "/",
        summary="Create a session",
        description="As the gateway makes one on a conversation's first message. A taken id, or the id of a "
        "deleted session, is a 409.",
        status_code=201,
        responses={**answer(SessionEnvelope, {"data": SESSION}, "The session.", 201), **errors(409, 413, 422)},
    )
    async def create(
        self,
        data: Annotated[SessionCreate, body(SESSION_CREATE)],
        gateway: Gateway,
        user_id: UserId,
        request: Request[Any, Any, Any],
    ) -> SessionEnvelope:
        session = await gateway.create_session(
            user_id,
            session_id=data.id,
            name=data.name,
            agent_id=data.agent_id,
            project_id=data.project_id,
            project_name=data.project_name,
            source=SessionSource(data.source),
            has_running_background_task=data.has_running_background_task,
            scheduled_task_id=data.scheduled_task_id,
            scheduled_task_name=data.scheduled_task_name,
        )
        remember(request, session_id=session.id)
        return SessionEnvelope(SessionResponse.of(session))

    @get(
        "/",
        summary="List the caller's sessions, newest activity first",
        responses={**answer(SessionList, SESSION_PAGE, "A page of sessions."), **errors(400, 422)},
    )
    async def list_sessions(
        self,
        gateway: Gateway,
        user_id: UserId,
        page_number: PageNumber = 1,
        page_size: PageSize = 20,
        cursor: Cursor = None,
        agent_id: AgentFilter = None,
        agent_id_camel: AgentFilterCamel = None,
        project_id: ProjectFilter = None,
        project_id_camel: ProjectFilterCamel = None,
        source: Annotated[
            str | None, QueryParameter(description="`chat` or `scheduler`; anything else is a 400.")
        ] = None,
    ) -> SessionList:
        page = await gateway.list_sessions(
            user_id,
            page_request(page_number, page_size, cursor),
            agent_id=agent_id or agent_id_camel,
            project_id=project_id or project_id_camel,
            source=_source(source),
        )
        return SessionList.of(page)

    @get(
        "/search",
        summary="Search the caller's sessions by name",
        description="Case-insensitive, in session names only, as the gateway searches. Text inside messages: "
        "`GET /api/v1/search/messages`.",
        responses={**answer(SessionList, SESSION_PAGE, "A page of sessions."), **errors(422)},
    )
    async def search(
        self,
        gateway: Gateway,
        user_id: UserId,
        text: Annotated[str, QueryParameter(name="query", min_length=1, max_length=255, description="Text to find.")],
        page_number: PageNumber = 1,
        page_size: PageSize = 20,
        cursor: Cursor = None,
        agent_id: AgentFilter = None,
        agent_id_camel: AgentFilterCamel = None,
        project_id: ProjectFilter = None,
        project_id_camel: ProjectFilterCamel = None,
    ) -> SessionList:
        page = await gateway.search_sessions(
            user_id,
            text,
            page_request(page_number, page_size, cursor),
            agent_id=agent_id or agent_id_camel,
            project_id=project_id or project_id_camel,
        )
        return SessionList.of(page)

    @get(
        "/{session_id:str}",
        summary="Read a session",
        description="`null`, `undefined` and blank ids are a 404, as another user's session is.",
        responses={**answer(SessionEnvelope, {"data": SESSION}, "The session."), **errors(404, 422)},
    )
    async def read(self, session_id: SessionId, gateway: Gateway, user_id: UserId) -> SessionEnvelope:
        return SessionEnvelope(SessionResponse.of(await gateway.get_session(user_id, session_id)))

    @patch(
        "/{session_id:str}",
        summary="Rename a session",
        description="The name is trimmed; missing, empty, blank or over 255 characters is a 422.",
        responses={**answer(SessionResponse, SESSION, "The session, not wrapped."), **errors(404, 413, 422)},
    )
    async def rename(
        self, session_id: SessionId, data: Annotated[SessionRename, body(RENAME)], gateway: Gateway, user_id: UserId
    ) -> SessionResponse:
        return SessionResponse.of(await gateway.rename_session(user_id, session_id, data.name))

    @post(
        "/{session_id:str}/viewed",
        summary="Mark a session as seen now",
        description="Later reads carry `lastViewedAt`; the UI shows a session as unseen while "
        "`updatedTime > (lastViewedAt ?? createdTime)`. The body is ignored (the UI sends `{}`).",
        status_code=200,
        responses={**answer(Viewed, {"lastViewedAt": SESSION["lastViewedAt"]}, "When."), **errors(404)},
    )
    async def viewed(
        self,
        session_id: SessionId,
        gateway: Gateway,
        user_id: UserId,
        data: Annotated[ViewedRequest | None, body({})] = None,
    ) -> Viewed:
        session = await gateway.mark_viewed(user_id, session_id)
        return Viewed(session.last_viewed_at or 0)

    @patch(
        "/{session_id:str}/project",
        summary="Move a session into a project, or out of any (projectId null)",
        responses={
            **answer(SessionResponse, {**SESSION, "projectId": MOVE["projectId"]}, "The session, not wrapped."),
            **errors(404, 413, 422),
        },
    )
    async def move(
        self, session_id: SessionId, data: Annotated[ProjectMove, body(MOVE)], gateway: Gateway, user_id: UserId
    ) -> SessionResponse:
        return SessionResponse.of(
            await gateway.move_to_project(user_id, session_id, data.project_id, data.project_name)
        )

    @delete(
        "/{session_id:str}",
        summary="Delete a session with its chat tasks and feedback",
        status_code=204,
        responses=errors(404, 422),
    )
    async def remove(self, session_id: SessionId, gateway: Gateway, user_id: UserId) -> None:
        await gateway.delete_session(user_id, session_id)
