"""JSON written as it is read: a whole history goes from the store to the socket batch by batch,
so the server holds one batch whatever the history's size (domain GatewayService.whole_history)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Generic, TypeVar

import msgspec
from litestar import Response
from litestar.response import Stream

T = TypeVar("T")
_encode = msgspec.json.encode


async def json_array(
    batches: AsyncIterator[list[T]], render: Callable[[T], Iterable[Any]], head: bytes = b"[", tail: bytes = b"]"
) -> Response[bytes] | Stream:
    """`head`, then every rendered item of every batch as one JSON array's elements, then `tail`.
    The first two batches are read before answering: what the first raises (404) is the answer, and a
    history that fits in one batch, as most do, goes out whole, without the cost of a stream."""
    elements = _Elements(render)
    first = await anext(batches, None)
    second = None if first is None else await anext(batches, None)
    if first is None or second is None:
        return Response(head + elements.of(first or []) + tail, media_type="application/json")
    opening = head + elements.of(first)

    async def chunks() -> AsyncIterator[bytes]:
        yield opening
        yield elements.of(second)
        async for batch in batches:
            yield elements.of(batch)
        yield tail

    return Stream(chunks(), media_type="application/json")


class _Elements(Generic[T]):
    """Batches' rendered items as array elements: comma-separated across batches."""

    def __init__(self, render: Callable[[T], Iterable[Any]]) -> None:
        self._render = render
        self._comma = b""

    def of(self, batch: list[T]) -> bytes:
        parts = []
        for item in batch:
            for rendered in self._render(item):
                parts.append(self._comma + _encode(rendered))
                self._comma = b","
        return b"".join(parts)
