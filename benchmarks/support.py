"""Shared benchmark plumbing: a throwaway database, a real server process, latency statistics."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from infrastructure.sql.urls import sync_url
from tests.e2e.server import free_port

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)


@contextmanager
def throwaway_postgres(server_url: str = POSTGRES_URL) -> Iterator[str]:
    name = f"ss_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sync_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


# The connections a benchmarked server may hold: as many as the bare app's (benchmarks/bare_gateway.py).
BENCH_POOL_SIZE = 20


class ServerProcess(str):
    """The base URL of a running server, carrying its process id."""

    pid: int


BASELINES_PYTHON = Path(".venv-baselines/bin/python")


@contextmanager
def running_server(
    database_url: str, config: str | None = None, *, workers: int = 1, pool_size: int = BENCH_POOL_SIZE
) -> Iterator[ServerProcess]:
    """`session-store serve` as the README tells users to run it; yields its base URL (with `.pid`).

    The gateway store on `database_url` with `pool_size` connections a worker, unless `config` (YAML)
    says otherwise.
    """
    with tempfile.TemporaryDirectory() as work:
        config_file = Path(work) / "bench.yaml"
        config_file.write_text(
            config
            or f'session_service:\n  type: sql\n  database_url: "{database_url}"\n  pool_size: {pool_size}\n'
            "logging:\n  level: WARNING\n"
        )
        port = free_port()
        command = [sys.executable, "-m", "app.cli", "serve", "--config", str(config_file), "--port", str(port)]
        command += ["--workers", str(workers)]
        with _serving(command, port, "/health/ready", work) as base:
            yield base


@contextmanager
def running_baseline(script: str, database_url: str, *options: str) -> Iterator[ServerProcess]:
    """A baseline server (benchmarks/incumbent_gateway.py, benchmarks/adk_http.py) in the baselines' virtualenv."""
    if not BASELINES_PYTHON.exists():
        raise RuntimeError(f"{BASELINES_PYTHON} is missing: run `make bench-baselines-env`")
    port = free_port()
    path = str(Path(__file__).with_name(script).resolve())
    with _serving([str(BASELINES_PYTHON.absolute()), path, database_url, str(port), *options], port, "/health") as base:
        yield base


@contextmanager
def running_bare_gateway(database_url: str) -> Iterator[ServerProcess]:
    """benchmarks/bare_gateway.py on a database Session Store has migrated."""
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.bare_gateway", database_url, str(port)]
    with _serving(command, port, "/health", str(Path(__file__).parent.parent)) as base:
        yield base


@contextmanager
def _serving(command: list[str], port: int, ready_path: str, cwd: str | None = None) -> Iterator[ServerProcess]:
    # The server's stderr goes to a file: an undrained pipe would stall a server that logs a lot.
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors, text=True)
        base = ServerProcess(f"http://127.0.0.1:{port}")
        base.pid = process.pid
        try:
            deadline = time.monotonic() + 600  # a baseline may seed its database first
            while True:
                try:
                    if httpx.get(f"{base}{ready_path}", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    errors.seek(0)
                    raise RuntimeError(f"server did not start: {errors.read()[-4000:]}")
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:  # a wedged server waits for requests that never end
                process.kill()
                process.wait()


@dataclass
class Latencies:
    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    stalled: int = 0  # clients still waiting for an answer long after the measurement ended

    def add(self, route: str, seconds: float) -> None:
        self.samples.setdefault(route, []).append(seconds)

    def row(self, route: str, elapsed: float) -> tuple[str, int, float, float, float]:
        values = sorted(self.samples.get(route, []))
        if not values:
            return route, 0, 0.0, 0.0, 0.0
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        return route, len(values), len(values) / elapsed, statistics.median(values) * 1000, p99 * 1000


async def raw_insert_floor(url: str, clients: int, seconds: float) -> float:
    """The raw driver floor: psycopg, one INSERT per round trip in autocommit, `clients` connections."""
    import asyncio

    import psycopg

    setup = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await setup.execute("CREATE TABLE IF NOT EXISTS floor (id BIGSERIAL PRIMARY KEY, s TEXT, body TEXT)")
    await setup.close()
    body = "x" * 300
    done = 0
    stop_at = time.perf_counter() + seconds

    async def writer() -> None:
        nonlocal done
        connection = await psycopg.AsyncConnection.connect(url, autocommit=True)
        while time.perf_counter() < stop_at:
            await connection.execute("INSERT INTO floor (s, body) VALUES (%s, %s)", ("x", body))
            done += 1
        await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(clients)))
    return done / (time.perf_counter() - started)
