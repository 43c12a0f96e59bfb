"""SessionStoreSessionService: ADK's `BaseSessionService` with ADK's semantics, on either transport."""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any, Protocol, Self

from google.adk.errors import StaleSessionError
from google.adk.events.event import Event
from google.adk.sessions.base_session_service import BaseSessionService, GetSessionConfig, ListSessionsResponse
from google.adk.sessions.session import Session

from app.adk.embedded import Embedded
from app.adk.events import Stale, epoch_ms, event_input
from app.adk.remote import Remote
from domain.agent.service import EventInput


class Transport(Protocol):
    async def create(self, app_name: str, user_id: str, session_id: str, state: dict[str, Any] | None) -> Session: ...

    async def get(
        self, app_name: str, user_id: str, session_id: str, num_recent_events: int | None, after_ms: int | None
    ) -> Session | None: ...

    async def list(self, app_name: str, user_id: str | None) -> list[Session]:
        """Newest first, without events."""
        ...

    async def delete(self, app_name: str, user_id: str, session_id: str) -> None: ...

    async def user_state(self, app_name: str, user_id: str) -> dict[str, Any]: ...

    async def append(
        self, app_name: str, user_id: str, session_id: str, event: EventInput, expected_version: int | None
    ) -> int:
        """The session's version after the event; Stale when `expected_version` is not the stored one."""
        ...

    async def close(self) -> None: ...


class SessionStoreSessionService(BaseSessionService):
    """ADK's session service on Session Store's agent stores (app/adk/__init__.py: the URLs).

    Options of the remote transport (app/adk/remote.py): `proxy_token`, `jwt_secret`, `jwt_algorithm`,
    `jwt_issuer`, `jwt_audience`, `timeout_s`.
    """

    def __init__(self, url: str | None = None, **options: Any) -> None:
        self._transport: Transport
        if url is not None and url.startswith(("http://", "https://")):
            self._transport = Remote(url, **options)
        elif options:
            raise TypeError(f"options {sorted(options)} are for the remote transport (an http(s):// URL)")
        else:
            self._transport = Embedded(url)

    async def create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        state: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Session:
        wanted = session_id.strip() if session_id and session_id.strip() else str(uuid.uuid4())
        return await self._transport.create(app_name, user_id, wanted, state)

    async def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        config: GetSessionConfig | None = None,
    ) -> Session | None:
        config = config or GetSessionConfig()
        after = config.after_timestamp
        # ADK's bound is inclusive and exact; the store's is exclusive, in milliseconds: ask for the
        # millisecond before, then keep the exact ones.
        session = await self._transport.get(
            app_name, user_id, session_id, config.num_recent_events, None if after is None else epoch_ms(after) - 1
        )
        if session is not None and after is not None:
            session.events = [event for event in session.events if event.timestamp >= after]
        return session

    async def list_sessions(self, *, app_name: str, user_id: str | None = None) -> ListSessionsResponse:
        sessions = await self._transport.list(app_name, user_id)
        sessions.reverse()  # ADK lists the oldest first
        return ListSessionsResponse(sessions=sessions)

    async def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> None:
        await self._transport.delete(app_name, user_id, session_id)  # ADK's services delete what is not there quietly

    async def get_user_state(self, *, app_name: str, user_id: str) -> dict[str, Any]:
        return await self._transport.user_state(app_name, user_id)

    async def append_event(self, session: Session, event: Event) -> Event:
        if event.partial:
            return event
        self._apply_temp_state(session, event)
        event = self._trim_temp_delta_state(event)
        marker = session._storage_update_marker
        try:
            version = await self._transport.append(
                session.app_name,
                session.user_id,
                session.id,
                event_input(event),
                int(marker) if marker is not None else None,
            )
        except Stale as exc:
            raise StaleSessionError(
                "The session was changed in storage since it was read: read it again, then append."
            ) from exc
        session.last_update_time = event.timestamp
        session._storage_update_marker = str(version)
        return self._commit_event_to_session(session, event)

    async def close(self) -> None:
        await self._transport.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
