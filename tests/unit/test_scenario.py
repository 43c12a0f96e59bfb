"""Scenarios A-D as the session-storage guide defines them."""

from __future__ import annotations

import pytest

from domain.scenario import Scenario, deployment_scenario, pair_scenario


@pytest.mark.parametrize(
    ("gateway", "agents", "expected"),
    [
        (True, {"a": True, "b": True}, Scenario.A),
        (False, {"a": False}, Scenario.B),
        (False, {"a": True}, Scenario.C),
        (True, {"a": False}, Scenario.D),
        (True, {"a": True, "b": False}, Scenario.D),  # one forgetful agent breaks the experience
        (False, {"a": True, "b": False}, Scenario.C),
        (True, {}, Scenario.D),
        (False, {}, Scenario.B),
    ],
)
def test_the_deployment_scenario(gateway: bool, agents: dict[str, bool], expected: Scenario) -> None:
    assert deployment_scenario(gateway, agents) is expected


def test_each_pair_and_what_it_means() -> None:
    assert [pair_scenario(g, a) for g, a in [(True, True), (False, False), (False, True), (True, False)]] == list(
        Scenario
    )
    assert Scenario.D.broken and "broken" in Scenario.D.meaning
    assert not Scenario.A.broken and Scenario.A.caveat is None
    assert "development" in (Scenario.B.caveat or "") and "headless" in (Scenario.C.caveat or "")
