"""Retention on every store: a purge deletes the sessions older than the kept days with all they hold,
in batches, leaves the rest, forgets old tombstones, and a dry run only counts."""

from __future__ import annotations

import json

import pytest

from domain.agent.model import Behavior
from domain.agent.service import AgentService, EventInput
from domain.errors import NotFound, Unprocessable
from domain.gateway.model import FeedbackType
from domain.gateway.service import GatewayService, TaskInput
from domain.paging import PageRequest
from domain.ports import AgentStore, FeedbackFilter, GatewayStore
from domain.retention import DAY_MS, Purged

START = 1_000 * DAY_MS
BUBBLES = json.dumps([{"type": "agent", "text": "hello"}])


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> int:
        return self.now


async def _chat(gateway: GatewayService, user: str, session: str) -> None:
    await gateway.create_session(user, session_id=session)
    bubbles = json.dumps([{"type": "agent", "text": "hello"}])
    await gateway.save_task(user, session, TaskInput(f"{session}-t", bubbles, "hi"))
    await gateway.record_feedback(
        user, session_id=session, task_id=f"{session}-t", rating=FeedbackType.UP, comment=None
    )


async def test_the_gateway_purge_deletes_old_sessions_with_tasks_and_feedback(
    gateway_store: GatewayStore,
) -> None:
    clock = Clock()
    gateway = GatewayService(gateway_store, clock)
    for i in range(7):
        await _chat(gateway, "alice", f"old{i}")
    await _chat(gateway, "bob", "bobs-old")
    await gateway.delete_session("alice", "old6")  # a tombstone from day 0
    clock.now += 20 * DAY_MS
    await _chat(gateway, "alice", "recent")
    clock.now += 20 * DAY_MS  # old sessions 40 days untouched, "recent" 20, the tombstone 40

    assert await gateway.purge(30, 35, dry_run=True) == Purged(sessions=7, tombstones=1)
    assert await gateway.purge(None, 35, dry_run=True) == Purged(sessions=0, tombstones=1)
    assert await gateway.purge(30, 35, batch=3) == Purged(sessions=7, tombstones=1)  # three batches

    assert [s.id for s in (await gateway.list_sessions("alice", PageRequest())).items] == ["recent"]
    assert (await gateway.list_sessions("bob", PageRequest())).items == []
    with pytest.raises(NotFound):
        await gateway.list_tasks("alice", "old0")
    assert [t.id for t in (await gateway.list_tasks("alice", "recent")).items] == ["recent-t"]
    assert await gateway.list_feedback(FeedbackFilter("alice"), PageRequest()) != []
    assert {f.session_id for f in await gateway.list_feedback(FeedbackFilter("alice"), PageRequest())} == {"recent"}
    assert await gateway.list_feedback(FeedbackFilter("bob"), PageRequest()) == []
    async with gateway_store.unit_of_work(read_only=True) as uow:
        assert await uow.tasks.get("old0-t") is None
        assert not await uow.sessions.buried("old6")
    # Nothing old is left: a second purge finds nothing.
    assert await gateway.purge(30, 35) == Purged()


async def test_a_purged_session_cannot_be_saved_into(gateway_store: GatewayStore) -> None:
    clock = Clock()
    gateway = GatewayService(gateway_store, clock)
    await _chat(gateway, "alice", "old")
    clock.now += 31 * DAY_MS
    await gateway.purge(30)
    with pytest.raises(Unprocessable):
        await gateway.save_task("alice", "old", TaskInput("late", BUBBLES))


async def test_tombstones_outlive_a_purge_until_their_own_age(gateway_store: GatewayStore) -> None:
    clock = Clock()
    gateway = GatewayService(gateway_store, clock)
    await gateway.create_session("alice", session_id="gone")
    await gateway.delete_session("alice", "gone")
    clock.now += 10 * DAY_MS
    assert await gateway.purge(None) == Purged()  # younger than the 30 days tombstones are kept
    async with gateway_store.unit_of_work(read_only=True) as uow:
        assert await uow.sessions.buried("gone")
    clock.now += 21 * DAY_MS
    assert await gateway.purge(None) == Purged(tombstones=1)


async def test_an_agent_purge_deletes_old_sessions_with_their_events_and_keeps_state(agent_store: AgentStore) -> None:
    clock = Clock()
    agent = AgentService("agent-a", agent_store, Behavior.PERSISTENT, clock)
    for i in range(5):
        await agent.create_session(f"user{i % 2}", f"old{i}", {"user:lang": "pt", "app:model": "m1"})
        await agent.append_event(f"user{i % 2}", f"old{i}", EventInput("inv", "agent", {"content": "hi"}))
    clock.now += 10 * DAY_MS
    await agent.create_session("user0", "recent")
    clock.now += 5 * DAY_MS

    assert await agent.purge(None) == Purged()
    assert await agent.purge(12, dry_run=True) == Purged(sessions=5)
    assert await agent.purge(12, batch=2) == Purged(sessions=5)
    assert [s.session.id for s in (await agent.list_sessions("user0", PageRequest())).items] == ["recent"]
    assert (await agent.list_sessions("user1", PageRequest())).items == []
    with pytest.raises(NotFound):
        await agent.get_session("user0", "old0")
    async with agent_store.unit_of_work(read_only=True) as uow:
        assert await uow.events.page("user0", "old0", after_sequence=0, limit=10) == []
    assert await agent.user_state("user0") == {"lang": "pt"}  # the users' and the agent's state stay
    assert (await agent.get_session("user0", "recent")).state == {"user:lang": "pt", "app:model": "m1"}
    assert await agent.purge(12) == Purged()
