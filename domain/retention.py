"""Retention: sessions not updated for longer than a store keeps them are deleted, with everything
they hold, by a purge that works in small batches (each its own short transaction), so that no
request waits long behind it."""

from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 86_400_000
PURGE_BATCH = 100  # sessions (or tombstones) per transaction
TOMBSTONE_DAYS = 30  # a tombstone keeps a late save from reviving a deleted session; saves come late by seconds


def cutoff(now_ms: int, days: int) -> int:
    """The epoch ms before which a row last touched is older than `days`."""
    return now_ms - days * DAY_MS


@dataclass(frozen=True, slots=True)
class Purged:
    """What a purge deleted (or, dry, would delete) in one store."""

    sessions: int = 0
    tombstones: int = 0
