"""What one point read costs through each layer, on PostgreSQL, measured in the same run.

Why the SQL adapters use SQLAlchemy Core in autocommit for reads, and the hot reads a statement
compiled once on the driver pool: compare the rows. Run:
`python -m benchmarks.point_read [--reads N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import psycopg
from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

from benchmarks.support import throwaway_postgres
from infrastructure.sql import migrate
from infrastructure.sql.driver import DriverQuery, PooledReads
from infrastructure.sql.driver_pool import DriverPool
from infrastructure.sql.urls import create_engine
from infrastructure.sql.gateway.tables import sessions


class _Base(DeclarativeBase):
    pass


class SessionRow(_Base):
    __table__ = sessions


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
    engine = create_engine(url)
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
    raw = await psycopg.AsyncConnection.connect(url, autocommit=True)
    held = await engine.connect()
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    orm = async_sessionmaker(engine)
    pool = DriverPool(url)
    compiled = DriverQuery(by_id)

    async def raw_read() -> object:
        cursor = await raw.execute("SELECT * FROM sessions WHERE id = %s", ("s500",))
        return await cursor.fetchone()

    async def held_read() -> object:
        return (await held.execute(by_id, {"key": "s500"})).first()

    async def autocommit_read() -> object:
        async with autocommit.connect() as connection:
            return (await connection.execute(by_id, {"key": "s500"})).first()

    async def driver_pool_read() -> object:
        reads = PooledReads(pool, autocommit)
        try:
            return (await compiled.all(reads, {"key": "s500"}))[0]
        finally:
            await reads.close()

    async def transaction_read() -> object:
        async with engine.begin() as connection:
            return (await connection.execute(by_id, {"key": "s500"})).first()

    async def orm_read() -> object:
        async with orm() as session, session.begin():
            return await session.get(SessionRow, "s500")

    print(f"One point read by primary key, sequential, {reads} reads each (PostgreSQL, same run):")
    floor = await timed("raw psycopg, one held connection (floor)", reads, raw_read, None)
    await timed("SQLAlchemy Core, one held connection", reads, held_read, floor)
    await timed("DriverQuery on the driver pool (ours, hot reads)", reads, driver_pool_read, floor)
    await timed("Core, pooled checkout, autocommit (ours, other reads)", reads, autocommit_read, floor)
    await timed("Core, pooled checkout, BEGIN/COMMIT", reads, transaction_read, floor)
    await timed("ORM AsyncSession.get, pooled, BEGIN/COMMIT", reads, orm_read, floor)
    await raw.close()
    await held.close()
    await pool.close()
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=3000)
    args = parser.parse_args()
    with throwaway_postgres() as url:
        migrate.upgrade("gateway", url)
        asyncio.run(measure(url, args.reads))


if __name__ == "__main__":
    main()
