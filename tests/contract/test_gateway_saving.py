"""Saving chat tasks, on every backend: the service keeps its promises whether a save runs the
domain's rule in a transaction or, where the store offers one, its one-statement form."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.errors import Conflict, InvalidInput, NotFound, Unprocessable
from domain.gateway.model import FeedbackType
from domain.gateway.service import GatewayService, TaskInput
from domain.paging import PageRequest
from domain.ports import FeedbackFilter, GatewayStore

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
    first = await gateway.save_task(
        "alice", "s1", TaskInput("t1", BUBBLES, "hi", '{"agent_name": "a"}'), may_create=True
    )
    assert first.created and (await gateway.get_session("alice", "s1")).user_id == "alice"
    await gateway.record_feedback("alice", session_id="s1", task_id="t1", rating=FeedbackType.UP, comment="good")
    again = await gateway.save_task("alice", "s1", TaskInput("t1", "[2]", None, '{"agent_name": "b"}'), may_create=True)
    assert not again.created
    assert again.task.user_message == "hi" and again.task.message_bubbles == "[2]"
    assert again.task.created_time == first.task.created_time
    metadata = json.loads(again.task.task_metadata or "{}")
    assert metadata["agent_name"] == "b" and metadata["feedback"]["type"] == "up"
    stored = (await gateway.list_tasks("alice", "s1")).items
    assert [(t.id, t.user_message, t.message_bubbles) for t in stored] == [("t1", "hi", "[2]")]
    assert json.loads(stored[0].task_metadata or "{}") == metadata


async def test_someone_elses_session_or_task_is_refused_with_nothing_written(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, "secret"), may_create=True)
    before = (await gateway.get_session("alice", "s1")).updated_time
    with pytest.raises(Unprocessable):  # someone else's session: as if it did not exist
        await gateway.save_task("bob", "s1", TaskInput("t2", BUBBLES), may_create=True)
    with pytest.raises(Conflict):
        await gateway.save_task("bob", "s2", TaskInput("t1", BUBBLES, "overwritten"), may_create=True)
    with pytest.raises(Conflict):
        await gateway.save_task("alice", "s3", TaskInput("t1", BUBBLES, "moved"), may_create=True)
    with pytest.raises(NotFound):
        await gateway.get_session("bob", "s2")  # the refused request created no session
    with pytest.raises(NotFound):
        await gateway.get_session("alice", "s3")
    assert [t.user_message for t in (await gateway.list_tasks("alice", "s1")).items] == ["secret"]
    assert (await gateway.get_session("alice", "s1")).updated_time == before


async def test_a_resave_whose_metadata_has_its_own_feedback_keeps_the_new_one(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, "hi"), may_create=True)
    await gateway.record_feedback("alice", session_id="s1", task_id="t1", rating=FeedbackType.UP, comment="good")
    own = {"feedback": {"type": "down", "text": "changed my mind", "submitted": True}, "k": 1}
    again = await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, None, json.dumps(own)), may_create=True)
    assert json.loads(again.task.task_metadata or "{}") == own
    assert again.task.user_message == "hi"
    stored = (await gateway.list_tasks("alice", "s1")).items[0]
    assert json.loads(stored.task_metadata or "{}") == own and stored.user_message == "hi"


async def test_a_resave_without_metadata_keeps_the_feedback_alone(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, "hi", '{"agent_name": "a"}'), may_create=True)
    await gateway.record_feedback("alice", session_id="s1", task_id="t1", rating=FeedbackType.DOWN, comment=None)
    again = await gateway.save_task("alice", "s1", TaskInput("t1", "[3]"), may_create=True)
    assert json.loads(again.task.task_metadata or "{}") == {
        "feedback": {"type": "down", "text": None, "submitted": True}
    }
    assert (again.task.user_message, again.task.message_bubbles) == ("hi", "[3]")


async def test_a_save_goes_into_an_existing_session_of_the_callers_only(gateway: GatewayService) -> None:
    with pytest.raises(Unprocessable):  # the gateway's answer: the session must exist
        await gateway.save_task("alice", "never", TaskInput("t1", BUBBLES))
    with pytest.raises(NotFound):
        await gateway.get_session("alice", "never")
    for no_id in ("null", "undefined", " ", ""):
        with pytest.raises(NotFound):
            await gateway.save_task("alice", no_id, TaskInput("t1", BUBBLES), may_create=True)
    await gateway.create_session("alice", session_id="made")
    saved = await gateway.save_task("alice", "made", TaskInput("  t1  ", BUBBLES, "hi", ""))
    assert (saved.task.id, saved.task.task_metadata, saved.created) == ("t1", None, True)
    with pytest.raises(InvalidInput):
        await gateway.save_task("alice", "made", TaskInput("   ", BUBBLES))


async def test_a_deleted_session_stays_deleted_whatever_saves_come_late(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "kept", TaskInput("t1", BUBBLES), may_create=True)  # the cookie's chat
    await gateway.delete_session("alice", "kept")
    for may_create in (False, True):
        with pytest.raises(Unprocessable):
            await gateway.save_task("alice", "kept", TaskInput("t2", BUBBLES), may_create=may_create)
    with pytest.raises(NotFound):
        await gateway.get_session("alice", "kept")
    with pytest.raises(Conflict):  # nor does an explicit create give the id out again
        await gateway.create_session("alice", session_id="kept")


async def test_erasing_a_user_removes_all_of_theirs_and_nothing_else(gateway: GatewayService) -> None:
    for user in ("alice", "bob"):
        await gateway.save_task(user, f"{user}-s", TaskInput(f"{user}-t", BUBBLES), may_create=True)
        await gateway.record_feedback(
            user, session_id=f"{user}-s", task_id=f"{user}-t", rating=FeedbackType.UP, comment=None
        )
    await gateway.delete_session("alice", "alice-s")  # a tombstone of hers too
    await gateway.save_task("alice", "alice-2", TaskInput("alice-t2", BUBBLES), may_create=True)
    assert await gateway.erase_user("alice") == {"feedback": 0, "chatTasks": 1, "sessions": 1}
    assert await gateway.erase_user("alice") == {"feedback": 0, "chatTasks": 0, "sessions": 0}
    assert [t.id for t in (await gateway.list_tasks("bob", "bob-s")).items] == ["bob-t"]
    assert len(await gateway.list_feedback(FeedbackFilter("bob"), PageRequest())) == 1
