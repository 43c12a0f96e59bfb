"""What one point read costs through each layer, on PostgreSQL, measured in the same run.

Why the gateway and agent stores run their Core statements, compiled once, straight on psycopg
(infrastructure/sql/postgres.py) rather than through SQLAlchemy's execution layer, its ORM, or
advanced-alchemy's repositories; and why the PostgreSQL backend keeps its own small driver pool
(infrastructure/sql/driver_pool.py) rather than psycopg_pool: as fast, but with the database down
psycopg_pool keeps a request waiting for its whole timeout, where ours answers 503 at once. Compare
the rows. Run: `python -m benchmarks.point_read [--reads N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import psycopg
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from benchmarks.support import throwaway_postgres
from domain.errors import StoreUnavailable
from infrastructure.sql import migrate
from infrastructure.sql.connection import Query
from infrastructure.sql.gateway.tables import sessions
from infrastructure.sql.postgres import DIALECT, PostgresBackend
from infrastructure.sql.urls import POOL_TIMEOUT_S, sync_url


class _Base(DeclarativeBase):
    pass


class SessionRow(_Base):
    __table__ = sessions


class SessionRows(SQLAlchemyAsyncRepository[SessionRow]):
    model_type = SessionRow


async def timed(label: str, reads: int, once: Callable[[], Awaitable[object]], baseline: float | None) -> float:
    for _ in range(50):  # warm caches and prepared statements
        await once()
    started = time.perf_counter()
    for _ in range(reads):
        await once()
    micros = (time.perf_counter() - started) / reads * 1e6
    ratio = f"{micros / baseline:6.2f}x" if baseline else "  1.00x"
    print(f"  {label:<52}{micros:8.0f} us {ratio}")
    return micros


async def measure(url: str, reads: int) -> None:
    engine = create_async_engine(sync_url(url), pool_size=10)
    async with engine.begin() as connection:
        await connection.execute(
            insert(sessions),
            [
                {
                    "id": f"s{i}",
                    "user_id": "u",
                    "name": None,
                    "agent_id": None,
                    "project_id": None,
                    "created_time": i,
                    "updated_time": i,
                }
                for i in range(1000)
            ],
        )
    by_id = select(sessions).where(sessions.c.id == bindparam("key"))
    compiled = Query(by_id)
    sql, _ = compiled.compiled(DIALECT)
    raw = await psycopg.AsyncConnection.connect(url, autocommit=True)
    held = await engine.connect()
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    orm = async_sessionmaker(engine, expire_on_commit=False)
    backend = PostgresBackend(url, statement_timeout_ms=30_000)
    library_pool = AsyncConnectionPool(url, min_size=1, max_size=10, kwargs={"autocommit": True}, open=False)
    await library_pool.open()

    async def raw_read() -> object:
        cursor = await raw.execute("SELECT * FROM sessions WHERE id = %s", ("s500",))
        return await cursor.fetchone()

    async def held_read() -> object:
        return (await held.execute(by_id, {"key": "s500"})).first()

    async def ours() -> object:
        reads = await backend.begin(read_only=True)
        try:
            return await reads.first(compiled, {"key": "s500"})
        finally:
            await reads.close()

    async def on_psycopg_pool() -> object:
        async with library_pool.connection() as connection:
            return await (await connection.execute(sql, {"key": "s500"})).fetchone()

    async def autocommit_read() -> object:
        async with autocommit.connect() as connection:
            return (await connection.execute(by_id, {"key": "s500"})).first()

    async def transaction_read() -> object:
        async with engine.begin() as connection:
            return (await connection.execute(by_id, {"key": "s500"})).first()

    async def orm_read() -> object:
        async with orm() as session, session.begin():
            return await session.get(SessionRow, "s500")

    async def advanced_alchemy_read() -> object:
        async with orm() as session, session.begin():
            return await SessionRows(session=session).get("s500")

    print(f"One point read by primary key, sequential, {reads} reads each (PostgreSQL, same run):")
    floor = await timed("raw psycopg, one held connection (floor)", reads, raw_read, None)
    await timed("ours: a Query on the backend's driver pool", reads, ours, floor)
    await timed("the same SQL on psycopg_pool", reads, on_psycopg_pool, floor)
    await timed("SQLAlchemy Core, one held connection", reads, held_read, floor)
    await timed("Core, pooled checkout, autocommit", reads, autocommit_read, floor)
    await timed("Core, pooled checkout, BEGIN/COMMIT", reads, transaction_read, floor)
    await timed("ORM AsyncSession.get, pooled, BEGIN/COMMIT", reads, orm_read, floor)
    await timed("advanced-alchemy repository get, BEGIN/COMMIT", reads, advanced_alchemy_read, floor)
    await raw.close()
    await held.close()
    await backend.close()
    await library_pool.close()
    await engine.dispose()


async def outage() -> None:
    """How long a request waits for its answer while the database is down (nothing listens)."""
    down = "postgresql://postgres@127.0.0.1:1/none"
    logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)  # its retries, logged one by one
    backend = PostgresBackend(down, statement_timeout_ms=30_000)
    started = time.perf_counter()
    try:
        reads = await backend.begin(read_only=True)
        await reads.first(Query("SELECT 1"))
    except StoreUnavailable:
        pass
    ours = time.perf_counter() - started
    await backend.close()
    pool = AsyncConnectionPool(down, min_size=0, max_size=10, timeout=POOL_TIMEOUT_S, open=False)
    await pool.open(wait=False)
    started = time.perf_counter()
    try:
        async with pool.connection():
            pass
    except Exception:
        pass
    theirs = time.perf_counter() - started
    await pool.close()
    print(f"\nWith the database down, one request's wait for its answer (pool timeout {POOL_TIMEOUT_S:.0f} s):")
    print(f"  {'ours (driver pool): connects in the request, 503':<52}{ours * 1000:8.1f} ms")
    print(f"  {'psycopg_pool: waits while it reconnects behind':<52}{theirs * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=3000)
    args = parser.parse_args()
    with throwaway_postgres() as url:
        migrate.upgrade("gateway", url)
        asyncio.run(measure(url, args.reads))
    asyncio.run(outage())


if __name__ == "__main__":
    main()
