"""The gateway's use cases, on the in-memory store."""

from __future__ import annotations

import itertools
import json

import pytest

from domain.errors import Conflict, InvalidInput, NotFound, Unprocessable
from domain.gateway.model import FeedbackType, flatten_messages
from domain.gateway.service import GatewayService, TaskInput
from domain.paging import PageRequest, decode_cursor, encode_cursor
from domain.ports import FeedbackFilter
from infrastructure.memory.gateway import MemoryGatewayStore

BUBBLES = json.dumps([{"type": "user", "text": "hi"}, {"type": "agent", "text": "hello"}])


@pytest.fixture
def gateway() -> GatewayService:
    ticks = itertools.count(1000, 10)
    return GatewayService(MemoryGatewayStore(), clock=lambda: next(ticks))


async def test_new_session_ids_look_like_the_gateways(gateway: GatewayService) -> None:
    created = await gateway.create_session("alice")
    assert created.id.startswith("web-session-") and len(created.id) == len("web-session-") + 32
    assert created.created_time == created.updated_time


async def test_a_taken_session_id_is_a_conflict(gateway: GatewayService) -> None:
    await gateway.create_session("alice", session_id="s1")
    with pytest.raises(Conflict):
        await gateway.create_session("bob", session_id="s1")


@pytest.mark.parametrize("bad", ["", "a/b", "../etc", "x" * 256, "a b", "'; DROP TABLE sessions;--"])
async def test_session_ids_are_checked(gateway: GatewayService, bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await gateway.create_session("alice", session_id=bad)
    assert caught.value.field == "id"


async def test_another_users_session_is_not_found(gateway: GatewayService) -> None:
    await gateway.create_session("alice", session_id="s1")
    for attempt in (
        gateway.get_session("bob", "s1"),
        gateway.rename_session("bob", "s1", "mine"),
        gateway.delete_session("bob", "s1"),
        gateway.list_tasks("bob", "s1"),
        gateway.mark_viewed("bob", "s1"),
        gateway.move_to_project("bob", "s1", "p1"),
    ):
        with pytest.raises(NotFound):
            await attempt
    with pytest.raises(Unprocessable):  # a save answers as for a missing session: the gateway's 422
        await gateway.save_task("bob", "s1", TaskInput("t1", BUBBLES), may_create=True)
    assert (await gateway.get_session("alice", "s1")).name is None


async def test_rename_bumps_activity(gateway: GatewayService) -> None:
    created = await gateway.create_session("alice", session_id="s1")
    renamed = await gateway.rename_session("alice", "s1", "Trip")
    assert renamed.name == "Trip" and renamed.updated_time > created.updated_time
    with pytest.raises(InvalidInput):
        await gateway.rename_session("alice", "s1", "   ")


async def test_saving_a_task_creates_then_updates(gateway: GatewayService) -> None:
    first = await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, "hi"), may_create=True)
    assert first.created and (await gateway.get_session("alice", "s1")).user_id == "alice"
    second = await gateway.save_task(
        "alice", "s1", TaskInput("t1", BUBBLES, None, '{"status": "done"}'), may_create=True
    )
    assert not second.created
    assert second.task.user_message == "hi"  # kept: the update did not send one
    assert second.task.created_time == first.task.created_time
    assert json.loads(second.task.task_metadata or "") == {"status": "done"}
    session = await gateway.get_session("alice", "s1")
    assert session.updated_time == second.task.updated_time


async def test_a_task_id_of_another_user_or_session_is_never_overwritten(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, "secret"), may_create=True)
    with pytest.raises(Conflict):
        await gateway.save_task("bob", "s2", TaskInput("t1", BUBBLES, "overwritten"), may_create=True)
    with pytest.raises(Conflict):
        await gateway.save_task("alice", "s3", TaskInput("t1", BUBBLES, "moved"), may_create=True)
    history = await gateway.list_tasks("alice", "s1")
    assert [t.user_message for t in history.items] == ["secret"]
    # Nothing half-written: the refused requests created no session either.
    with pytest.raises(NotFound):
        await gateway.get_session("bob", "s2")


@pytest.mark.parametrize(
    ("bubbles", "metadata", "field"),
    [
        ("[]", None, "messageBubbles"),
        ("{}", None, "messageBubbles"),
        ("not json", None, "messageBubbles"),
        (BUBBLES, "[1]", "taskMetadata"),
        (BUBBLES, "{", "taskMetadata"),
    ],
)
async def test_task_content_is_checked(gateway: GatewayService, bubbles: str, metadata: str | None, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await gateway.save_task("alice", "s1", TaskInput("t1", bubbles, None, metadata), may_create=True)
    assert caught.value.field == field


async def test_history_pages_by_cursor(gateway: GatewayService) -> None:
    for i in range(5):
        await gateway.save_task("alice", "s1", TaskInput(f"t{i}", BUBBLES), may_create=True)
    first = await gateway.list_tasks("alice", "s1", PageRequest(size=2))
    assert [t.id for t in first.items] == ["t0", "t1"] and first.next_cursor
    rest = await gateway.list_tasks("alice", "s1", PageRequest(size=10, after=decode_cursor(first.next_cursor)))
    assert [t.id for t in rest.items] == ["t2", "t3", "t4"] and rest.next_cursor is None


async def test_messages_flatten_bubbles(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, None, '{"agent_name": "helper"}'), may_create=True)
    batches = gateway.whole_history("alice", "s1")
    messages = [m async for batch in batches for task in batch for m in flatten_messages(task)]
    assert [(m.sender_type, m.sender_name, m.message) for m in messages] == [
        ("user", "alice", "hi"),
        ("agent", "helper", "hello"),
    ]


async def test_feedback_is_stored_and_merged_into_the_task(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES, None, '{"agent_name": "helper"}'), may_create=True)
    await gateway.record_feedback("alice", session_id="s1", task_id="t1", rating=FeedbackType.DOWN, comment="wrong")
    task = (await gateway.list_tasks("alice", "s1")).items[0]
    assert json.loads(task.task_metadata or "") == {
        "agent_name": "helper",
        "feedback": {"type": "down", "text": "wrong", "submitted": True},
    }
    # A later save by a client that does not know of the feedback keeps it.
    await gateway.save_task(
        "alice", "s1", TaskInput("t1", BUBBLES, None, '{"agent_name": "helper", "x": 1}'), may_create=True
    )
    task = (await gateway.list_tasks("alice", "s1")).items[0]
    assert json.loads(task.task_metadata or "")["feedback"]["type"] == "down"
    listed = await gateway.list_feedback(FeedbackFilter("alice"), PageRequest())
    assert [(f.task_id, f.rating, f.comment) for f in listed] == [("t1", FeedbackType.DOWN, "wrong")]


async def test_feedback_on_what_the_caller_does_not_own_is_kept_but_never_merged(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES), may_create=True)
    await gateway.save_task("alice", "s2", TaskInput("t2", BUBBLES), may_create=True)
    await gateway.record_feedback("bob", session_id="s1", task_id="t1", rating=FeedbackType.UP, comment=None)
    # the task is not in that session
    await gateway.record_feedback("alice", session_id="s1", task_id="t2", rating=FeedbackType.UP, comment=None)
    await gateway.record_feedback("alice", session_id="gone", task_id="unknown", rating=FeedbackType.DOWN, comment="x")
    tasks = [*(await gateway.list_tasks("alice", "s1")).items, *(await gateway.list_tasks("alice", "s2")).items]
    assert [t.metadata() for t in tasks] == [{}, {}]
    assert [f.task_id for f in await gateway.list_feedback(FeedbackFilter("alice"), PageRequest())] == ["unknown", "t2"]
    assert [f.task_id for f in await gateway.list_feedback(FeedbackFilter("bob"), PageRequest())] == ["t1"]
    with pytest.raises(NotFound):  # one task's feedback: the task must be the caller's
        await gateway.list_feedback(FeedbackFilter("bob", task_id="t1"), PageRequest())
    with pytest.raises(NotFound):
        await gateway.list_feedback(FeedbackFilter("alice", task_id="unknown"), PageRequest())


async def test_deleting_a_session_removes_its_tasks_and_feedback(gateway: GatewayService) -> None:
    await gateway.save_task("alice", "s1", TaskInput("t1", BUBBLES), may_create=True)
    await gateway.record_feedback("alice", session_id="s1", task_id="t1", rating=FeedbackType.UP, comment=None)
    await gateway.delete_session("alice", "s1")
    with pytest.raises(NotFound):
        await gateway.get_session("alice", "s1")
    assert await gateway.list_feedback(FeedbackFilter("alice"), PageRequest()) == []
    # The task id is free again: nothing of the session is left behind.
    assert (await gateway.save_task("alice", "s9", TaskInput("t1", BUBBLES), may_create=True)).created


async def test_session_pages_by_offset_and_cursor(gateway: GatewayService) -> None:
    for i in range(5):
        await gateway.create_session("alice", session_id=f"s{i}")
    offset = await gateway.list_sessions("alice", PageRequest(size=2, number=2))
    assert [s.id for s in offset.items] == ["s2", "s1"]
    assert (offset.total, offset.total_pages, offset.next_page) == (5, 3, 3)
    first = await gateway.list_sessions("alice", PageRequest(size=3))
    assert first.next_cursor is not None
    rest = await gateway.list_sessions("alice", PageRequest(size=3, after=decode_cursor(first.next_cursor)))
    assert [s.id for s in first.items + rest.items] == ["s4", "s3", "s2", "s1", "s0"]


@pytest.mark.parametrize("cursor", ["", "!!!", "bm90IGpzb24", encode_cursor.__name__, "WzEsMl0"])
def test_a_cursor_this_service_did_not_issue_is_invalid(cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor)
    assert caught.value.field == "cursor"


async def test_search_needs_text(gateway: GatewayService) -> None:
    with pytest.raises(InvalidInput):
        await gateway.search_sessions("alice", "  ", PageRequest())
