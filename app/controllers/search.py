"""Message search: words of what the caller wrote and their agents answered, across all their chats."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from app.dependencies import Gateway, UserId
from app.examples import HIT, answer
from app.guards import identified
from app.openapi import errors
from app.params import Cursor
from app.schemas import MessageHitList, MessageHitResponse


class SearchController(Controller):
    path = "/api/v1/search"
    guards = [identified]  # who is calling before what they asked: 401 ahead of a 400
    tags = ["Search"]

    @get(
        "/messages",
        summary="Search the caller's messages",
        description="Chat tasks of the caller's whose message or answers hold every word of `query` "
        "(case-insensitive, accents count, whole words), most relevant first, then newest. Each hit: its "
        "session, its task and a snippet, HTML-escaped, the matches between `<mark>` and `</mark>`. "
        "`nextCursor` pages on. How each database ranks: docs/search.md.",
        responses={**answer(MessageHitList, {"data": [HIT], "nextCursor": None}, "A page of hits."), **errors(422)},
    )
    async def messages(
        self,
        gateway: Gateway,
        user_id: UserId,
        text: Annotated[
            str, QueryParameter(name="query", min_length=1, max_length=255, description="The words to find.")
        ],
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="Hits per page (1-100).")] = 20,
        cursor: Cursor = None,
    ) -> MessageHitList:
        hits, next_cursor = await gateway.search_messages(user_id, text, limit=limit, cursor=cursor)
        return MessageHitList([MessageHitResponse.of(hit) for hit in hits], next_cursor)
