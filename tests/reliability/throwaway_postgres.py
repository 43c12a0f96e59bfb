"""A PostgreSQL cluster of the test's own (initdb in a temporary directory, a free port), which
the test may stop and start at will: the machine's shared server is never touched."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import IN_CI
from tests.e2e.server import free_port


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class ThrowawayPostgres:
    def __init__(self, **settings: str) -> None:
        """`settings`: the server's own (`max_connections="60"`), given at every start."""
        self.settings = settings
        initdb, self.pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if not initdb or not self.pg_ctl or shutil.which("runuser") is None:
            message = "initdb/pg_ctl/runuser not found: cannot run a throwaway PostgreSQL cluster"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
        self.root = Path(tempfile.mkdtemp(prefix="ss-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        shutil.chown(self.root, "postgres")
        os.chmod(self.root, 0o700)
        self._as_postgres([initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"])

    def _as_postgres(self, command: list[str]) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += "".join(f" -c {name}={value}" for name, value in self.settings.items())
        self._as_postgres(
            [self.pg_ctl, "-D", str(self.data), "-o", options, "-w", "-l", str(self.root / "log"), "start"]
        )

    def stop(self) -> None:
        self._as_postgres([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_postgres(**settings: str) -> Iterator[ThrowawayPostgres]:
    """A throwaway cluster, started, with `settings`; destroyed at the end."""
    postgres = ThrowawayPostgres(**settings)
    postgres.start()
    try:
        yield postgres
    finally:
        postgres.destroy()
