"""What each path a store offers for a hot operation is worth, on each database, in the same run.

The domain's rule is the reference; a store may run it whole (store.run: one hop into SQLite's
writer thread) or offer a one-statement form (PostgreSQL). Each row times one path at 16 concurrent
callers (library level, no HTTP), beside the rule run statement by statement in a unit of work:

- save a chat task (GatewayService.save_task): unit of work, run whole, one statement;
- append an event (AgentService.append_event): the same three;
- a sessions page with its total (the side bar): two statements, or one (PostgreSQL's LATERAL).

A path that does not beat the one below it has no reason to exist (infrastructure/sql/README.md).
Run: `python -m benchmarks.paths [--backends sqlite,postgres,mysql] [--ops N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benchmarks.support import throwaway_postgres
from domain.agent.model import AgentSession, Event, StateDelta
from domain.agent.service import append_in
from domain.gateway.model import ChatTask, Session
from domain.gateway.service import save_task_in
from domain.ports import SessionFilter
from infrastructure.sql import migrate
from infrastructure.sql.agent.store import SqlAgentStore
from infrastructure.sql.gateway.store import SqlGatewayStore
from tests.databases import fresh_database

CALLERS = 16
ROUNDS = 3
BUBBLES = json.dumps([{"type": "agent", "text": "Around 22 degrees in the afternoon, cooler at night."}] * 2)
Operation = Callable[[int, int], Awaitable[Any]]  # (caller, i)


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as work:
            yield f"sqlite:///{Path(work) / 'paths.db'}"
    elif backend == "postgres":
        with throwaway_postgres() as url:
            yield url
    else:
        with fresh_database("mysql") as url:
            yield url


async def rates(paths: dict[str, Operation], ops: int) -> dict[str, float]:
    """Operations a second of each path at CALLERS concurrent callers: the median of ROUNDS rounds,
    the paths taking turns round by round (so the machine's drift falls on all alike), after one
    unmeasured round each (the pools open their connections, the databases warm their caches)."""
    measured: dict[str, list[float]] = {name: [] for name in paths}
    for round_ in range(ROUNDS + 1):
        for name, operation in paths.items():

            async def caller(c: int, first: int = round_ * ops, operation: Operation = operation) -> None:
                for i in range(ops // CALLERS):
                    await operation(c, first + i)

            started = time.perf_counter()
            await asyncio.gather(*(caller(c) for c in range(CALLERS)))
            measured[name].append(ops // CALLERS * CALLERS / (time.perf_counter() - started))
    return {name: statistics.median(values[1:]) for name, values in measured.items()}


def task(c: int, i: int, now: int) -> ChatTask:
    return ChatTask(f"t-{c}-{i}", f"s-{c}", "alice", "How warm is Lisbon?", BUBBLES, None, now, now)


async def gateway_paths(url: str, ops: int) -> dict[str, float]:
    store = SqlGatewayStore.at(url)
    figures: dict[str, float] = {}
    try:

        async def in_unit_of_work(c: int, i: int) -> Any:
            async with store.unit_of_work() as uow:
                saved = await save_task_in(uow, "alice", task(c, i, i), True)
                await uow.commit()
            return saved

        async def run_whole(c: int, i: int) -> Any:
            return await store.run(
                lambda repositories: save_task_in(repositories, "alice", task(c, i + ops * 100, i), True)
            )

        saves: dict[str, Operation] = {
            "save: rule, statement by statement": in_unit_of_work,
            "save: rule, run whole": run_whole,
        }
        at_once = store.save_task_at_once
        if at_once is not None:
            saves["save: one statement"] = lambda c, i: at_once("alice", task(c, i + ops * 200, i), True)
        figures |= await rates(saves, ops)

        async with store.unit_of_work() as uow:  # the side bar of a user with 200 chats
            for n in range(200):
                await uow.sessions.add(Session(f"side-{n}", "bob", None, None, None, n, n))
            await uow.commit()
        mine = SessionFilter("bob")

        async def two_statements(c: int, i: int) -> Any:
            async with store.unit_of_work(read_only=True) as uow:
                return await uow.sessions.find(mine, limit=21), await uow.sessions.count(mine)

        async def page_with_total(c: int, i: int) -> Any:
            async with store.unit_of_work(read_only=True) as uow:
                return await uow.sessions.find_counted(mine, limit=21)

        pages = {"sessions page: find, then count": two_statements, "sessions page: find_counted": page_with_total}
        figures |= await rates(pages, ops)
    finally:
        await store.close()
    return figures


def event(c: int, i: int) -> tuple[Event, StateDelta]:
    body = {"content": {"parts": [{"text": "How warm is Lisbon in May?"}]}, "actions": {"stateDelta": {"turn": i}}}
    return Event(f"e-{c}-{i}", 0, "inv", "user", i, body), StateDelta(session={"turn": i}, user={"seen": i})


async def agent_paths(url: str, ops: int) -> dict[str, float]:
    store = SqlAgentStore.at(url, "bench")
    figures: dict[str, float] = {}
    try:
        async with store.unit_of_work() as uow:
            for c in range(CALLERS):
                await uow.sessions.add(AgentSession(f"s-{c}", "alice", {}, 1, 0, 0, 0))
            await uow.states.merge_user("alice", {"seen": 0}, 0)  # the steady state: the shared row exists
            await uow.commit()

        async def in_unit_of_work(c: int, i: int) -> Any:
            appended, delta = event(c, i)
            async with store.unit_of_work() as uow:
                session = await append_in(uow, "alice", f"s-{c}", appended, delta, i, None)
                await uow.commit()
            return session

        async def run_whole(c: int, i: int) -> Any:
            appended, delta = event(c, i + ops * 100)
            return await store.run(lambda r: append_in(r, "alice", f"s-{c}", appended, delta, i, None))

        appends: dict[str, Operation] = {
            "append: rule, statement by statement": in_unit_of_work,
            "append: rule, run whole": run_whole,
        }
        at_once = store.append_at_once
        if at_once is not None:

            async def one_statement(c: int, i: int) -> Any:
                appended, delta = event(c, i + ops * 200)
                return await at_once("bench", "alice", f"s-{c}", appended, delta, i, None)

            appends["append: one statement"] = one_statement
        figures |= await rates(appends, ops)
    finally:
        await store.close()
    return figures


async def measure(url: str, ops: int) -> dict[str, float]:
    migrate.upgrade("gateway", url)
    migrate.upgrade("agent", url)
    return {**await gateway_paths(url, ops), **await agent_paths(url, ops)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgres,mysql")
    parser.add_argument("--ops", type=int, default=800, help="operations a round, over all callers")
    args = parser.parse_args()
    print(f"Each path of the hot operations, {CALLERS} concurrent callers, median of {ROUNDS} rounds (per second):")
    for backend in args.backends.split(","):
        with ExitStack() as stack:
            url = stack.enter_context(database(backend))
            figures = asyncio.run(measure(url, args.ops))
        print(f"\n{backend}")
        base: float | None = None
        for name, value in figures.items():
            if name.endswith(("statement by statement", "find, then count")):
                base = value
            ratio = f"{value / base:5.2f}x" if base else ""
            print(f"  {name:<44}{value:10.0f}/s  {ratio}")


if __name__ == "__main__":
    main()
