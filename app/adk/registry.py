"""Session Store in ADK's service registry, so `adk web` and `adk api_server` take it by URI:

    adk api_server --session_service_uri "sessionstore+postgresql://user:pass@db:5432/agents" agents/

`sessionstore+<url>` is SessionStoreSessionService(<url>) (`sessionstore://` alone: in memory). Register
it from the agents directory's `services.py` (`from app.adk.registry import register; register()`),
or with no code, in its `services.yaml`, one entry per scheme used:

    services:
      - scheme: sessionstore+postgresql
        type: session
        class: app.adk.registry.from_uri
"""

from __future__ import annotations

from typing import Any

from google.adk.cli.service_registry import get_service_registry

from app.adk.service import SessionStoreSessionService

PREFIX = "sessionstore"
SCHEMES = ("sqlite", "postgresql", "mysql+pymysql", "mysql", "mariadb", "memory", "http", "https")
# What ADK's CLI passes every factory, which the service has no use for.
_ADK_ONLY = ("agents_dir",)


def from_uri(uri: str, **options: Any) -> SessionStoreSessionService:
    """The service for `sessionstore+<url>` (or `sessionstore://`: in memory), as ADK's registry calls
    a factory; options other than ADK's own are the remote transport's."""
    scheme, _, rest = uri.partition("://")
    if not scheme.startswith(PREFIX):
        raise ValueError(f"not a Session Store URI (sessionstore+<database or server URL>): {scheme}://...")
    inner = scheme.removeprefix(PREFIX).removeprefix("+")
    url = f"{inner}://{rest}" if inner and inner != "memory" else None
    return SessionStoreSessionService(url, **{k: v for k, v in options.items() if k not in _ADK_ONLY})


def register() -> None:
    """Make every `sessionstore[+<scheme>]://` URI one ADK's registry resolves to this service."""
    registry = get_service_registry()
    for scheme in (PREFIX, *(f"{PREFIX}+{name}" for name in SCHEMES)):
        registry.register_session_service(scheme, from_uri)
