"""What every use case checks of the ids and names a caller sends, and the clock they share."""

from __future__ import annotations

import re
import time

from domain.errors import InvalidInput

MAX_NAME_LENGTH = 255
# Ids travel in URL paths and log lines: keep them to a character set that needs no escaping.
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,254}")


def check_id(field: str, value: str) -> str:
    if not _ID_PATTERN.fullmatch(value):
        raise InvalidInput(
            field, "must be 1-255 characters of letters, digits and . _ : @ -, starting with a letter or digit"
        )
    return value


def check_name(field: str, value: str) -> str:
    if not value.strip():
        raise InvalidInput(field, "must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(field, f"must be at most {MAX_NAME_LENGTH} characters")
    return value


def epoch_ms() -> int:
    """Now, in epoch milliseconds: the services' default clock (times on the wire are epoch ms)."""
    return time.time_ns() // 1_000_000
