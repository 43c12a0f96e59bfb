"""A session's chat history: the tasks (message and answering bubbles) the UI renders."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter

from app.dependencies import Gateway, UserId
from app.examples import MESSAGE, TASK, TASK_SAVE, answer, body
from app.guards import identified
from app.identity import remember, remembered_session
from app.openapi import errors
from app.params import Cursor, SessionId
from app.schemas import MessageResponse, TaskList, TaskResponse, TaskSave
from app.streaming import json_array
from domain.gateway.model import flatten_messages
from domain.gateway.service import TaskInput
from domain.paging import PageRequest, decode_cursor


class ChatTaskController(Controller):
    path = "/api/v1/sessions/{session_id:str}"
    guards = [identified]  # who is calling before what they asked: 401 ahead of a 400
    tags = ["Chat tasks"]

    @post(
        "/chat-tasks",
        summary="Save a chat task (create or update, keyed by taskId)",
        description="201 when created, 200 when updated. The session must be the caller's: a missing or deleted "
        "one is a 422, as the gateway answers (ids `null`, `undefined` and blank: 404). One exception keeps chats "
        "made in ephemeral mode: a session the caller's signed cookie names, never deleted, is created.",
        status_code=201,
        responses={
            **answer(TaskResponse, TASK, "The task as stored (201 created, 200 updated).", 201),
            **errors(404, 409, 413, 422),
        },
    )
    async def save(
        self,
        session_id: SessionId,
        data: Annotated[TaskSave, body(TASK_SAVE)],
        gateway: Gateway,
        user_id: UserId,
        request: Request[Any, Any, Any],
    ) -> Response[TaskResponse]:
        saved = await gateway.save_task(
            user_id,
            session_id,
            TaskInput(data.task_id, data.bubbles_text(), data.user_message, data.metadata_text()),
            may_create=remembered_session(request) == session_id,
        )
        remember(request, session_id=session_id)
        return Response(TaskResponse.of(saved.task), status_code=201 if saved.created else 200)

    @get(
        "/chat-tasks",
        summary="The chat history, oldest first",
        description="Without `limit` and `cursor`, the whole history, streamed as it is read.",
        responses={**answer(TaskList, {"tasks": [TASK], "nextCursor": None}, "The tasks."), **errors(404, 422)},
    )
    async def history(
        self,
        session_id: SessionId,
        gateway: Gateway,
        user_id: UserId,
        limit: Annotated[
            int | None, QueryParameter(ge=1, le=100, description="Page size; without it the whole history.")
        ] = None,
        cursor: Cursor = None,
    ) -> Response[Any]:
        if limit is None and not cursor:
            return await json_array(
                gateway.whole_history(user_id, session_id),
                lambda t: (TaskResponse.of(t),),
                head=b'{"tasks":[',
                tail=b'],"nextCursor":null}',
            )
        page = PageRequest(size=limit or 100, after=decode_cursor(cursor) if cursor else None)
        tasks = await gateway.list_tasks(user_id, session_id, page)
        return Response(TaskList([TaskResponse.of(t) for t in tasks.items], tasks.next_cursor))

    @get(
        "/messages",
        summary="The history as a flat message list (legacy view), streamed as it is read",
        responses={**answer(list[MessageResponse], [MESSAGE], "One message per bubble."), **errors(404, 422)},
    )
    async def messages(self, session_id: SessionId, gateway: Gateway, user_id: UserId) -> Response[Any]:
        return await json_array(
            gateway.whole_history(user_id, session_id), lambda t: (MessageResponse.of(m) for m in flatten_messages(t))
        )
