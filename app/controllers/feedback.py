"""Thumbs up or down on a chat task."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.params import JSONBody, Parameter, QueryParameter

from app.dependencies import Gateway, UserId
from app.guards import identified
from app.openapi import errors
from app.params import Cursor, PageNumber, PageSize, page_request
from app.schemas import FeedbackAccepted, FeedbackCreate, FeedbackList
from domain.gateway.model import FeedbackType
from domain.ports import FeedbackFilter

OptionalId = Annotated[str | None, Parameter(description="Only feedback on this id.")]


class FeedbackController(Controller):
    path = "/api/v1/feedback"
    guards = [identified]  # who is calling before what they asked: 401 ahead of a 400
    tags = ["Feedback"]

    @post(
        "/",
        summary="Record feedback on a task (also merged into its taskMetadata.feedback)",
        status_code=202,
        responses=errors(400, 404, 413),
    )
    async def record(self, data: JSONBody[FeedbackCreate], gateway: Gateway, user_id: UserId) -> FeedbackAccepted:
        await gateway.record_feedback(
            user_id,
            session_id=data.session_id,
            task_id=data.task_id,
            rating=FeedbackType(data.feedback_type),
            comment=data.feedback_text,
        )
        return FeedbackAccepted()

    @get("/", summary="The caller's feedback, newest first", responses=errors(400))
    async def list_feedback(
        self,
        gateway: Gateway,
        user_id: UserId,
        session_id: Annotated[str | None, QueryParameter(name="sessionId")] = None,
        task_id: Annotated[str | None, QueryParameter(name="taskId")] = None,
        rating: Annotated[Literal["up", "down"] | None, QueryParameter(name="rating")] = None,
        start_time: Annotated[int | None, QueryParameter(name="startTime", description="Epoch ms, inclusive.")] = None,
        end_time: Annotated[int | None, QueryParameter(name="endTime", description="Epoch ms, inclusive.")] = None,
        page_number: PageNumber = 1,
        page_size: PageSize = 20,
        cursor: Cursor = None,
    ) -> FeedbackList:
        where = FeedbackFilter(
            user_id, session_id, task_id, FeedbackType(rating) if rating else None, start_time, end_time
        )
        return FeedbackList.of(await gateway.list_feedback(where, page_request(page_number, page_size, cursor)))
