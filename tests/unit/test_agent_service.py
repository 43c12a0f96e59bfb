"""An agent's use cases, on the in-memory store."""

from __future__ import annotations

import itertools

import pytest

from domain.agent.model import Behavior
from domain.agent.service import AgentService, EventInput
from domain.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from domain.paging import PageRequest, decode_cursor
from infrastructure.memory.agent import MemoryAgentStore


@pytest.fixture
def agent() -> AgentService:
    ticks = itertools.count(10_000, 10)
    return AgentService("helper", MemoryAgentStore(), Behavior.PERSISTENT, clock=lambda: next(ticks))


def said(text: str, **delta: object) -> EventInput:
    body: dict[str, object] = {"content": {"role": "user", "parts": [{"text": text}]}}
    if delta:
        body["actions"] = {"stateDelta": dict(delta)}
    return EventInput(invocation_id="inv-1", author="user", body=body)


async def test_state_scopes_split_on_write_and_merge_on_read(agent: AgentService) -> None:
    await agent.create_session("alice", "s1", {"topic": "trip", "app:model": "m1", "user:lang": "pt", "temp:x": 1})
    await agent.create_session("alice", "s2")
    await agent.append_event("alice", "s2", said("hi", **{"user:lang": "en", "app:model": "m2", "temp:y": 2, "k": 1}))
    first = await agent.get_session("alice", "s1")
    assert first.state == {"topic": "trip", "app:model": "m2", "user:lang": "en"}
    second = await agent.get_session("alice", "s2")
    assert second.state == {"k": 1, "app:model": "m2", "user:lang": "en"}
    # temp: keys are never stored, not even inside the stored event.
    assert second.events[0].event().body["actions"]["stateDelta"] == {"user:lang": "en", "app:model": "m2", "k": 1}
    bobs = await agent.create_session("bob", "s1")
    assert bobs.state == {"app:model": "m2"}


async def test_appends_number_events_and_bump_the_version(agent: AgentService) -> None:
    created = await agent.create_session("alice", "s1")
    assert created.session.version == 1
    first = await agent.append_event("alice", "s1", said("one"))
    second = await agent.append_event("alice", "s1", said("two"))
    assert (first.event.sequence, second.event.sequence) == (1, 2)
    assert (first.version, second.version) == (2, 3)
    assert second.event.timestamp > first.event.timestamp


async def test_a_stale_version_is_refused_and_nothing_is_written(agent: AgentService) -> None:
    await agent.create_session("alice", "s1")
    await agent.append_event("alice", "s1", said("one"), expected_version=1)
    with pytest.raises(PreconditionFailed) as caught:
        await agent.append_event("alice", "s1", said("two", k=1), expected_version=1)
    assert caught.value.current == 2
    view = await agent.get_session("alice", "s1")
    assert [e.sequence for e in view.events] == [1] and view.state == {}


async def test_a_resent_event_is_stored_once(agent: AgentService) -> None:
    await agent.create_session("alice", "s1")
    event = EventInput("inv-1", "agent", {"content": "hello", "actions": {"stateDelta": {"n": 1}}}, id="evt-1")
    first = await agent.append_event("alice", "s1", event, expected_version=1)
    again = await agent.append_event("alice", "s1", event, expected_version=1)
    assert first.created and not again.created
    assert again.event == first.event
    assert [e.id for e in (await agent.get_session("alice", "s1")).events] == ["evt-1"]


async def test_recent_events_and_their_limits(agent: AgentService) -> None:
    await agent.create_session("alice", "s1")
    for i in range(5):
        await agent.append_event("alice", "s1", said(f"m{i}"))
    assert [e.sequence for e in (await agent.get_session("alice", "s1", num_recent_events=2)).events] == [4, 5]
    assert (await agent.get_session("alice", "s1", num_recent_events=0)).events == []
    with pytest.raises(InvalidInput) as caught:
        await agent.get_session("alice", "s1", num_recent_events=-1)
    assert caught.value.field == "numRecentEvents"
    assert [e.sequence for e in await agent.list_events("alice", "s1", after_sequence=3, limit=10)] == [4, 5]


async def test_another_users_session_is_not_found(agent: AgentService) -> None:
    await agent.create_session("alice", "s1")
    for attempt in (
        agent.get_session("bob", "s1"),
        agent.append_event("bob", "s1", said("x")),
        agent.delete_session("bob", "s1"),
        agent.list_events("bob", "s1"),
    ):
        with pytest.raises(NotFound):
            await attempt


async def test_a_taken_session_id_is_a_conflict(agent: AgentService) -> None:
    await agent.create_session("alice", "s1")
    with pytest.raises(Conflict):
        await agent.create_session("alice", "s1")


async def test_sessions_list_newest_first_by_cursor(agent: AgentService) -> None:
    for i in range(5):
        await agent.create_session("alice", f"s{i}")
    first = await agent.list_sessions("alice", PageRequest(size=2))
    assert [v.session.id for v in first.items] == ["s4", "s3"] and first.next_cursor
    rest = await agent.list_sessions("alice", PageRequest(size=10, after=decode_cursor(first.next_cursor)))
    assert [v.session.id for v in rest.items] == ["s2", "s1", "s0"] and rest.next_cursor is None


async def test_a_persistent_run_continues_its_session(agent: AgentService) -> None:
    run = await agent.start_run("alice", "web-session-1")
    assert (run.session_id, run.behavior) == ("web-session-1", Behavior.PERSISTENT)
    await agent.append_event("alice", run.session_id, said("remember me", name="Ana"))
    await agent.end_run("alice", run.id)
    again = await agent.start_run("alice", "web-session-1")
    view = await agent.get_session("alice", again.session_id)
    assert view.state == {"name": "Ana"} and len(view.events) == 1


async def test_a_run_based_run_works_on_a_copy_that_goes_when_it_ends(agent: AgentService) -> None:
    await agent.create_session("alice", "parent", {"name": "Ana"})
    await agent.append_event("alice", "parent", said("earlier"))
    run = await agent.start_run("alice", "parent", Behavior.RUN_BASED)
    assert run.session_id == f"parent:{run.id}:run"
    copy = await agent.get_session("alice", run.session_id)
    assert copy.state == {"name": "Ana"} and [e.sequence for e in copy.events] == [1]
    appended = await agent.append_event("alice", run.session_id, said("during the run"))
    assert appended.event.sequence == 2
    ended = await agent.end_run("alice", run.id)
    assert ended.ended_time is not None
    with pytest.raises(NotFound):
        await agent.get_session("alice", run.session_id)
    assert len((await agent.get_session("alice", "parent")).events) == 1  # the parent is untouched
    assert (await agent.end_run("alice", run.id)) == ended  # ending twice changes nothing
    with pytest.raises(NotFound):
        await agent.end_run("bob", run.id)
