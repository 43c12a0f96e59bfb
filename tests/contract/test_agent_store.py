"""The agent store's contract: memory, SQLite, PostgreSQL and MariaDB behave the same."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from domain.agent.model import AgentSession, Behavior, Event, Run, RunPolicy, StateDelta
from domain.agent.service import WHOLE_READ, AgentService, EventInput, append_in
from domain.errors import Conflict, NotFound
from domain.paging import Batches, PageRequest, SortKey
from domain.ports import AgentStore
from tests.conftest import _agent_store

Append = Callable[[str, str, Event, StateDelta, int, int | None], Awaitable[AgentSession | None]]


def append_paths(store: AgentStore) -> dict[str, Append]:
    """Every way `store` appends: the domain's rule in one transaction (store.run), and the store's
    one-statement form where it has one, which must give the same answers."""

    async def by_rule(
        user: str, sid: str, event: Event, delta: StateDelta, now: int, expected: int | None = None
    ) -> AgentSession | None:
        return await store.run(lambda repositories: append_in(repositories, user, sid, event, delta, now, expected))

    paths: dict[str, Append] = {"rule": by_rule}
    at_once = store.append_at_once
    if at_once is not None:

        async def in_one_statement(
            user: str, sid: str, event: Event, delta: StateDelta, now: int, expected: int | None = None
        ) -> AgentSession | None:
            return await at_once("agent-a", user, sid, event, delta, now, expected)

        paths["at_once"] = in_one_statement
    return paths


def session(sid: str, user: str = "alice", updated: int = 1000, **state: object) -> AgentSession:
    return AgentSession(sid, user, dict(state), 1, 0, 500, updated)


def event(seq: int, eid: str | None = None, ts: int | None = None, **body: object) -> Event:
    return Event(eid or f"e{seq}", seq, "inv-1", "agent", ts if ts is not None else 1000 + seq, dict(body))


async def test_a_session_reads_back_as_written_and_only_for_its_user(agent_store: AgentStore) -> None:
    written = session("s1", name="Zoë 🎈", nested={"a": [1, 2, {"b": None}]}, n=3.5)
    async with agent_store.unit_of_work() as uow:
        await uow.sessions.add(written)
        await uow.commit()
    async with agent_store.unit_of_work(read_only=True) as uow:
        assert await uow.sessions.get("alice", "s1") == written
        assert await uow.sessions.get("bob", "s1") is None


async def test_a_taken_session_id_is_a_conflict_for_the_same_user_only(agent_store: AgentStore) -> None:
    async with agent_store.unit_of_work() as uow:
        await uow.sessions.add(session("s1"))
        await uow.sessions.add(session("s1", user="bob"))
        await uow.commit()
    with pytest.raises(Conflict):
        async with agent_store.unit_of_work() as uow:
            await uow.sessions.add(session("s1"))
            await uow.commit()


async def test_without_commit_nothing_is_kept(agent_store: AgentStore) -> None:
    async with agent_store.unit_of_work() as uow:
        await uow.sessions.add(session("s1"))
        await uow.commit()
    async with agent_store.unit_of_work() as uow:
        await uow.events.add("alice", "s1", event(1))
        await uow.states.merge_app({"k": 1}, 1000)
        await uow.sessions.update(session("s1", updated=2000, changed=True))
        await uow.sessions.add(session("s2"))
    async with agent_store.unit_of_work(read_only=True) as uow:
        assert await uow.events.recent("alice", "s1") == []
        assert await uow.states.app() == {}
        assert await uow.sessions.get("alice", "s1") == session("s1")
        assert await uow.sessions.get("alice", "s2") is None


async def test_events_come_back_oldest_first_recent_and_paged(agent_store: AgentStore) -> None:
    async with agent_store.unit_of_work() as uow:
        await uow.sessions.add(session("s1"))
        for seq in range(1, 11):
            await uow.events.add("alice", "s1", event(seq, content={"parts": [{"text": f"m{seq}"}]}))
        await uow.commit()
    async with agent_store.unit_of_work(read_only=True) as uow:
        assert [e.sequence for e in await uow.events.recent("alice", "s1")] == list(range(1, 11))
        assert [e.sequence for e in await uow.events.recent("alice", "s1", limit=3)] == [8, 9, 10]
        after = await uow.events.recent("alice", "s1", after_timestamp=1006)
        assert [e.sequence for e in after] == [7, 8, 9, 10]
        assert [e.sequence for e in await uow.events.page("alice", "s1", after_sequence=4, limit=3)] == [5, 6, 7]
        assert await uow.events.page("alice", "s1", after_sequence=10, limit=3) == []
        stored = await uow.events.get("alice", "s1", "e5")
        assert stored is not None and stored.event() == event(5, content={"parts": [{"text": "m5"}]})
        assert await uow.events.get("bob", "s1", "e5") is None


async def test_an_event_id_is_stored_once_per_session(agent_store: AgentStore) -> None:
    async with agent_store.unit_of_work() as uow:
        await uow.sessions.add(session("s1"))
        await uow.sessions.add(session("s2"))
        await uow.events.add("alice", "s1", event(1, eid="same"))
        await uow.events.add("alice", "s2", event(1, eid="same"))
        await uow.commit()
    with pytest.raises(Conflict):
        async with agent_store.unit_of_work() as uow:
            await uow.events.add("alice", "s1", event(2, eid="other"))
            await uow.events.add("alice", "s1", event(3, eid="same"))
            await uow.commit()
    async with agent_store.unit_of_work() as uow:
        await uow.events.add("alice", "s1", event(2, eid="other"))
        await uow.commit()
    async with agent_store.unit_of_work(read_only=True) as uow:
        assert [e.id for e in await uow.events.recent("alice", "s1")] == ["same", "other"]


WEIRD_KEYS = {'we"ird\\key': [1, {"x": None}], "ünï": "cödé", "a.b": 1, "$x": 2, "[0]": 3, "'q'": 4}


@pytest.mark.parametrize(
    "delta",
    [
        {},
        {"k": 1},
        {"nested": {"b": 2}, "gone": None},
        WEIRD_KEYS,
        {f'key "{i}" \\ . $ [{i}]': [i, {"x": str(i)}] for i in range(500)},
    ],
    ids=["empty", "one", "nested", "weird-keys", "500-keys"],
)
async def test_an_append_moves_the_session_on_by_one_and_merges_every_scope_shallowly(
    agent_store: AgentStore, delta: dict[str, Any]
) -> None:
    for name, append in append_paths(agent_store).items():
        start = AgentSession(name, "alice", {"keep": 1, "nested": {"a": 1}, "gone": 0}, 4, 3, 500, 1000)
        async with agent_store.unit_of_work() as uow:
            await uow.sessions.add(start)
            await uow.commit()
        scopes = StateDelta(session=delta, app={f"{name} {k}": v for k, v in delta.items()}, user=delta)
        assert await append("alice", name, event(0, eid="e1"), scopes, 2000, 3) is None, name  # not at version 3
        assert await append("bob", name, event(0, eid="e1"), scopes, 2000, None) is None, name  # not bob's
        moved = await append("alice", name, event(0, eid="e1"), scopes, 2000, 4)
        expected = AgentSession(name, "alice", {**start.state, **delta}, 5, 4, 500, 2000)
        assert moved == expected, name
        async with agent_store.unit_of_work(read_only=True) as uow:
            assert await uow.sessions.get("alice", name) == expected, name
            assert [(e.id, e.sequence) for e in await uow.events.recent("alice", name)] == [("e1", 4)], name
            app = await uow.states.app()
            assert {k: v for k, v in app.items() if k.startswith(f"{name} ")} == scopes.app, name
            assert await uow.states.user("alice") == delta, name


async def test_deleting_a_session_deletes_its_events(agent_store: AgentStore) -> None:
    async with agent_store.unit_of_work() as uow:
        await uow.sessions.add(session("s1"))
        await uow.events.add("alice", "s1", event(1))
        await uow.commit()
    async with agent_store.unit_of_work() as uow:
        await uow.sessions.delete("alice", "s1")
        await uow.commit()
    async with agent_store.unit_of_work() as uow:
        assert await uow.sessions.get("alice", "s1") is None
        await uow.sessions.add(session("s1"))  # the id is free again, with no history
        assert await uow.events.recent("alice", "s1") == []


async def test_sessions_list_newest_first_by_key(agent_store: AgentStore) -> None:
    async with agent_store.unit_of_work() as uow:
        for i in range(7):
            await uow.sessions.add(session(f"s{i}", updated=1000 + i // 2))
        await uow.sessions.add(session("bobs", user="bob", updated=5000))
        await uow.commit()
    async with agent_store.unit_of_work(read_only=True) as uow:
        seen: list[str] = []
        after: SortKey | None = None
        while page := await uow.sessions.find("alice", limit=3, after=after):
            seen += [s.id for s in page]
            after = page[-1].sort_key
        assert seen == ["s6", "s5", "s4", "s3", "s2", "s1", "s0"]


async def test_app_and_user_state_merge_shallowly(agent_store: AgentStore) -> None:
    async with agent_store.unit_of_work() as uow:
        await uow.states.merge_app({"a": 1, "b": {"x": 1}}, 1000)
        await uow.states.merge_app({"b": {"y": 2}, "c": None}, 1000)
        await uow.states.merge_user("alice", {"lang": "pt"}, 1000)
        await uow.commit()
    async with agent_store.unit_of_work(read_only=True) as uow:
        assert await uow.states.app() == {"a": 1, "b": {"y": 2}, "c": None}
        assert await uow.states.user("alice") == {"lang": "pt"}
        assert await uow.states.user("bob") == {}


async def test_runs_are_kept(agent_store: AgentStore) -> None:
    run = Run("r1", "alice", "s1:r1:run", "s1", Behavior.RUN_BASED, 100)
    async with agent_store.unit_of_work() as uow:
        await uow.runs.add(run)
        await uow.commit()
    async with agent_store.unit_of_work() as uow:
        assert await uow.runs.get("r1") == run
        await uow.runs.update(Run("r1", "alice", "s1:r1:run", "s1", Behavior.RUN_BASED, 100, 200))
        await uow.commit()
    async with agent_store.unit_of_work(read_only=True) as uow:
        stored = await uow.runs.get("r1")
        assert stored is not None and stored.ended_time == 200
        assert await uow.runs.get("nope") is None


async def test_concurrent_appends_get_sequences_one_to_n(agent_store: AgentStore) -> None:
    agent = AgentService("agent-a", agent_store, Behavior.PERSISTENT)
    await agent.create_session("alice", "busy")
    await agent.create_session("alice", "other")
    appends = [
        agent.append_event(
            "alice",
            "busy" if i % 4 else "other",
            EventInput("inv", "agent", {"actions": {"stateDelta": {f"app:k{i}": i, f"user:u{i}": i, "n": i}}}),
        )
        for i in range(40)
    ]
    results = await asyncio.gather(*appends, return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    busy = await agent.get_session("alice", "busy")
    assert [e.sequence for e in busy.events] == list(range(1, 31))
    assert busy.session.version == 31
    # No shared-state write was lost either, across the two sessions.
    assert {k for k in busy.state if k.startswith("app:")} == {f"app:k{i}" for i in range(40)}
    assert {k for k in busy.state if k.startswith("user:")} == {f"user:u{i}" for i in range(40)}


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres", "mysql"])
async def test_agents_sharing_a_database_never_see_each_others_rows(
    request: pytest.FixtureRequest, backend: str
) -> None:
    stores = [_agent_store(request, backend, "agent-a"), _agent_store(request, backend, "agent-b")]
    store_a, store_b = [await anext(s) for s in stores]
    try:
        a = AgentService("agent-a", store_a, Behavior.PERSISTENT)
        b = AgentService("agent-b", store_b, Behavior.PERSISTENT)
        await a.create_session("alice", "shared-id", {"app:secret": "a's", "user:pref": "a", "k": "a"})
        await a.append_event("alice", "shared-id", EventInput("inv", "agent", {"content": "for a"}))
        assert (await b.list_sessions("alice", PageRequest())).items == []
        created = await b.create_session("alice", "shared-id")
        assert created.state == {} and created.events == []
        assert (await b.get_session("alice", "shared-id")).events == []
        assert (await a.get_session("alice", "shared-id")).state == {"app:secret": "a's", "user:pref": "a", "k": "a"}
    finally:
        for s in stores:
            await s.aclose()


async def test_append_writes_everything_or_nothing(agent_store: AgentStore) -> None:
    for name, append in append_paths(agent_store).items():
        async with agent_store.unit_of_work() as uow:
            await uow.sessions.add(AgentSession(name, "alice", {"a": 1}, 1, 0, 500, 500))
            await uow.commit()
        delta = StateDelta(session={"b": {"x": 1}}, app={name: True}, user={name: "pt"})
        first = await append("alice", name, event(0, eid="e1"), delta, 600, 1)
        assert first == AgentSession(name, "alice", {"a": 1, "b": {"x": 1}}, 2, 1, 500, 600), name
        second = await append("alice", name, event(0, eid="e2"), StateDelta(app={f"{name} more": 1}), 700, None)
        assert second is not None and (second.version, second.last_sequence) == (3, 2), name
        # Refused, each with nothing written: stale version, a stored id, someone else's or no session.
        assert await append("alice", name, event(0, eid="e3"), delta, 800, 2) is None, name
        assert await append("alice", name, event(0, eid="e1"), StateDelta(app={f"{name} x": 1}), 800, None) is None
        assert await append("bob", name, event(0, eid="e4"), delta, 800, None) is None, name
        assert await append("alice", "nope", event(0, eid="e5"), delta, 800, None) is None, name
        async with agent_store.unit_of_work(read_only=True) as uow:
            assert [(e.id, e.sequence) for e in await uow.events.recent("alice", name)] == [("e1", 1), ("e2", 2)]
            stored = await uow.sessions.get("alice", name)
            assert stored is not None and (stored.version, stored.last_update_time) == (3, 700), name
            app = await uow.states.app()
            assert {k: v for k, v in app.items() if k.startswith(name)} == {name: True, f"{name} more": 1}
            assert (await uow.states.user("alice"))[name] == "pt"
            assert await uow.states.user("bob") == {}


async def test_a_session_reads_with_its_shared_state_in_one_go(agent_store: AgentStore) -> None:
    async with agent_store.unit_of_work() as uow:
        await uow.sessions.add(session("s1", own=1))
        await uow.sessions.add(session("s1", user="bob"))
        await uow.commit()
    async with agent_store.unit_of_work(read_only=True) as uow:
        assert await uow.sessions.get_with_shared_state("alice", "s1") == (session("s1", own=1), {}, {})
    async with agent_store.unit_of_work() as uow:
        await uow.states.merge_app({"model": "m1"}, 1000)
        await uow.states.merge_user("alice", {"lang": "pt"}, 1000)
        await uow.commit()
    async with agent_store.unit_of_work(read_only=True) as uow:
        assert await uow.sessions.get_with_shared_state("alice", "s1") == (
            session("s1", own=1),
            {"model": "m1"},
            {"lang": "pt"},
        )
        assert await uow.sessions.get_with_shared_state("bob", "s1") == (session("s1", user="bob"), {"model": "m1"}, {})
        assert await uow.sessions.get_with_shared_state("carol", "s1") is None


async def test_an_event_body_reads_back_as_sent_without_the_events_own_fields(agent_store: AgentStore) -> None:
    agent = AgentService("agent-a", agent_store, Behavior.PERSISTENT)
    await agent.create_session("u", "s")
    sent = {"content": {"parts": [{"text": "héllo 👋"}]}, "actions": {"stateDelta": {"k": [1, None]}}, "x": None}
    # Fields that are the event's own attributes never live in its body, whatever the caller sends.
    await agent.append_event("u", "s", EventInput("inv", "user", {**sent, "id": "forged", "sequence": 99}, id="e1"))
    await agent.append_event("u", "s", EventInput("inv", "user", {}, id="e2"))
    events = [record.event() for record in (await agent.get_session("u", "s")).events]
    assert [(e.id, e.sequence) for e in events] == [("e1", 1), ("e2", 2)]
    assert events[0].body == sent and events[1].body == {}
    assert events[0].body["content"]["parts"][0]["text"] == "héllo 👋"
    paged = await agent.list_events("u", "s", after_sequence=0, limit=10)
    assert [record.event().body for record in paged] == [sent, {}]


async def test_on_sqlite_appends_and_transactions_of_one_process_wait_their_turn(
    impatient_sqlite_file: Callable[[str], str],
) -> None:
    # A transaction held open well past the busy timeout: appends wait for it instead of failing,
    # and a session created while appends stream in gets its turn between them.
    from infrastructure.sql.agent.store import SqlAgentStore

    store = SqlAgentStore.at(impatient_sqlite_file("agent"), "agent-a")
    agent = AgentService("agent-a", store, Behavior.PERSISTENT)
    try:
        await agent.create_session("alice", "busy")
        async with store.unit_of_work() as held:
            await held.sessions.add(AgentSession("held", "alice", {}, 1, 0, 1, 1))
            appends = [
                asyncio.create_task(agent.append_event("alice", "busy", EventInput("inv", "agent", {})))
                for _ in range(5)
            ]
            await asyncio.sleep(0.5)  # five busy timeouts
            assert not any(task.done() for task in appends)
            await held.commit()
        more = [agent.append_event("alice", "busy", EventInput("inv", "agent", {})) for _ in range(20)]
        created = agent.create_session("alice", "beside")
        await asyncio.gather(*appends, *more, created)
        assert [e.sequence for e in (await agent.get_session("alice", "busy")).events] == list(range(1, 26))
        assert (await agent.get_session("alice", "held")).session.id == "held"
    finally:
        await store.close()


async def test_first_writers_of_shared_state_from_many_sessions_at_once_all_land(agent_store: AgentStore) -> None:
    # No app: or user: state stored yet, and sixteen sessions of one user writing both at once: the
    # first writers of a shared row race (on MariaDB, two of them deadlock and InnoDB undoes one).
    agent = AgentService("agent-a", agent_store, Behavior.PERSISTENT)
    for s in range(16):
        await agent.create_session("alice", f"s{s}")

    async def append(s: int, i: int, scope: str) -> None:
        delta = {f"{scope}:{s}-{i}": i, "own": i}
        await agent.append_event("alice", f"s{s}", EventInput("inv", "agent", {"actions": {"stateDelta": delta}}))

    for scope in ("user", "app"):  # each scope's first writers on their own
        appends = [append(s, i, scope) for i in range(3) for s in range(16)]
        results = await asyncio.gather(*appends, return_exceptions=True)
        assert [r for r in results if isinstance(r, BaseException)] == []
    state = (await agent.get_session("alice", "s0")).state
    for scope in ("user", "app"):
        assert {k for k in state if k.startswith(scope)} == {f"{scope}:{s}-{i}" for s in range(16) for i in range(3)}


async def test_a_run_based_run_starts_from_the_newest_events_only(agent_store: AgentStore) -> None:
    agent = AgentService("agent-a", agent_store, Behavior.PERSISTENT, runs=RunPolicy(copy_recent_events=100))
    await agent.create_session("alice", "long", {"topic": "tax"})
    for i in range(250):
        await agent.append_event("alice", "long", EventInput(f"inv{i}", "user", {}, id=f"e{i:03}"))
    run = await agent.start_run("alice", "long", Behavior.RUN_BASED)
    view = await agent.get_session("alice", run.session_id)
    assert [e.id for e in view.events] == [f"e{i:03}" for i in range(150, 250)]
    assert view.state["topic"] == "tax"
    # The run's session continues where the copy ends.
    appended = await agent.append_event("alice", run.session_id, EventInput("inv", "user", {}, id="next"))
    assert appended.event.sequence > view.events[-1].sequence

    none_copied = AgentService("agent-a", agent_store, Behavior.PERSISTENT, runs=RunPolicy(copy_recent_events=0))
    bare = await none_copied.start_run("alice", "long", Behavior.RUN_BASED)
    assert (await none_copied.get_session("alice", bare.session_id)).events == []


async def test_runs_left_open_past_their_ttl_are_ended(agent_store: AgentStore) -> None:
    now = [1_000_000]
    agent = AgentService(
        "agent-a", agent_store, Behavior.PERSISTENT, clock=lambda: now[0], runs=RunPolicy(ttl_ms=60_000)
    )
    await agent.create_session("alice", "chat")
    forgotten = [await agent.start_run("alice", "chat", Behavior.RUN_BASED) for _ in range(3)]
    persistent = await agent.start_run("alice", "chat", Behavior.PERSISTENT)
    ended_in_time = await agent.start_run("alice", "chat", Behavior.RUN_BASED)
    await agent.end_run("alice", ended_in_time.id)
    now[0] += 30_000
    fresh = await agent.start_run("bob", "other", Behavior.RUN_BASED)
    assert await agent.end_expired_runs() == 0

    now[0] += 40_000  # the first runs are 70 s old, `fresh` 40 s
    assert await agent.end_expired_runs(batch=2) == 4  # in batches of two: three RUN_BASED, one PERSISTENT
    for run in forgotten:
        with pytest.raises(NotFound):
            await agent.get_session("alice", run.session_id)
        assert (await agent.end_run("alice", run.id)).ended_time == now[0]
    assert (await agent.end_run("alice", persistent.id)).ended_time == now[0]
    assert (await agent.get_session("alice", "chat")).session.id == "chat"  # PERSISTENT keeps its session
    assert (await agent.get_session("bob", fresh.session_id)).session.id == fresh.session_id
    assert await agent.end_expired_runs() == 0


async def test_a_whole_session_streams_its_events_as_of_the_read(agent_store: AgentStore) -> None:
    agent = AgentService("agent-a", agent_store, Behavior.PERSISTENT)
    await agent.create_session("alice", "long")
    for i in range(300):
        body = {"content": {"parts": [{"text": "w" * (3_000_000 if i in (100, 101) else 10)}]}}
        await agent.append_event("alice", "long", EventInput("inv", "user", body, id=f"e{i:03}", timestamp=1000 + i))
    expected = (await agent.get_session("alice", "long")).events
    view, batches = await agent.whole_session("alice", "long")
    assert view.events == [] and view.session.last_sequence == 300
    await agent.append_event("alice", "long", EventInput("inv", "user", {}, id="later"))  # after the read
    streamed = [batch async for batch in batches]
    assert [e.id for b in streamed for e in b] == [e.id for e in expected] == [f"e{i:03}" for i in range(300)]
    assert [e.body_json for b in streamed for e in b] == [e.body_json for e in expected]
    assert all(len(b) == 1 or sum(len(e.body_json) for e in b) <= WHOLE_READ.budget for b in streamed)
    assert not any({"e100", "e101"} <= {e.id for e in b} for b in streamed)  # 6 MB: never in one batch
    _, small_batches = await agent.whole_session("alice", "long", batches=Batches(most=7, ahead=50))
    streamed = [batch async for batch in small_batches]
    assert [e.id for b in streamed for e in b] == [*(f"e{i:03}" for i in range(300)), "later"]
    assert max(len(b) for b in streamed) == 7
    _, recent = await agent.whole_session("alice", "long", after_timestamp=1000 + 289)
    assert [e.id for b in [batch async for batch in recent] for e in b] == [
        *(f"e{i}" for i in range(290, 300)),
        "later",
    ]
    with pytest.raises(NotFound):
        await agent.whole_session("bob", "long")


async def test_erasing_a_user_removes_all_of_theirs_in_this_agent_and_nothing_else(agent_store: AgentStore) -> None:
    agent = AgentService("agent-a", agent_store, Behavior.PERSISTENT)
    for user in ("alice", "bob"):
        await agent.create_session(user, "chat", {"user:name": user, "app:tone": "warm"})
        await agent.append_event(user, "chat", EventInput("inv", "user", {}, id="e1"))
        await agent.start_run(user, "chat")
    assert await agent.erase_user("alice") == {"events": 1, "sessions": 1, "userState": 1, "runs": 1}
    assert await agent.erase_user("alice") == {"events": 0, "sessions": 0, "userState": 0, "runs": 0}
    bob = await agent.get_session("bob", "chat")
    assert [e.id for e in bob.events] == ["e1"] and bob.state == {"user:name": "bob", "app:tone": "warm"}
    with pytest.raises(NotFound):
        await agent.get_session("alice", "chat")
