"""The gateway store's contract: every adapter (memory, SQLite, PostgreSQL, MariaDB) must pass it."""

from __future__ import annotations

import json

import pytest

from domain.errors import Conflict, NotFound
from domain.gateway.model import ChatTask, Feedback, FeedbackType, Session
from domain.gateway.service import GatewayService, TaskInput
from domain.paging import Batches, SortKey
from domain.ports import FeedbackFilter, GatewayStore, SessionFilter


def session(sid: str, user: str = "alice", updated: int = 1000, **kw: object) -> Session:
    fields = {"name": None, "agent_id": None, "project_id": None, **kw}
    return Session(sid, user, fields["name"], fields["agent_id"], fields["project_id"], 500, updated)  # type: ignore[arg-type]


def task(tid: str, sid: str, created: int = 1000, user: str = "alice", text: str = "hello") -> ChatTask:
    bubbles = json.dumps([{"type": "agent", "text": text}])
    return ChatTask(tid, sid, user, f"user says {text}", bubbles, None, created, created)


async def add(store: GatewayStore, *rows: Session | ChatTask | Feedback) -> None:
    async with store.unit_of_work() as uow:
        for row in rows:
            if isinstance(row, Session):
                await uow.sessions.add(row)
            elif isinstance(row, ChatTask):
                await uow.tasks.add(row)
            else:
                await uow.feedback.add(row)
        await uow.commit()


async def test_a_session_reads_back_as_written(gateway_store: GatewayStore) -> None:
    written = session("s1", name="Ünïcode 名前 🎉", agent_id="agent-a", project_id="p1")
    await add(gateway_store, written)
    async with gateway_store.unit_of_work() as uow:
        assert await uow.sessions.get("s1") == written
        assert await uow.sessions.get("nope") is None


async def test_leaving_without_commit_undoes_every_write(gateway_store: GatewayStore) -> None:
    await add(gateway_store, session("kept"))
    async with gateway_store.unit_of_work() as uow:
        await uow.sessions.add(session("dropped"))
        await uow.tasks.add(task("t-dropped", "dropped"))
        await uow.sessions.update(session("kept", name="renamed"))
    with pytest.raises(RuntimeError):
        async with gateway_store.unit_of_work() as uow:
            await uow.sessions.delete(["kept"])
            raise RuntimeError("boom")
    async with gateway_store.unit_of_work() as uow:
        assert await uow.sessions.get("dropped") is None
        assert await uow.tasks.get("t-dropped") is None
        kept = await uow.sessions.get("kept")
        assert kept is not None and kept.name is None


async def test_adding_a_taken_session_id_is_a_conflict(gateway_store: GatewayStore) -> None:
    await add(gateway_store, session("s1"))
    with pytest.raises(Conflict):
        async with gateway_store.unit_of_work() as uow:
            await uow.sessions.add(session("s1", user="bob"))
            await uow.commit()
    async with gateway_store.unit_of_work() as uow:
        stored = await uow.sessions.get("s1")
        assert stored is not None and stored.user_id == "alice"


async def test_sessions_list_newest_activity_first_for_their_user_only(gateway_store: GatewayStore) -> None:
    await add(
        gateway_store,
        session("old", updated=100),
        session("new", updated=300),
        session("mid", updated=200),
        session("bobs", user="bob", updated=400),
    )
    async with gateway_store.unit_of_work() as uow:
        rows = await uow.sessions.find(SessionFilter("alice"), limit=10)
        assert [s.id for s in rows] == ["new", "mid", "old"]
        assert await uow.sessions.count(SessionFilter("alice")) == 3
        assert await uow.sessions.count(SessionFilter("carol")) == 0


async def test_a_counted_page_gives_the_page_and_the_users_total(gateway_store: GatewayStore) -> None:
    await add(gateway_store, *[session(f"s{i}", updated=100 + i) for i in range(5)], session("b", user="bob"))
    async with gateway_store.unit_of_work(read_only=True) as uow:
        page, total = await uow.sessions.find_counted(SessionFilter("alice"), limit=2, offset=1)
        assert ([s.id for s in page], total) == (["s3", "s2"], 5)
        assert page[0] == await uow.sessions.get("s3")
        assert await uow.sessions.find_counted(SessionFilter("alice"), limit=2, offset=10) == ([], 5)
        assert await uow.sessions.find_counted(SessionFilter("carol"), limit=2) == ([], 0)
        filtered = await uow.sessions.find_counted(SessionFilter("alice", agent_id="none"), limit=2)
        assert filtered == ([], 0)


async def test_keyset_and_offset_pages_cover_every_session_once(gateway_store: GatewayStore) -> None:
    # Equal timestamps force the id tie-breaker to do its job.
    await add(gateway_store, *[session(f"s{i:02}", updated=1000 + i // 3) for i in range(10)])
    expected = [
        s.id
        for s in sorted(
            (session(f"s{i:02}", updated=1000 + i // 3) for i in range(10)),
            key=lambda s: (s.updated_time, s.id),
            reverse=True,
        )
    ]
    async with gateway_store.unit_of_work() as uow:
        seen: list[str] = []
        after: SortKey | None = None
        while True:
            page = await uow.sessions.find(SessionFilter("alice"), limit=4, after=after)
            seen += [s.id for s in page]
            if len(page) < 4:
                break
            after = page[-1].sort_key
        assert seen == expected
        by_offset = [s.id for s in await uow.sessions.find(SessionFilter("alice"), limit=4, offset=4)]
        assert by_offset == expected[4:8]


async def test_sessions_filter_by_agent_and_project(gateway_store: GatewayStore) -> None:
    await add(
        gateway_store,
        session("a1", agent_id="agent-a", project_id="p1"),
        session("a2", agent_id="agent-a", project_id="p2"),
        session("b1", agent_id="agent-b", project_id="p1"),
    )
    async with gateway_store.unit_of_work() as uow:
        by_agent = await uow.sessions.find(SessionFilter("alice", agent_id="agent-a"), limit=10)
        assert sorted(s.id for s in by_agent) == ["a1", "a2"]
        both = SessionFilter("alice", agent_id="agent-a", project_id="p1")
        assert [s.id for s in await uow.sessions.find(both, limit=10)] == ["a1"]
        assert await uow.sessions.count(both) == 1


async def test_search_finds_names_only_case_insensitively(gateway_store: GatewayStore) -> None:
    await add(
        gateway_store,
        session("named", name="Trip to Lisbon", updated=300),
        session("talked", name="Untitled", updated=200),
        session("other", name="Groceries", updated=100),
        session("bobs", user="bob", name="lisbon too"),
        task("t1", "talked", text="What is the weather in LISBON?"),
        task("t2", "other", text="eggs and milk"),
        task("t3", "bobs", user="bob", text="lisbon"),
    )
    async with gateway_store.unit_of_work() as uow:
        found = await uow.sessions.find(SessionFilter("alice", text="lisbon"), limit=10)
        assert [s.id for s in found] == ["named"]  # "talked" only says it: message search finds that
        assert await uow.sessions.count(SessionFilter("alice", text="lisbon")) == 1


async def test_search_treats_like_wildcards_as_plain_text(gateway_store: GatewayStore) -> None:
    await add(
        gateway_store,
        session("pct", name="100% done"),
        session("plain", name="1000 done"),
        session("under", name="a_b"),
        session("ab", name="axb"),
    )
    async with gateway_store.unit_of_work() as uow:
        assert [s.id for s in await uow.sessions.find(SessionFilter("alice", text="0%"), limit=10)] == ["pct"]
        assert [s.id for s in await uow.sessions.find(SessionFilter("alice", text="a_b"), limit=10)] == ["under"]


async def test_tasks_list_oldest_first_and_page_by_key_for_their_owner_only(gateway_store: GatewayStore) -> None:
    await add(gateway_store, session("s1"), session("s2"), session("b1", user="bob"))
    await add(gateway_store, *[task(f"t{i}", "s1", created=100 * (i // 2)) for i in range(7)], task("x", "s2"))
    async with gateway_store.unit_of_work() as uow:
        whole = [t.id for t in await uow.tasks.list_for_owner("alice", "s1") or []]
        assert whole == [f"t{i}" for i in range(7)]
        first = await uow.tasks.list_for_owner("alice", "s1", limit=3) or []
        rest = await uow.tasks.list_for_owner("alice", "s1", limit=10, after=first[-1].sort_key) or []
        assert [t.id for t in first + rest] == whole
        assert await uow.tasks.list_for_owner("alice", "b1") is None
        assert await uow.tasks.list_for_owner("bob", "s1") is None
        assert await uow.tasks.list_for_owner("alice", "nope") is None
        assert await uow.tasks.list_for_owner("bob", "b1") == []


async def test_task_update_replaces_its_content(gateway_store: GatewayStore) -> None:
    await add(gateway_store, session("s1"), task("t1", "s1"))
    big = json.dumps([{"type": "agent", "text": "x" * 1_000_000}])  # beyond MySQL's 64 KiB TEXT
    async with gateway_store.unit_of_work() as uow:
        stored = await uow.tasks.get("t1")
        assert stored is not None
        updated = ChatTask(stored.id, "s1", "alice", "again", big, '{"k": "v"}', stored.created_time, 2000)
        await uow.tasks.update(updated)
        await uow.commit()
    async with gateway_store.unit_of_work() as uow:
        assert await uow.tasks.get("t1") == updated


async def test_deleting_a_session_and_its_rows(gateway_store: GatewayStore) -> None:
    await add(gateway_store, session("s1"), session("s2"), task("t1", "s1"), task("t2", "s2"))
    await add(
        gateway_store,
        Feedback("f1", "s1", "t1", "alice", FeedbackType.UP, None, 1),
        Feedback("f2", "s2", "t2", "alice", FeedbackType.DOWN, "meh", 2),
    )
    async with gateway_store.unit_of_work() as uow:
        await uow.feedback.delete_for_sessions(["s1"])
        await uow.tasks.delete_for_sessions(["s1"])
        await uow.sessions.delete(["s1"])
        await uow.commit()
    async with gateway_store.unit_of_work() as uow:
        assert await uow.sessions.get("s1") is None
        assert await uow.tasks.get("t1") is None
        assert [f.id for f in await uow.feedback.find(FeedbackFilter("alice"), limit=10)] == ["f2"]
        assert await uow.tasks.get("t2") is not None


async def test_feedback_filters_and_orders_newest_first(gateway_store: GatewayStore) -> None:
    await add(gateway_store, session("s1"), session("s2"), task("t1", "s1"), task("t2", "s2"))
    await add(
        gateway_store,
        Feedback("f1", "s1", "t1", "alice", FeedbackType.UP, None, 100),
        Feedback("f2", "s1", "t1", "alice", FeedbackType.DOWN, "no", 200),
        Feedback("f3", "s2", "t2", "alice", FeedbackType.UP, "yes", 300),
        Feedback("f4", "s2", "t2", "bob", FeedbackType.UP, None, 400),
    )
    async with gateway_store.unit_of_work() as uow:
        ids = lambda rows: [f.id for f in rows]  # noqa: E731
        assert ids(await uow.feedback.find(FeedbackFilter("alice"), limit=10)) == ["f3", "f2", "f1"]
        assert ids(await uow.feedback.find(FeedbackFilter("alice", session_id="s1"), limit=10)) == ["f2", "f1"]
        assert ids(await uow.feedback.find(FeedbackFilter("alice", rating=FeedbackType.UP), limit=10)) == ["f3", "f1"]
        window = FeedbackFilter("alice", since=150, until=300)
        assert ids(await uow.feedback.find(window, limit=10)) == ["f3", "f2"]
        assert await uow.feedback.count(window) == 2
        first = await uow.feedback.find(FeedbackFilter("alice"), limit=1)
        rest = await uow.feedback.find(FeedbackFilter("alice"), limit=5, after=first[0].sort_key)
        assert ids(rest) == ["f2", "f1"]
        stored = (await uow.feedback.find(FeedbackFilter("alice", task_id="t2"), limit=1))[0]
        assert stored == Feedback("f3", "s2", "t2", "alice", FeedbackType.UP, "yes", 300)


async def test_history_for_its_owner_only_in_one_read(gateway_store: GatewayStore) -> None:
    await add(gateway_store, session("s1"), session("empty"), session("bobs", user="bob"))
    await add(gateway_store, *[task(f"t{i}", "s1", created=100 + i) for i in range(5)], task("b1", "bobs", user="bob"))
    async with gateway_store.unit_of_work(read_only=True) as uow:
        assert [t.id for t in await uow.tasks.list_for_owner("alice", "s1") or []] == [f"t{i}" for i in range(5)]
        first = await uow.tasks.list_for_owner("alice", "s1", limit=2) or []
        rest = await uow.tasks.list_for_owner("alice", "s1", limit=10, after=first[-1].sort_key)
        assert [t.id for t in first + (rest or [])] == [f"t{i}" for i in range(5)]
        assert await uow.tasks.list_for_owner("alice", "s1", after=task("t4", "s1", created=104).sort_key) == []
        assert await uow.tasks.list_for_owner("alice", "empty") == []
        assert await uow.tasks.list_for_owner("alice", "bobs") is None
        assert await uow.tasks.list_for_owner("alice", "missing") is None
        assert (await uow.tasks.list_for_owner("alice", "s1") or [])[0] == task("t0", "s1", created=100)


async def test_task_sizes_are_read_without_the_tasks(gateway_store: GatewayStore) -> None:
    gateway = GatewayService(gateway_store)
    for i, text in enumerate(["a", "b" * 500, "c" * 20]):
        bubbles = json.dumps([{"type": "agent", "text": text}])
        await gateway.save_task(
            "alice", "s1", TaskInput(f"t{i}", bubbles, "q" * i, '{"k": 1}' if i else None), may_create=True
        )
    await gateway.create_session("alice", session_id="empty")
    await gateway.create_session("bob", session_id="bobs")
    async with gateway_store.unit_of_work(read_only=True) as uow:
        tasks = await uow.tasks.list_for_owner("alice", "s1") or []
        assert await uow.tasks.sizes("alice", "s1", limit=10) == [t.size for t in tasks]
        assert await uow.tasks.sizes("alice", "s1", limit=1, after=tasks[0].sort_key) == [tasks[1].size]
        assert await uow.tasks.sizes("alice", "empty", limit=10) == []
        assert await uow.tasks.sizes("alice", "bobs", limit=10) is None
        assert await uow.tasks.sizes("alice", "missing", limit=10) is None


async def test_a_whole_history_is_read_in_batches_that_keep_to_the_budget(gateway_store: GatewayStore) -> None:
    gateway = GatewayService(gateway_store)
    lengths = [10] * 30 + [3000] * 12 + [10] * 5 + [9000] + [10] * 2  # small, large, small, too large alone
    for i, length in enumerate(lengths):
        await gateway.save_task(
            "alice",
            "long",
            TaskInput(f"t{i:03}", json.dumps([{"type": "agent", "text": "w" * length}])),
            may_create=True,
        )
    budget = Batches(most=8, budget=8_000, ahead=16)
    batches = [batch async for batch in gateway.whole_history("alice", "long", budget)]
    assert [t.id for batch in batches for t in batch] == [f"t{i:03}" for i in range(len(lengths))]
    assert all(len(batch) == 1 or sum(t.size for t in batch) <= 8_000 for batch in batches)
    assert max(len(batch) for batch in batches) == 8
    assert [t.id for batch in batches if len(batch) == 1 for t in batch] == ["t047"]
    sizes = [t.size for batch in batches for t in batch]
    assert [len(batch) for batch in batches] == list(budget.counts(sizes))  # the rule, on every store
    tens = [batch async for batch in gateway.whole_history("alice", "long", Batches(most=10, budget=10**9))]
    assert [len(batch) for batch in tens] == [10] * 5  # the last batch full, and nothing after it
    # A chat as most are: one batch.
    whole = [batch async for batch in gateway.whole_history("alice", "long", Batches())]
    assert [len(batch) for batch in whole] == [len(lengths)]
    with pytest.raises(NotFound):
        [batch async for batch in gateway.whole_history("bob", "long")]
