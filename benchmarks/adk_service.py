"""ADK's session-service interface, Session Store's against ADK's own DatabaseSessionService.

Both measured in this process, the same way, on the same database server in the same run:
`append_event` (one session, then 16 sessions at once; the median of three rounds, as
benchmarks/adk_baseline.py measures ADK for benchmarks/agent_store.py) and `get_session`
with the 20 most recent of 200 events (the mean of 200 reads), on SQLite and PostgreSQL; then
Session Store's remote transport against a `session-store serve` process on the same PostgreSQL.
Run: `python -m benchmarks.adk_service [--appends 400]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from google.adk.sessions import DatabaseSessionService
from google.adk.sessions.base_session_service import BaseSessionService, GetSessionConfig

from app.adk import SessionStoreSessionService
from benchmarks.adk_baseline import APP, USER, appends, event
from benchmarks.support import running_server, throwaway_postgres

READS, HISTORY, RECENT = 200, 200, 20


async def recent_read_ms(service: BaseSessionService, tag: str) -> float:
    session = await service.create_session(app_name=APP, user_id=USER, session_id=f"{tag}-history")
    for i in range(HISTORY):
        await service.append_event(session, event(i))
    config = GetSessionConfig(num_recent_events=RECENT)
    started = time.perf_counter()
    for _ in range(READS):
        got = await service.get_session(app_name=APP, user_id=USER, session_id=session.id, config=config)
        assert got is not None and len(got.events) == RECENT
    return (time.perf_counter() - started) / READS * 1000


async def measure(service: BaseSessionService, total: int, tag: str) -> tuple[float, float, float]:
    try:
        return (
            await appends(service, 1, total, tag),
            await appends(service, 16, total, tag),
            await recent_read_ms(service, tag),
        )
    finally:
        await service.close()  # type: ignore[attr-defined]


def report(name: str, ours: tuple[float, float, float], theirs: tuple[float, float, float] | None) -> None:
    labels = ("append, one session", "append, 16 sessions", f"get_session, {RECENT} recent")
    for label, mine, adk, unit in zip(labels, ours, theirs or (0.0, 0.0, 0.0), ("/s", "/s", " ms"), strict=True):
        if theirs is None:
            print(f"  {name:<22} {label:<22} {mine:9.1f}{unit}")
            continue
        better = mine / adk if unit == "/s" else adk / mine
        print(f"  {name:<22} {label:<22} {mine:9.1f}{unit}  ADK {adk:9.1f}{unit}  {better:5.1f}x")


@contextmanager
def sqlite_urls() -> Iterator[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite:///{Path(directory) / 'ours.db'}", f"sqlite+aiosqlite:///{Path(directory) / 'adk.db'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=400)
    args = parser.parse_args()
    print(
        f"ADK session services: Session Store's against ADK's DatabaseSessionService, in process "
        f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})"
    )
    with sqlite_urls() as (ours, adk):
        mine = asyncio.run(measure(SessionStoreSessionService(ours), args.appends, "ours"))
        theirs = asyncio.run(measure(DatabaseSessionService(db_url=adk), args.appends, "adk"))
        report("SQLite", mine, theirs)
    with throwaway_postgres() as url:
        mine = asyncio.run(measure(SessionStoreSessionService(url), args.appends, "ours"))
        adk_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        theirs = asyncio.run(measure(DatabaseSessionService(db_url=adk_url), args.appends, "adk"))
        report("PostgreSQL", mine, theirs)
        config = (
            "session_service: {type: memory}\n"
            f'agents:\n  - name: {APP}\n    session_service: {{type: sql, database_url: "{url}"}}\n'
            "logging: {level: WARNING}\n"
        )
        with running_server(url, config) as server:
            remote = asyncio.run(measure(SessionStoreSessionService(server), args.appends, "remote"))
        report("PostgreSQL, over HTTP", remote, None)


if __name__ == "__main__":
    main()
