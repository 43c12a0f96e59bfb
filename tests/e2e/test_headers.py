"""Headers cannot exhaust the server: too large is a 431 before any work, too slow is closed
(server.max_header_size, server.header_timeout), attacked with real sockets."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("headers")
    config = directory / "c.yaml"
    config.write_text("session_service: {type: memory}\nagents: []\nserver:\n  header_timeout: 1\n")
    running = Server(config, directory).start().wait_ready()
    try:
        yield running
    finally:
        running.stop()


def rss_mb(server: Server) -> float:
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def status_of(connection: socket.socket) -> bytes:
    try:
        return connection.recv(4096).split(b"\r\n", 1)[0]
    except ConnectionResetError:
        return b"(reset)"


def test_headers_within_the_limit_are_served(server: Server) -> None:
    answer = httpx.get(f"{server.url}/health", headers={"X-Padding": "p" * 60_000}, timeout=10)
    assert answer.status_code == 200


def test_headers_over_the_limit_are_a_431_and_memory_stays_flat(server: Server) -> None:
    before = rss_mb(server)
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
            connection.sendall(b"GET /api/v1/sessions HTTP/1.1\r\nHost: x\r\nX-User-Id: u\r\n")
            sent = 0
            try:
                while sent < 200 * 1024 * 1024:  # 200 MB of header, as the attack sent
                    connection.sendall(b"X-Junk: " + b"j" * 65_000 + b"\r\n")
                    sent += 65_010
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server stopped reading: what it should do
            status = status_of(connection)
            assert status in (b"HTTP/1.1 431 Request Header Fields Too Large", b"", b"(reset)"), status
            assert sent < 50 * 1024 * 1024, "the server kept reading a header past its limit"
    assert rss_mb(server) - before < 50
    assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200


@pytest.mark.parametrize("size", [66_000, 100_000, 300_000])
def test_a_431_is_answered_before_any_work(server: Server, size: int) -> None:
    """Whether the server stops reading or the app refuses, the caller learns why and nothing runs:
    not even the caller's identity is looked at (an X-User-Id that would be a 400 is never read)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        head = b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nX-User-Id: ../bad\r\nContent-Length: 2\r\n"
        connection.sendall(head + b"X-Big: " + b"a" * size + b"\r\n\r\n{}")
        assert status_of(connection) == b"HTTP/1.1 431 Request Header Fields Too Large"
    with httpx.Client(base_url=server.url, headers={"X-User-Id": "u"}, timeout=10) as http:
        assert http.get("/api/v1/sessions").json()["data"] == []


def test_half_sent_requests_are_closed_after_the_header_timeout(server: Server) -> None:
    connections = []
    for _ in range(200):
        connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        connection.sendall(b"GET /api/v1/sessions HTTP/1.1\r\nHost: x\r\nX-User-Id: slow")  # never finished
        connections.append(connection)
    # Meanwhile the server serves others.
    assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
    time.sleep(2.5)  # header_timeout is 1 s
    closed = 0
    for connection in connections:
        connection.settimeout(2)
        try:
            answer = connection.recv(4096)
            closed += answer == b"" or answer.startswith(b"HTTP/1.1 408")
        except ConnectionResetError:
            closed += 1
        except TimeoutError:
            pass
        connection.close()
    assert closed == len(connections)
