"""The four scenarios of the session-storage guide: which halves of a conversation survive.

The gateway's store keeps the history the UI shows; each agent's store keeps what the agent
remembers. Whether each is persistent decides what users get after a refresh or a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Scenario(StrEnum):
    A = "A"  # both persistent
    B = "B"  # neither
    C = "C"  # agents only
    D = "D"  # gateway only

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]

    @property
    def caveat(self) -> str | None:
        return _CAVEATS.get(self)

    @property
    def broken(self) -> bool:
        return self is Scenario.D


_MEANINGS = {
    Scenario.A: "gateway and agents persistent: full history in the UI and agents that remember, across restarts",
    Scenario.B: "nothing persistent: history and agent memory are lost on every restart",
    Scenario.C: "only agents persistent: agents remember, but the UI shows no history after a refresh",
    Scenario.D: "only the gateway persistent: the UI shows history the agents have forgotten (broken experience)",
}
_CAVEATS = {
    Scenario.B: "for local development and testing only, never for production",
    Scenario.C: "for headless or API-only deployments without a web UI",
    Scenario.D: "the agent acts as if every message were the first; give each agent a sql store",
}


def pair_scenario(gateway_persistent: bool, agent_persistent: bool) -> Scenario:
    if gateway_persistent:
        return Scenario.A if agent_persistent else Scenario.D
    return Scenario.C if agent_persistent else Scenario.B


def deployment_scenario(gateway_persistent: bool, agents_persistent: Mapping[str, bool]) -> Scenario:
    """The deployment's scenario: its worst agent decides. No agent store at all counts as agents
    without persistence (their memory is not kept here)."""
    if gateway_persistent:
        return Scenario.A if agents_persistent and all(agents_persistent.values()) else Scenario.D
    return Scenario.C if any(agents_persistent.values()) else Scenario.B
