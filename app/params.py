"""Query and path parameters several routes share, as the gateway's clients spell them."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from domain.paging import PageRequest, decode_cursor

PageNumber = Annotated[int, QueryParameter(name="pageNumber", ge=1, le=1_000_000, description="1-based page number.")]
PageSize = Annotated[int, QueryParameter(name="pageSize", ge=1, le=100, description="Rows per page (1-100).")]
Cursor = Annotated[
    str | None,
    QueryParameter(
        name="cursor", description="`nextCursor` of the previous page: keyset paging, stable under inserts."
    ),
]
SessionId = Annotated[str, PathParameter(description="The session id.")]


def page_request(page_number: int, page_size: int, cursor: str | None) -> PageRequest:
    return PageRequest(size=page_size, number=page_number, after=decode_cursor(cursor) if cursor else None)
