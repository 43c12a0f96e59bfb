"""The least a Python HTTP server can do for the chat loop's three routes: a ceiling, not a product.

A bare ASGI callable on the same server as Session Store (Granian, one worker) running the same SQL as
Session Store on psycopg's async connections, from a plain queue of connections opened at start: no
framework, no validation, no identity, no error handling, no logging. What it reaches on a machine
is what any Python server with this driver can reach there; `benchmarks/ceiling.py` sets it beside
Session Store and the issue's targets.

Usage: python -m benchmarks.bare_gateway POSTGRES_URL PORT  (the database migrated by Session Store)
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from typing import Any

import msgspec
import psycopg
from psycopg.rows import dict_row

from domain.search import bubble_text, indexed
from infrastructure.sql.gateway.repositories import _HISTORY, _USER_SESSION_COUNT, _USER_SESSIONS
from infrastructure.sql.postgres import DIALECT, SAVE_TASK

CONNECTIONS = 20
HISTORY = _HISTORY[False, False].compiled(DIALECT)[0]
SESSIONS = _USER_SESSIONS[False].compiled(DIALECT)[0]
SESSION_COUNT = _USER_SESSION_COUNT.compiled(DIALECT)[0]
_PG_SAVE_TASK = SAVE_TASK.compiled(DIALECT)[0]
CREATE = "INSERT INTO sessions (id, user_id, created_time, updated_time) VALUES (%(id)s, %(user)s, %(now)s, %(now)s)"
encode = msgspec.json.Encoder().encode


class BareGateway:
    def __init__(self, url: str) -> None:
        self.url = url
        self.idle: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            for _ in range(CONNECTIONS):
                self.idle.put_nowait(await psycopg.AsyncConnection.connect(self.url, autocommit=True))
            await send({"type": "lifespan.startup.complete"})
            await receive()
            return
        path, user = scope["path"], dict(scope["headers"]).get(b"x-user-id", b"").decode()
        if path == "/health":
            status, body = 200, b'{"status":"ok"}'
        elif path == "/api/v1/sessions" and scope["method"] == "POST":
            status, body = 201, await self.create(user, (await receive())["body"])
        elif path == "/api/v1/sessions":
            status, body = 200, await self.sessions(user)
        elif scope["method"] == "GET":
            status, body = 200, await self.history(user, path.split("/")[4])
        else:
            status, body = 201, await self.save(user, path.split("/")[4], (await receive())["body"])
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def rows(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        connection = await self.idle.get()
        try:
            async with connection.cursor(row_factory=dict_row) as cursor:
                await cursor.execute(sql, params)
                return await cursor.fetchall()
        finally:
            self.idle.put_nowait(connection)

    async def history(self, user: str, session_id: str) -> bytes:
        rows = await self.rows(HISTORY, {"sid": session_id})
        return encode({"data": [row for row in rows if row["owner"] == user and row["id"] is not None]})

    async def sessions(self, user: str) -> bytes:
        rows = await self.rows(SESSIONS, {"user": user, "limit": 21, "offset": 0})
        total = await self.rows(SESSION_COUNT, {"user": user})
        return encode({"data": rows[:20], "meta": {"totalCount": next(iter(total[0].values()))}})

    async def create(self, user: str, payload: bytes) -> bytes:
        now = int(time.time() * 1000)
        params = {"id": msgspec.json.decode(payload)["id"], "user": user, "now": now}
        await self.rows(CREATE, params)
        return encode({"data": params})

    async def save(self, user: str, session_id: str, payload: bytes) -> bytes:
        task = msgspec.json.decode(payload)
        params = {
            "sid": session_id,
            "user": user,
            "now": int(time.time() * 1000),
            "tid": task["taskId"],
            "message": task.get("userMessage"),
            "bubbles": task["messageBubbles"],
            "metadata": None,
            "create": False,
            "search_message": indexed([task.get("userMessage")]),
            "search_bubbles": indexed(bubble_text(b) for b in msgspec.json.decode(task["messageBubbles"])),
        }
        rows = await self.rows(_PG_SAVE_TASK, params)
        return encode(rows[0])


async def serve(url: str, port: int) -> None:
    """On the same server as Session Store's `serve`: Granian, embedded, HTTP/1.1, one worker."""
    from granian.constants import HTTPModes, Interfaces
    from granian.server.embed import Server

    server = Server(
        BareGateway(url),
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGI,
        http=HTTPModes.http1,
        websockets=False,
        backlog=2048,
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, server.stop)
    await server.serve()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
