"""What every use case checks of the ids and names a caller sends, and the clock they share."""

from __future__ import annotations

import re
import time
from typing import Any

from domain.errors import InvalidInput, Unprocessable

MAX_NAME_LENGTH = 255
# Ids travel in URL paths and log lines: keep them to a character set that needs no escaping.
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,254}")


def check_id(field: str, value: str) -> str:
    if not _ID_PATTERN.fullmatch(value):
        raise InvalidInput(
            field, "must be 1-255 characters of letters, digits and . _ : @ -, starting with a letter or digit"
        )
    return value


# The largest whole number every client holds exactly (a JavaScript number) and every store keeps.
MAX_WHOLE = 2**53 - 1
# The most rows one read may ask for: what every store's LIMIT takes.
MAX_COUNT = 2**31 - 1


def check_whole(field: str, value: int, low: int = 0, high: int = MAX_WHOLE) -> int:
    """A number a caller sends for a time, a sequence or a count: within what every store keeps,
    so a 20-digit one is the caller's error (400), never the database's (500)."""
    if not low <= value <= high:
        raise InvalidInput(field, f"must be between {low} and {high}")
    return value


def check_name(field: str, value: str) -> str:
    if not value or not value.strip():
        raise InvalidInput(field, "must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(field, f"must be at most {MAX_NAME_LENGTH} characters")
    return value


NUL_REASON = "must not contain a NUL character (U+0000)"


def nul_at(value: Any, path: str) -> str | None:
    """Where a NUL character is in a JSON-like value (in a key or a string), as a dotted path from
    `path`; None if nowhere. No store may be handed one: PostgreSQL cannot keep it in text or jsonb."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found = where if "\x00" in str(key) else nul_at(item, where)
            if found is not None:
                return found.replace("\x00", "\\u0000")
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_at(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def refuse_nul(value: Any, field: str) -> None:
    where = nul_at(value, field)
    if where is not None:
        raise Unprocessable(where, NUL_REASON)


def epoch_ms() -> int:
    """Now, in epoch milliseconds: the services' default clock (times on the wire are epoch ms)."""
    return time.time_ns() // 1_000_000
