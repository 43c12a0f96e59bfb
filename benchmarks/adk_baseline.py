"""Google ADK's DatabaseSessionService measured the same way as ours (benchmarks/agent_store.py).

Runs in its own virtualenv (make bench-baselines-env), never in Session Store's: it imports nothing of
the project. Prints one JSON object of figures. Usage: adk_baseline.py URL --appends N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

from google.adk.events import Event, EventActions
from google.adk.sessions import DatabaseSessionService
from google.adk.sessions.base_session_service import BaseSessionService, GetSessionConfig
from google.adk.sessions.schemas.v1 import StorageEvent
from google.genai import types

APP, USER = "bench", "alice"
TEXT = "How warm is Lisbon in May? Around 22 degrees in the afternoon, cooler at night. " * 2


def event(i: int, timestamp: float | None = None) -> Event:
    extra = {} if timestamp is None else {"timestamp": timestamp}
    return Event(
        invocation_id=f"inv-{i}",
        author="user",
        content=types.Content(role="user", parts=[types.Part(text=TEXT)]),
        actions=EventActions(state_delta={"turn": i}),
        **extra,
    )


ROUNDS = 3  # the median of three rounds, as benchmarks/agent_store.py measures ours


async def appends(service: BaseSessionService, sessions: int, total: int, tag: str = "a") -> float:
    """Appends per second to `sessions` sessions at once (median of ROUNDS); `tag` keeps the session
    ids of several measurements on one database apart."""
    rates = []
    for round_ in range(ROUNDS):
        made = [
            await service.create_session(app_name=APP, user_id=USER, session_id=f"{tag}{sessions}-r{round_}-{s}")
            for s in range(sessions)
        ]

        async def writer(session, count: int) -> None:  # type: ignore[no-untyped-def]
            for i in range(count):
                await service.append_event(session, event(i))

        started = time.perf_counter()
        await asyncio.gather(*(writer(s, total // sessions) for s in made))
        rates.append((total // sessions * sessions) / (time.perf_counter() - started))
    return statistics.median(rates)


async def seeded(service: DatabaseSessionService, session_id: str, size: int) -> None:
    session = await service.create_session(app_name=APP, user_id=USER, session_id=session_id)
    base = time.time() - size
    for start in range(0, size, 5000):
        async with service._rollback_on_exception_session() as sql:  # bulk seeding: its own rows, its own way
            sql.add_all(
                StorageEvent.from_event(session, event(i, base + i)) for i in range(start, min(size, start + 5000))
            )
            await sql.commit()


async def read_ms(service: DatabaseSessionService, session_id: str, reads: int, recent: int | None) -> float:
    config = GetSessionConfig(num_recent_events=recent) if recent else None
    await service.get_session(app_name=APP, user_id=USER, session_id=session_id, config=config)
    started = time.perf_counter()
    for _ in range(reads):
        got = await service.get_session(app_name=APP, user_id=USER, session_id=session_id, config=config)
        assert got is not None and (recent is None or len(got.events) == min(recent, len(got.events)))
    return (time.perf_counter() - started) / reads * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--appends", type=int, default=400)
    parser.add_argument("--sizes", default="100,10000")
    parser.add_argument("--whole", type=int, default=10000)
    args = parser.parse_args()
    service = DatabaseSessionService(db_url=args.url)
    figures: dict[str, float] = {
        "append_sequential_per_s": await appends(service, 1, args.appends),
        "append_16_sessions_per_s": await appends(service, 16, args.appends),
    }
    for size in (int(s) for s in args.sizes.split(",")):
        await seeded(service, f"size-{size}", size)
        figures[f"recent20_ms_{size}"] = await read_ms(service, f"size-{size}", 20 if size <= 10000 else 5, 20)
    if f"size-{args.whole}" not in {f"size-{s}" for s in args.sizes.split(",")}:
        await seeded(service, f"size-{args.whole}", args.whole)
    figures["whole_history_ms"] = await read_ms(service, f"size-{args.whole}", 3, None)
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
