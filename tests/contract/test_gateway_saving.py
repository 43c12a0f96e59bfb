"""Saving chat tasks, on every backend: the service keeps its promises whether a save runs the
domain's rule in a transaction or, where the store offers one, its one-statement form."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.errors import Conflict, NotFound
from domain.gateway.model import FeedbackType
from domain.gateway.service import GatewayService, TaskInput
from domain.ports import GatewayStore

BUBBLES = json.dumps([{"type": "agent", "text": "hi"}])


class RuleOnly:
    """The store without its one-statement save: every save runs the domain's rule."""

    save_task_at_once = None

    def __init__(self, store: GatewayStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.fixture(params=["rule", "as-offered"])
def gateway(request: pytest.FixtureRequest, gateway_store: GatewayStore) -> GatewayService:
    return GatewayService(RuleOnly(gateway_store) if request.param == "rule" else gateway_store)  # type: ignore[arg-type]


async def test_create_then_update_keeps_what_the_update_does_not_send(gateway: GatewayService) -> None:
    first = await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, "hi", '{"agent_name": "a"}'))
    assert first.created and (await gateway.get_session("alice", "s1")).user_id == "alice"
    await gateway.record_feedback("alice", session_id="s1", task_id="t1", rating=FeedbackType.UP, comment="good")
    again = await gateway.save_task("alice", "s1", TaskInput("t1", "[2]", None, '{"agent_name": "b"}'))
    assert not again.created
    assert again.task.user_message == "hi" and again.task.message_bubbles == "[2]"
    assert again.task.created_time == first.task.created_time
    metadata = json.loads(again.task.task_metadata or "{}")
    assert metadata["agent_name"] == "b" and metadata["feedback"]["type"] == "up"
    stored = (await gateway.list_tasks("alice", "s1")).items
    assert [(t.id, t.user_message, t.message_bubbles) for t in stored] == [("t1", "hi", "[2]")]
    assert json.loads(stored[0].task_metadata or "{}") == metadata


async def test_someone_elses_session_or_task_is_refused_with_nothing_written(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, "secret"))
    before = (await gateway.get_session("alice", "s1")).updated_time
    with pytest.raises(NotFound):
        await gateway.save_task("bob", "s1", TaskInput("t2", BUBBLES))
    with pytest.raises(Conflict):
        await gateway.save_task("bob", "s2", TaskInput("t1", BUBBLES, "overwritten"))
    with pytest.raises(Conflict):
        await gateway.save_task("alice", "s3", TaskInput("t1", BUBBLES, "moved"))
    with pytest.raises(NotFound):
        await gateway.get_session("bob", "s2")  # the refused request created no session
    with pytest.raises(NotFound):
        await gateway.get_session("alice", "s3")
    assert [t.user_message for t in (await gateway.list_tasks("alice", "s1")).items] == ["secret"]
    assert (await gateway.get_session("alice", "s1")).updated_time == before


async def test_a_resave_whose_metadata_has_its_own_feedback_keeps_the_new_one(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, "hi"))
    await gateway.record_feedback("alice", session_id="s1", task_id="t1", rating=FeedbackType.UP, comment="good")
    own = {"feedback": {"type": "down", "text": "changed my mind", "submitted": True}, "k": 1}
    again = await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, None, json.dumps(own)))
    assert json.loads(again.task.task_metadata or "{}") == own
    assert again.task.user_message == "hi"
    stored = (await gateway.list_tasks("alice", "s1")).items[0]
    assert json.loads(stored.task_metadata or "{}") == own and stored.user_message == "hi"


async def test_a_resave_without_metadata_keeps_the_feedback_alone(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, "hi", '{"agent_name": "a"}'))
    await gateway.record_feedback("alice", session_id="s1", task_id="t1", rating=FeedbackType.DOWN, comment=None)
    again = await gateway.save_task("alice", "s1", TaskInput("t1", "[3]"))
    assert json.loads(again.task.task_metadata or "{}") == {
        "feedback": {"type": "down", "text": None, "submitted": True}
    }
    assert (again.task.user_message, again.task.message_bubbles) == ("hi", "[3]")
