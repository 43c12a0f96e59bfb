"""Message search on every store: words of what users wrote and agents answered, through each
database's full-text index (memory scans), the caller's own tasks only, every word required,
ranked by relevance then newest, with a snippet that marks the match."""

from __future__ import annotations

import json

import pytest

from domain.errors import InvalidInput
from domain.gateway.service import GatewayService, TaskInput
from domain.ports import GatewayStore


def bubbles(*texts: str) -> str:
    return json.dumps([{"type": "agent", "text": text, "messageType": "text"} for text in texts])


class Clock:
    def __init__(self) -> None:
        self.now = 1_000

    def __call__(self) -> int:
        self.now += 1
        return self.now


@pytest.fixture
async def gateway(gateway_store: GatewayStore) -> GatewayService:
    gateway = GatewayService(gateway_store, clock=Clock())
    await gateway.create_session("alice", session_id="trip", name="Trip")
    await gateway.create_session("alice", session_id="other", name=None)
    await gateway.create_session("bob", session_id="bobs", name="Bob's")
    saves = [
        ("trip", "t-weather", bubbles("Lisbon is warm in May, around 22 degrees"), "What is the weather in Lisbon?"),
        ("trip", "t-street", bubbles("The Große Straße is long"), "Which street?"),
        ("trip", "t-accent", bubbles("Lisbôa with an accent"), None),
        ("other", "t-greek", bubbles("Καλημέρα ΟΔΥΣΣΕΥΣ"), "Ѳеодоръ МОСКВА"),
        ("other", "t-html", bubbles("use <script>alert(1)</script> carefully"), "markup question"),
        ("other", "t-halves", bubbles("first half", "second part"), "alpha"),
    ]
    for session_id, task_id, text, message in saves:
        await gateway.save_task("alice", session_id, TaskInput(task_id, text, message))
    await gateway.save_task("bob", "bobs", TaskInput("t-bob", bubbles("Lisbon for bob"), "lisbon"))
    return gateway


async def found(gateway: GatewayService, query: str, user: str = "alice") -> list[str]:
    hits, _ = await gateway.search_messages(user, query, limit=100)
    return [hit.task_id for hit in hits]


@pytest.mark.parametrize(
    ("query", "tasks"),
    [
        ("lisbon", ["t-weather"]),  # in the user's message and the answer; bob's never
        ("LISBON", ["t-weather"]),
        ("weather", ["t-weather"]),  # the user's message alone
        ("degrees", ["t-weather"]),  # the answer alone
        ("lisbon degrees", ["t-weather"]),  # every word, in any field
        ("lisbon street", []),  # every word must be there
        ("lis", []),  # words, not parts of words
        ("22", ["t-weather"]),  # short words and stop words are found too (MySQL's index leaves them out)
        ("is lisbon", ["t-weather"]),
        ("the weather", ["t-weather"]),
        ("an", ["t-accent"]),
        ("STRASSE", ["t-street"]),  # ß folds to ss
        ("große", ["t-street"]),
        ("lisbôa", ["t-accent"]),
        ("lisboa", []),  # accents count
        ("καλημέρα", ["t-greek"]),
        ("οδυσσευσ", ["t-greek"]),  # final sigma folds to σ
        ("москва", ["t-greek"]),
        ("script", ["t-html"]),
        ("messageType", []),  # JSON keys are not text a user sees
        ("agent", []),  # nor the bubbles' markup values
        ("half second", ["t-halves"]),  # words in any order, from any bubble
        ("first half", ["t-halves"]),
        ("second part alpha", ["t-halves"]),
    ],
)
async def test_search_finds_words_of_what_was_written_and_answered(
    gateway: GatewayService, query: str, tasks: list[str]
) -> None:
    assert await found(gateway, query) == tasks


async def test_a_hit_says_where_it_is_with_the_match_marked(gateway: GatewayService) -> None:
    hits, cursor = await gateway.search_messages("alice", "Lisbon", limit=10)
    assert cursor is None and len(hits) == 1
    hit = hits[0]
    assert (hit.session_id, hit.session_name, hit.task_id, hit.created_time) == ("trip", "Trip", "t-weather", 1_004)
    assert hit.snippet == "What is the weather in <mark>Lisbon</mark>?"
    (html_hit,), _ = await gateway.search_messages("alice", "carefully", limit=10)
    assert html_hit.session_name is None
    assert html_hit.snippet == "use &lt;script&gt;alert(1)&lt;/script&gt; <mark>carefully</mark>"


async def test_more_relevant_first_then_newest_and_paged_by_cursor(gateway_store: GatewayStore) -> None:
    gateway = GatewayService(gateway_store, clock=Clock())
    await gateway.create_session("carol", session_id="s")
    await gateway.save_task("carol", "s", TaskInput("dense", bubbles("porto porto porto wine tour")))
    for i in range(5):
        await gateway.save_task("carol", "s", TaskInput(f"plain-{i}", bubbles("porto wine tour with friends")))
    assert (await found(gateway, "porto", "carol"))[0] == "dense"
    assert await found(gateway, "friends", "carol") == [f"plain-{i}" for i in reversed(range(5))]
    seen, cursor = [], None
    while True:
        hits, cursor = await gateway.search_messages("carol", "wine", limit=2, cursor=cursor)
        seen += [hit.task_id for hit in hits]
        if cursor is None:
            break
    assert sorted(seen) == sorted(["dense", *(f"plain-{i}" for i in range(5))]) and len(seen) == 6


async def test_search_follows_resaves_and_deletes(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "trip", TaskInput("t-weather", bubbles("Porto instead"), None))
    assert await found(gateway, "porto") == ["t-weather"]
    assert await found(gateway, "degrees") == []
    assert await found(gateway, "weather") == ["t-weather"]  # the stored message is kept
    await gateway.delete_session("alice", "trip")
    assert await found(gateway, "porto") == []


@pytest.mark.parametrize("query", ["", "   ", "?!", "x" * 256, " ".join(f"w{i}" for i in range(17))])
async def test_a_query_without_words_or_too_long_is_refused(gateway: GatewayService, query: str) -> None:
    with pytest.raises(InvalidInput):
        await gateway.search_messages("alice", query)


async def test_a_forged_cursor_is_refused(gateway: GatewayService) -> None:
    for cursor in ("garbage", "eyJvZmZzZXQiOiAtMX0", "eyJvZmZzZXQiOiAxMDAwMDAwMH0"):
        with pytest.raises(InvalidInput):
            await gateway.search_messages("alice", "lisbon", cursor=cursor)
