"""Ids and user ids compare exactly on every store: `CAROL` is not `carol`, `AB` is not `ab`.

MySQL/MariaDB's default collations fold case; the stores there use a binary one, as PostgreSQL and
SQLite compare anyway.
"""

from __future__ import annotations

import json

import pytest

from domain.agent.model import Behavior
from domain.agent.service import AgentService, EventInput
from domain.errors import NotFound
from domain.gateway.model import FeedbackType
from domain.gateway.service import GatewayService, TaskInput
from domain.paging import PageRequest
from domain.ports import AgentStore, FeedbackFilter, GatewayStore

BUBBLES = json.dumps([{"type": "agent", "text": "Lisbon"}])


async def test_gateway_ids_and_users_differing_only_in_case_are_different(gateway_store: GatewayStore) -> None:
    gateway = GatewayService(gateway_store)
    await gateway.create_session("carol", session_id="ab", name="Lisbon")
    await gateway.create_session("carol", session_id="AB")  # not a conflict
    await gateway.save_task("carol", "ab", TaskInput("t1", BUBBLES, "lower"), may_create=True)
    await gateway.save_task(
        "carol", "ab", TaskInput("T1", BUBBLES, "upper"), may_create=True
    )  # a second task, not an overwrite
    await gateway.record_feedback("carol", session_id="ab", task_id="t1", rating=FeedbackType.UP, comment=None)
    history = (await gateway.list_tasks("carol", "ab")).items
    assert sorted((t.id, t.user_message) for t in history) == [("T1", "upper"), ("t1", "lower")]
    assert (await gateway.list_tasks("carol", "AB")).items == []
    page = await gateway.list_sessions("carol", PageRequest())
    assert sorted(s.id for s in page.items) == ["AB", "ab"]
    # CAROL is someone else: nothing of carol's is hers.
    assert (await gateway.list_sessions("CAROL", PageRequest())).total == 0
    assert (await gateway.search_sessions("CAROL", "lisbon", PageRequest())).items == []
    for attempt in (
        gateway.get_session("CAROL", "ab"),
        gateway.list_tasks("CAROL", "ab"),
        gateway.rename_session("CAROL", "ab", "mine now"),
        gateway.delete_session("CAROL", "ab"),
    ):
        with pytest.raises(NotFound):
            await attempt
    # CAROL's feedback on carol's task is kept as CAROL's (as the gateway keeps it), never merged.
    await gateway.record_feedback("CAROL", session_id="ab", task_id="t1", rating=FeedbackType.DOWN, comment=None)
    assert [f.user_id for f in await gateway.list_feedback(FeedbackFilter("CAROL"), PageRequest())] == ["CAROL"]
    assert [f.rating for f in await gateway.list_feedback(FeedbackFilter("carol"), PageRequest())] == [FeedbackType.UP]
    task = next(t for t in (await gateway.list_tasks("carol", "ab")).items if t.id == "t1")
    assert task.metadata()["feedback"]["type"] == "up"
    assert (await gateway.get_session("carol", "ab")).name == "Lisbon"


async def test_agent_ids_and_users_differing_only_in_case_are_different(agent_store: AgentStore) -> None:
    agent = AgentService("agent-a", agent_store, Behavior.PERSISTENT)
    await agent.create_session("carol", "s1", {"user:lang": "pt", "k": 1})
    await agent.create_session("carol", "S1")  # not a conflict
    first = await agent.append_event("carol", "s1", EventInput("inv", "user", {"content": "a"}, id="e1"))
    second = await agent.append_event("carol", "s1", EventInput("inv", "user", {"content": "b"}, id="E1"))
    assert first.created and second.created  # E1 is another event, not a re-send of e1
    view = await agent.get_session("carol", "s1")
    assert sorted(e.id for e in view.events) == ["E1", "e1"]
    # CAROL is someone else: she neither reads nor writes carol's memory.
    with pytest.raises(NotFound):
        await agent.get_session("CAROL", "s1")
    with pytest.raises(NotFound):
        await agent.append_event("CAROL", "s1", EventInput("inv", "user", {}))
    with pytest.raises(NotFound):
        await agent.delete_session("CAROL", "s1")
    assert (await agent.list_sessions("CAROL", PageRequest())).items == []
    hers = await agent.create_session("CAROL", "s1")
    assert hers.state == {} and hers.events == []
    assert (await agent.get_session("carol", "s1")).state == {"user:lang": "pt", "k": 1}
