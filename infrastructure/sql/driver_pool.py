"""PostgreSQL's reads and one-statement writes on psycopg connections handed out without SQLAlchemy.

Taking a connection from SQLAlchemy's pool and giving it back costs about 70 us of CPU a request
(connection and fairy objects, pool events, greenlet hops, the reset on return), as much as the
read itself costs in psycopg; on a busy server CPU sets the request rate. The statements that run
here are the hot ones, already written for psycopg (`DriverQuery`, the one-statement save and
append). The pool keeps what they relied on from SQLAlchemy's: connections in autocommit with the
statement timeout, opened on demand up to a limit and waited for up to a timeout, pinged when they
sat idle, recycled after a while, discarded when broken, all dropped after a disconnect so a
restarted database is used again at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.pq import TransactionStatus

from infrastructure.sql.urls import PING_AFTER_IDLE_S, POOL_TIMEOUT_S, RECYCLE_S, driver_url, prepare_threshold

Connection = psycopg.AsyncConnection[Any]


class DriverPool:
    def __init__(
        self,
        url: str,
        *,
        max_size: int = 40,
        timeout_s: float = POOL_TIMEOUT_S,
        idle_timeout_s: float = 60.0,
        statement_timeout_ms: int | None = None,
    ) -> None:
        conninfo = driver_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._prepare_threshold = prepare_threshold(url)
        if statement_timeout_ms:  # a connection parameter, not a SET: nothing runs on connect
            conninfo = make_conninfo(conninfo, options=f"-c statement_timeout={int(statement_timeout_ms)}")
        self._conninfo = conninfo
        self._slots = asyncio.Semaphore(max_size)
        self._timeout_s = timeout_s
        self._idle_timeout_s = idle_timeout_s
        # (connection, opened at, idle since): the last returned is the first taken, so after a burst
        # the surplus stays at the bottom and is closed once it has idled for idle_timeout_s. Closing
        # a connection on return instead (SQLAlchemy's overflow) makes a load above the kept number
        # open and close a PostgreSQL backend per request.
        self._idle: list[tuple[Connection, float, float]] = []
        self._opened: dict[int, float] = {}
        self._closed = False

    async def acquire(self) -> Connection:
        if self._slots.locked():
            await asyncio.wait_for(self._slots.acquire(), self._timeout_s)
        else:
            await self._slots.acquire()  # a free slot: returns at once
        try:
            return await self._take()
        except BaseException:
            self._slots.release()
            raise

    async def release(self, connection: Connection) -> None:
        try:
            await self._give_back(connection)
        finally:
            self._slots.release()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        connection = await self.acquire()
        try:
            yield connection
        finally:
            await self.release(connection)

    async def _take(self) -> Connection:
        now = time.monotonic()
        while self._idle:
            connection, opened, idle_since = self._idle.pop()
            if now - opened > RECYCLE_S:
                await self._discard(connection)
            elif now - idle_since > PING_AFTER_IDLE_S and not await _answers(connection):
                await self._drop_idle()  # the database went away: the others are as stale
                await self._discard(connection)
            else:
                return connection
        connection = await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, prepare_threshold=self._prepare_threshold
        )
        self._opened[id(connection)] = now
        return connection

    async def _give_back(self, connection: Connection) -> None:
        usable = not connection.closed and connection.info.transaction_status == TransactionStatus.IDLE
        if connection.broken:
            await self._drop_idle()
        now = time.monotonic()
        if usable and not self._closed:
            self._idle.append((connection, self._opened[id(connection)], now))
        else:
            await self._discard(connection)
        while self._idle and now - self._idle[0][2] > self._idle_timeout_s:
            await self._discard(self._idle.pop(0)[0])

    async def _drop_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection, _, _ in idle:
            await self._discard(connection)

    async def _discard(self, connection: Connection) -> None:
        self._opened.pop(id(connection), None)
        with suppress(Exception):  # a connection being thrown away may fail to close: nothing to do
            await connection.close()

    async def close(self) -> None:
        self._closed = True
        await self._drop_idle()


async def _answers(connection: Connection) -> bool:
    try:
        await connection.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True
