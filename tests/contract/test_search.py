"""Search gives one answer on every store (domain.search): case-insensitive by Unicode case folding,
accent-sensitive, over the text a user sees, within one field, never in JSON keys."""

from __future__ import annotations

import json

import pytest

from domain.gateway.service import GatewayService, TaskInput
from domain.paging import PageRequest
from domain.ports import GatewayStore


def bubbles(*texts: str) -> str:
    return json.dumps([{"type": "agent", "text": text, "messageType": "text"} for text in texts])


@pytest.fixture
async def gateway(gateway_store: GatewayStore) -> GatewayService:
    gateway = GatewayService(gateway_store)
    await gateway.create_session("alice", session_id="lisbon", name="Trip to Lisbôa")
    await gateway.create_session("alice", session_id="street", name="Große Straße")
    await gateway.save_task("alice", "greek", TaskInput("t-greek", bubbles("Καλημέρα ΟΔΥΣΣΕΥΣ"), "Ѳеодоръ МОСКВА"))
    await gateway.save_task("alice", "two", TaskInput("t-two", bubbles("first half", "second half"), "alpha"))
    await gateway.save_task("alice", "chars", TaskInput("t-chars", bubbles(r"100% sure, a_b, C:\temp"), None))
    await gateway.create_session("bob", session_id="bobs", name="Lisbôa too")
    return gateway


async def found(gateway: GatewayService, query: str) -> list[str]:
    return sorted(s.id for s in (await gateway.search_sessions("alice", query, PageRequest())).items)


@pytest.mark.parametrize(
    ("query", "sessions"),
    [
        ("Lisbôa", ["lisbon"]),
        ("LISBÔA", ["lisbon"]),
        ("lisbôa", ["lisbon"]),
        ("lisboa", []),  # accents count
        ("STRASSE", ["street"]),  # ß folds to ss
        ("strasse", ["street"]),
        ("große", ["street"]),
        ("GROSSE", ["street"]),
        ("ὀδυσσεύς", []),  # accented Greek is another word
        ("οδυσσευσ", ["greek"]),  # final sigma folds to σ
        ("καλημέρα", ["greek"]),
        ("москва", ["greek"]),
        ("ѳеодоръ", ["greek"]),
        ("half second", []),  # a needle never spans two fields (bubbles)
        ("alpha first", []),  # nor the message and a bubble
        ("second half", ["two"]),
        ("100%", ["chars"]),
        ("0% s", ["chars"]),
        ("%", ["chars"]),
        ("a_b", ["chars"]),
        ("_", ["chars"]),
        ("c:\\temp", ["chars"]),
        ("\\", ["chars"]),
        ("messageType", []),  # JSON keys are not text a user sees
        ("type", []),
        ('"text"', []),
        ("agent", []),  # nor the bubbles' markup values
    ],
)
async def test_search_is_the_same_on_every_store(gateway: GatewayService, query: str, sessions: list[str]) -> None:
    assert await found(gateway, query) == sessions


async def test_search_follows_renames_and_resaves(gateway: GatewayService) -> None:
    await gateway.rename_session("alice", "lisbon", "Porto")
    assert await found(gateway, "lisbôa") == []
    assert await found(gateway, "PORTO") == ["lisbon"]
    await gateway.save_task("alice", "two", TaskInput("t-two", bubbles("ÉTÉ"), None))  # the message is kept
    assert await found(gateway, "été") == ["two"]
    assert await found(gateway, "half") == []
    assert await found(gateway, "ALPHA") == ["two"]
