"""Paging: offset pages as the incumbent gateway has them, plus opaque keyset cursors.

A cursor is the sort key of the last row a client saw. It is opaque to clients (base64url of a
JSON pair) but validated on the way in, so a forged or truncated cursor is a clear 400 and never a
query with garbage in it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.errors import InvalidInput

T = TypeVar("T")

MAX_PAGE_SIZE = 100
# How deep offset paging goes: past it a search is better narrowed than paged.
MAX_OFFSET = 10_000


@dataclass(frozen=True, slots=True)
class SortKey:
    """Position of a row in a list ordered by (time, id)."""

    time: int
    id: str


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Either offset paging (`number`) or keyset paging (`after`), never both."""

    size: int = 20
    number: int = 1
    after: SortKey | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise InvalidInput("pageSize", f"must be between 1 and {MAX_PAGE_SIZE}")
        if self.number < 1:
            raise InvalidInput("pageNumber", "must be 1 or more")

    @property
    def offset(self) -> int:
        return 0 if self.after is not None else (self.number - 1) * self.size


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    request: PageRequest
    total: int | None
    next_cursor: str | None

    @property
    def total_pages(self) -> int | None:
        if self.total is None:
            return None
        return -(-self.total // self.request.size)

    @property
    def next_page(self) -> int | None:
        if self.total is None or self.request.number * self.request.size >= self.total:
            return None
        return self.request.number + 1


def encode_cursor(key: SortKey) -> str:
    raw = json.dumps([key.time, key.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "cursor") -> SortKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        time, ident = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidInput(field, "is not a cursor this service issued") from exc
    if not isinstance(time, int) or isinstance(time, bool) or not isinstance(ident, str):
        raise InvalidInput(field, "is not a cursor this service issued")
    return SortKey(time, ident)


def encode_offset(offset: int) -> str:
    """A cursor for lists in an order with no stable key (relevance): how many rows came before."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def decode_offset(cursor: str, field: str = "cursor") -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        offset = json.loads(raw)["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(field, "is not a cursor this service issued") from exc
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(field, "is not a cursor this service issued")
    return offset


def page_of(rows: list[T], request: PageRequest, total: int | None, key_of: Callable[[T], SortKey]) -> Page[T]:
    """Build a page from `size + 1` fetched rows; the extra row only says that more follow."""
    items = rows[: request.size]
    cursor = encode_cursor(key_of(items[-1])) if len(rows) > request.size else None
    return Page(items=items, request=request, total=total, next_cursor=cursor)


@dataclass(frozen=True, slots=True)
class Batches:
    """How a whole read is cut into batches, each read in a short transaction of its own: as many
    rows as fit in `budget` (at least one, at most `most`), from the sizes of the rows ahead, read
    `ahead` at a time before the rows themselves. A whole history streams with the memory of one
    batch, whatever its length or its rows' sizes, and most chats fit in one batch."""

    most: int = 64
    budget: int = 4 * 1024 * 1024
    ahead: int = 1000

    def counts(self, sizes: Iterable[int]) -> Iterator[int]:
        """How many rows each batch takes, in order, for rows of these sizes."""
        count = held = 0
        for size in sizes:
            if count and (count == self.most or held + size > self.budget):
                yield count
                count = held = 0
            count += 1
            held += size
        if count:
            yield count
