"""Who may do what: three kinds of caller, and the scopes that name their rights.

- An end user reaches their own gateway sessions, chat tasks and feedback. Being identified is the
  whole right: the gateway never shows one user another's rows, whatever else the caller may do.
- An agent (a service acting for users) reaches the agent stores: the scope `agents` for every
  configured agent, `agent:<name>` for one. It names the user it acts for the way an end user is
  named, so an agent store's rows stay per user.
- An operator reaches the platform registry: `platform:read` to read it, `platform:write` to change it.

The identity adapter (auth.mode) says which scopes a caller holds; in mode none (development) every
caller holds every right.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Forbidden

AGENTS = "agents"
AGENT_PREFIX = "agent:"
PLATFORM_READ = "platform:read"
PLATFORM_WRITE = "platform:write"


def agent_scope(name: str) -> str:
    return f"{AGENT_PREFIX}{name}"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as an identity adapter established it."""

    user_id: str
    scopes: frozenset[str] = frozenset()
    # Made up for a browser that brought no identity: the app hands it a cookie to keep.
    anonymous: bool = False
    # auth.mode none: development, where nobody is checked and every right is held.
    unrestricted: bool = False

    def may_reach_agent(self, name: str) -> bool:
        return self.unrestricted or AGENTS in self.scopes or agent_scope(name) in self.scopes

    def may_reach_agents(self) -> bool:
        """Whether any agent store is open to this caller (the agents' list shows only those)."""
        return self.unrestricted or any(s == AGENTS or s.startswith(AGENT_PREFIX) for s in self.scopes)

    def may_read_platform(self) -> bool:
        return self.unrestricted or PLATFORM_READ in self.scopes

    def may_change_platform(self) -> bool:
        return self.unrestricted or PLATFORM_WRITE in self.scopes


def refuse(needed: str) -> Forbidden:
    return Forbidden(f"this needs the scope {needed}")
