"""A minimal keep-alive HTTP/1.1 client for load generation.

The machine has two cores and no load tool; httpx spends more CPU per request than the server
under test, so the benchmark would measure the client. This client does the least a client can:
write the request bytes, read the head, read Content-Length bytes (or the chunks of a streamed
answer, such as a whole history).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

NO_ANSWER = 599


class HttpConnection:
    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._head = f"Host: {self.host}:{self.port}\r\n{extra}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> HttpConnection:
        await self._connect()
        return self

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """(status, body); NO_ANSWER when the server closed the connection instead of answering."""
        try:
            return await self._exchange(method, path, body)
        except (asyncio.IncompleteReadError, ConnectionError):
            if self._writer is not None:
                self._writer.close()
            await self._connect()
            return NO_ANSWER, b""

    async def _exchange(self, method: str, path: str, body: Any) -> tuple[int, bytes]:
        assert self._reader is not None and self._writer is not None
        payload = b"" if body is None else json.dumps(body).encode()
        content = f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n" if body is not None else ""
        self._writer.write(f"{method} {path} HTTP/1.1\r\n{self._head}{content}\r\n".encode() + payload)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, close, chunked = 0, False, False
        for line in head.split(b"\r\n")[1:]:
            lowered = line.lower()
            if lowered[:15] == b"content-length:":
                length = int(line[15:])
            elif lowered == b"connection: close":
                close = True
            elif lowered == b"transfer-encoding: chunked":
                chunked = True
        if chunked:
            body = await self._chunks()
        else:
            body = await self._reader.readexactly(length) if length else b""
        if close:  # the server ends the connection after this answer (uvicorn does after a 500)
            self._writer.close()
            await self._connect()
        return status, body

    async def _chunks(self) -> bytes:
        assert self._reader is not None
        parts = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await self._reader.readexactly(size + 2))  # the chunk and its CRLF
            if size == 0:
                return b"".join(part[:-2] for part in parts)
