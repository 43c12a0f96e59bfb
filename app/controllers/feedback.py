"""Thumbs up or down on a chat task, and the caller's feedback as the gateway lists it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.params import QueryParameter

from app.dependencies import Gateway, UserId
from app.examples import FEEDBACK, FEEDBACK_CREATE, answer, body
from app.guards import identified
from app.openapi import errors
from app.schemas import FeedbackAccepted, FeedbackCreate, FeedbackResponse
from domain.errors import MalformedRequest
from domain.gateway.model import FeedbackType
from domain.paging import PageRequest
from domain.ports import FeedbackFilter

IsoDate = Annotated[
    str | None,
    QueryParameter(description="ISO 8601 date or date-time (UTC unless it says otherwise), inclusive."),
]


def _epoch_ms(field: str, value: str | None) -> int | None:
    """An ISO 8601 date or date-time as epoch ms; unparsable is a 400, as the gateway answers."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedRequest(field, f"Invalid {field} format: expected ISO 8601") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class FeedbackController(Controller):
    path = "/api/v1/feedback"
    guards = [identified]  # who is calling before what they asked: 401 ahead of a 400
    tags = ["Feedback"]

    @post(
        "/",
        summary="Record feedback on a task (merged into its taskMetadata.feedback when the task is the caller's)",
        description="202 whatever the task: feedback on a task the store does not hold is kept, as the gateway "
        "keeps it, and the answer says nothing of what is stored.",
        status_code=202,
        responses={
            **answer(FeedbackAccepted, {"status": "feedback received"}, "Received.", 202),
            **errors(413, 422),
        },
    )
    async def record(
        self, data: Annotated[FeedbackCreate, body(FEEDBACK_CREATE)], gateway: Gateway, user_id: UserId
    ) -> FeedbackAccepted:
        await gateway.record_feedback(
            user_id,
            session_id=data.session_id,
            task_id=data.task_id,
            rating=FeedbackType(data.feedback_type),
            comment=data.feedback_text,
        )
        return FeedbackAccepted()

    @get(
        "/",
        summary="The caller's feedback, newest first",
        responses={**answer(list[FeedbackResponse], [FEEDBACK], "A bare list."), **errors(400, 404, 422)},
    )
    async def list_feedback(
        self,
        gateway: Gateway,
        user_id: UserId,
        task_id: Annotated[
            str | None, QueryParameter(description="Only feedback on this task (one of the caller's, else 404).")
        ] = None,
        session_id: Annotated[str | None, QueryParameter(description="Only feedback on this session.")] = None,
        rating: Annotated[Literal["up", "down"] | None, QueryParameter(description="Only this rating.")] = None,
        start_date: IsoDate = None,
        end_date: IsoDate = None,
        page: Annotated[int, QueryParameter(ge=1, le=1_000_000, description="1-based page number.")] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=100, description="Rows per page (1-100).")] = 20,
    ) -> list[FeedbackResponse]:
        where = FeedbackFilter(
            user_id,
            session_id,
            task_id,
            FeedbackType(rating) if rating else None,
            _epoch_ms("start_date", start_date),
            _epoch_ms("end_date", end_date),
        )
        found = await gateway.list_feedback(where, PageRequest(size=page_size, number=page))
        return [FeedbackResponse.of(f) for f in found]
