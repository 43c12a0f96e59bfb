"""ADK's events and sessions, and the agent store's: one conversion for both transports.

The agent store keeps an event's id, invocation id, author and time (epoch ms) as columns and the
rest of ADK's event, as its JSON (camelCase, bytes in base64), as the body, with the exact float time
ADK gave (`timestampSeconds`): ADK's compaction compares those floats, a millisecond is not enough.
"""

from __future__ import annotations

import math
from typing import Any

from google.adk.events.event import Event
from google.adk.sessions.session import Session
from pydantic_core import to_jsonable_python

from domain.agent.service import EventInput

_COLUMNS = ("id", "invocationId", "author", "timestamp")
EXACT_TIME = "timestampSeconds"


class Stale(Exception):
    """Another writer appended since the session was read (ADK's StaleSessionError, raised by the service)."""


def epoch_ms(seconds: float) -> int:
    return math.floor(seconds * 1000)


def event_input(event: Event) -> EventInput:
    """ADK's event as the agent store takes it."""
    delta = event.actions.state_delta if event.actions else None
    if delta:
        # As ADK's database service does: a value JSON cannot hold is kept as its string form, not a
        # failed write (the in-memory session keeps the value itself).
        safe = to_jsonable_python(delta, fallback=str)
        event = event.model_copy(update={"actions": event.actions.model_copy(update={"state_delta": safe})})
    data = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    body = {key: value for key, value in data.items() if key not in _COLUMNS}
    body[EXACT_TIME] = event.timestamp
    return EventInput(event.invocation_id, event.author, body, id=event.id, timestamp=epoch_ms(event.timestamp))


def adk_event(stored: dict[str, Any]) -> Event:
    """An event as the agent store gives it back (its columns beside its body, time in ms) as ADK's."""
    fields = {key: value for key, value in stored.items() if key != "sequence"}
    fields["timestamp"] = fields.pop(EXACT_TIME, fields["timestamp"] / 1000)
    # Event's config reads bytes from base64 text, as ADK wrote them.
    return Event.model_validate(fields)


def adk_session(
    app_name: str,
    session_id: str,
    user_id: str,
    state: dict[str, Any],
    events: list[Event],
    last_update_ms: int,
    version: int,
) -> Session:
    """ADK's session, carrying the version it was read at as ADK's own stale-writer marker."""
    session = Session(
        id=session_id,
        app_name=app_name,
        user_id=user_id,
        state=state,
        events=events,
        last_update_time=events[-1].timestamp if events else last_update_ms / 1000,
    )
    session._storage_update_marker = str(version)
    return session
