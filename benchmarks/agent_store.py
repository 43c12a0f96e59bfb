"""Agent store benchmark: appends, recent-N reads, whole histories and session lists, on SQLite and
PostgreSQL, beside the raw driver floor and Google ADK's DatabaseSessionService in the same run.

Run: `make bench-agent` (creates the ADK baseline's own virtualenv first), or
`python -m benchmarks.agent_store --help`. Without the ADK environment the ADK columns are skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from sqlalchemy import insert

from benchmarks.support import throwaway_postgres
from domain.agent.model import Behavior
from domain.agent.service import AgentService, EventInput
from domain.paging import PageRequest, SortKey
from infrastructure.sql import migrate
from infrastructure.sql.agent.store import SqlAgentStore
from infrastructure.sql.agent.tables import agent_events, agent_sessions

ADK_PYTHON = Path(".venv-baselines/bin/python")
USER = "alice"
TEXT = "How warm is Lisbon in May? Around 22 degrees in the afternoon, cooler at night. " * 2


def event_input(i: int) -> EventInput:
    body = {"content": {"role": "user", "parts": [{"text": TEXT}]}, "actions": {"stateDelta": {"turn": i}}}
    return EventInput(f"inv-{i}", "user", body)


# A round of appends lasts well under a second, where this machine's speed wanders: every append rate
# (ours, the raw floor, ADK's) is the median of three rounds.
ROUNDS = 3


async def appends(agent: AgentService, sessions: int, total: int) -> float:
    rates = []
    for round_ in range(ROUNDS):
        ids = [f"a{sessions}-r{round_}-{s}" for s in range(sessions)]
        for sid in ids:
            await agent.create_session(USER, sid)

        async def writer(sid: str, count: int) -> None:
            for i in range(count):
                await agent.append_event(USER, sid, event_input(i))

        started = time.perf_counter()
        await asyncio.gather(*(writer(sid, total // sessions) for sid in ids))
        rates.append(total // sessions * sessions / (time.perf_counter() - started))
    return statistics.median(rates)


async def seed_history(url: str, app_name: str, session_id: str, size: int) -> None:
    body = msgspec.json.encode(event_input(0).body).decode()
    engine = migrate.migration_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(agent_sessions),
            {
                "app_name": app_name,
                "user_id": USER,
                "id": session_id,
                "state": "{}",
                "version": size + 1,
                "last_sequence": size,
                "created_time": 0,
                "last_update_time": size,
            },
        )
        for start in range(0, size, 5000):
            connection.execute(
                insert(agent_events),
                [
                    {
                        "app_name": app_name,
                        "user_id": USER,
                        "session_id": session_id,
                        "sequence": i + 1,
                        "id": f"{session_id}-{i}",
                        "invocation_id": "inv",
                        "author": "user",
                        "timestamp": i,
                        "body": body,
                    }
                    for i in range(start, min(size, start + 5000))
                ],
            )
    engine.dispose()


async def seed_sessions(url: str, app_name: str, user: str, count: int) -> None:
    engine = migrate.migration_engine(url)
    with engine.begin() as connection:
        for start in range(0, count, 5000):
            connection.execute(
                insert(agent_sessions),
                [
                    {
                        "app_name": app_name,
                        "user_id": user,
                        "id": f"{user}-{i}",
                        "state": "{}",
                        "version": 1,
                        "last_sequence": 0,
                        "created_time": i,
                        "last_update_time": i,
                    }
                    for i in range(start, min(count, start + 5000))
                ],
            )
    engine.dispose()


async def analyze(url: str) -> None:
    """Refresh the planner's statistics after a bulk load, as autovacuum would in production."""
    engine = migrate.migration_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE agent_sessions")
            connection.exec_driver_sql("ANALYZE agent_events")
    engine.dispose()


async def mean_ms(reads: int, once: Callable[[], Awaitable[Any]]) -> float:
    await once()
    started = time.perf_counter()
    for _ in range(reads):
        await once()
    return (time.perf_counter() - started) / reads * 1000


async def ours(url: str, args: argparse.Namespace) -> dict[str, float]:
    migrate.upgrade("agent", url)
    store = SqlAgentStore.at(url, "bench")
    agent = AgentService("bench", store, Behavior.PERSISTENT)
    figures = {
        "append_sequential_per_s": await appends(agent, 1, args.appends),
        "append_16_sessions_per_s": await appends(agent, 16, args.appends),
    }
    for size in args.sizes:
        await seed_history(url, store.app_name, f"size-{size}", size)
        await analyze(url)
        figures[f"recent20_ms_{size}"] = await mean_ms(
            50, lambda size=size: agent.get_session(USER, f"size-{size}", num_recent_events=20)
        )

    async def whole() -> int:
        after, count = 0, 0
        while page := await agent.list_events(USER, f"size-{args.whole}", after_sequence=after, limit=1000):
            after, count = page[-1].sequence, count + len(page)
        assert count == args.whole
        return count

    if args.whole not in args.sizes:
        await seed_history(url, store.app_name, f"size-{args.whole}", args.whole)
    figures["whole_history_ms"] = await mean_ms(3, whole)
    for count in args.session_counts:
        await seed_sessions(url, store.app_name, f"lister{count}", count)
        await analyze(url)

        async def pages(user: str = f"lister{count}", middle: int = count // 2) -> None:
            first = await agent.list_sessions(user, PageRequest(size=20))
            assert first.next_cursor
            # A page half way down the list: keyset paging must not get dearer with depth.
            deep = await agent.list_sessions(user, PageRequest(size=20, after=SortKey(middle, f"{user}-{middle}")))
            assert len(deep.items) == 20

        figures[f"list_page_ms_{count}"] = await mean_ms(50, pages) / 2
    await store.close()
    return figures


async def raw_floor_postgres(url: str, total: int) -> dict[str, float]:
    dsn = url.replace("postgresql://", "postgresql://", 1)
    setup = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    await setup.execute("CREATE TABLE IF NOT EXISTS floor (id BIGSERIAL PRIMARY KEY, s TEXT, body TEXT)")
    await setup.close()
    body = msgspec.json.encode(event_input(0).body).decode()

    async def writer(count: int) -> None:
        connection = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        for _ in range(count):
            await connection.execute("INSERT INTO floor (s, body) VALUES (%s, %s)", ("x", body))
        await connection.close()

    figures = {}
    for name, sessions in (("append_sequential_per_s", 1), ("append_16_sessions_per_s", 16)):
        rates = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            await asyncio.gather(*(writer(total // sessions) for _ in range(sessions)))
            rates.append(total // sessions * sessions / (time.perf_counter() - started))
        figures[name] = statistics.median(rates)
    return figures


def raw_floor_sqlite(path: Path, total: int) -> dict[str, float]:
    body = msgspec.json.encode(event_input(0).body).decode()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS floor (id INTEGER PRIMARY KEY, s TEXT, body TEXT)")
    rates = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(total):
            connection.execute("INSERT INTO floor (s, body) VALUES (?, ?)", ("x", body))
        rates.append(total / (time.perf_counter() - started))
    rate = statistics.median(rates)
    connection.close()
    # One writer at a time is SQLite's model: 16 sessions cannot beat one connection's rate.
    return {"append_sequential_per_s": rate, "append_16_sessions_per_s": rate}


def adk(url: str, args: argparse.Namespace) -> dict[str, float] | None:
    if not ADK_PYTHON.exists():
        return None
    command = [
        str(ADK_PYTHON),
        "benchmarks/adk_baseline.py",
        url,
        "--appends",
        str(args.appends),
        "--sizes",
        ",".join(str(s) for s in args.adk_sizes),
        "--whole",
        str(args.whole),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=True)
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def report(backend: str, mine: dict[str, float], floor: dict[str, float], theirs: dict[str, float] | None) -> None:
    print(f"\n{backend}")
    print(f"  {'measure':<34}{'ours':>11}{'raw floor':>11}{'ADK':>11}{'ours/floor':>12}{'ours vs ADK':>13}")
    for key, value in mine.items():
        raw = floor.get(key)
        other = (theirs or {}).get(key)
        higher_is_better = key.endswith("per_s")
        vs_adk = (
            "" if other is None else (f"{value / other:.1f}x" if higher_is_better else f"{other / value:.1f}x faster")
        )
        vs_floor = "" if raw is None else f"{value / raw:.2f}"
        unit = "/s" if higher_is_better else " ms"
        print(
            f"  {key:<34}{value:>9.1f}{unit:<2}{'' if raw is None else f'{raw:9.0f}/s':>11}"
            f"{'' if other is None else f'{other:9.1f}':>11}{vs_floor:>12}{vs_adk:>13}"
        )


def add_measure_arguments(parser: argparse.ArgumentParser) -> None:
    """What the agent benchmarks (library level and over HTTP) measure, the same for both."""
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--appends", type=int, default=800)
    parser.add_argument("--sizes", default="100,10000,100000")
    parser.add_argument("--adk-sizes", default="100,10000")
    parser.add_argument("--whole", type=int, default=10000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_measure_arguments(parser)
    parser.add_argument("--session-counts", default="100,100000")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.adk_sizes = [int(s) for s in args.adk_sizes.split(",")]
    args.session_counts = [int(s) for s in args.session_counts.split(",")]
    print("Agent store benchmark: library level (AgentService on SQLAlchemy Core), one process, this machine;")
    print(
        f"ADK: google-adk's DatabaseSessionService in {ADK_PYTHON.parent.parent} "
        f"({'present' if ADK_PYTHON.exists() else 'absent: run make bench-baselines-env'}), same database server."
    )
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as work:
                mine = asyncio.run(ours(f"sqlite:///{work}/ours.db", args))
                floor = raw_floor_sqlite(Path(work) / "floor.db", args.appends)
                theirs = adk(f"sqlite+aiosqlite:///{work}/adk.db", args)
        else:
            with throwaway_postgres() as url:
                mine = asyncio.run(ours(url, args))
                floor = asyncio.run(raw_floor_postgres(url, args.appends))
            with throwaway_postgres() as url:
                theirs = adk(url.replace("postgresql://", "postgresql+psycopg://", 1), args)
        report(backend, mine, floor, theirs)


if __name__ == "__main__":
    main()
