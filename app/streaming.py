"""JSON written as it is read: a whole history goes from the store to the socket batch by batch,
so the server holds one batch whatever the history's size (domain GatewayService.whole_history)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

import msgspec
from litestar.response import Stream

T = TypeVar("T")
_encode = msgspec.json.encode


async def started(batches: AsyncIterator[list[T]]) -> AsyncIterator[list[T]]:
    """`batches` with its first step already taken: what it raises (404) comes before the response."""
    first = await anext(batches, None)

    async def rest() -> AsyncIterator[list[T]]:
        if first is not None:
            yield first
        async for batch in batches:
            yield batch

    return rest()


def json_array(
    batches: AsyncIterator[list[T]], render: Callable[[T], Iterable[Any]], head: bytes = b"[", tail: bytes = b"]"
) -> Stream:
    """`head`, then every rendered item of every batch as one JSON array's elements, then `tail`."""

    async def chunks() -> AsyncIterator[bytes]:
        yield head
        comma = b""
        async for batch in batches:
            parts = []
            for item in batch:
                for rendered in render(item):
                    parts.append(comma + _encode(rendered))
                    comma = b","
            yield b"".join(parts)
        yield tail

    return Stream(chunks(), media_type="application/json")
