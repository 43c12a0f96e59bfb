"""Session search gives one answer on every store (domain.search): in session names only, as the
gateway searches, case-insensitive by Unicode case folding, accent-sensitive, LIKE's wildcards
taken as plain text."""

from __future__ import annotations

import pytest

from domain.gateway.service import GatewayService
from domain.paging import PageRequest
from domain.ports import GatewayStore


@pytest.fixture
async def gateway(gateway_store: GatewayStore) -> GatewayService:
    gateway = GatewayService(gateway_store)
    await gateway.create_session("alice", session_id="lisbon", name="Trip to Lisbôa")
    await gateway.create_session("alice", session_id="street", name="Große Straße")
    await gateway.create_session("alice", session_id="greek", name="Καλημέρα ΟΔΥΣΣΕΥΣ, Ѳеодоръ МОСКВА")
    await gateway.create_session("alice", session_id="chars", name=r"100% sure, a_b, C:\temp")
    await gateway.create_session("alice", session_id="unnamed")
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
        ("  lisbôa ", ["lisbon"]),  # trimmed
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
        ("100%", ["chars"]),
        ("0% s", ["chars"]),
        ("%", ["chars"]),
        ("a_b", ["chars"]),
        ("_", ["chars"]),
        ("c:\\temp", ["chars"]),
        ("\\", ["chars"]),
    ],
)
async def test_search_is_the_same_on_every_store(gateway: GatewayService, query: str, sessions: list[str]) -> None:
    assert await found(gateway, query) == sessions


async def test_search_follows_renames(gateway: GatewayService) -> None:
    await gateway.rename_session("alice", "lisbon", "Porto")
    assert await found(gateway, "lisbôa") == []
    assert await found(gateway, "PORTO") == ["lisbon"]
