"""The service's secrets: SESSION_SECRET_KEY signs cookies, PLATFORM_SECRET_KEY encrypts the platform
registry's configs. Each is required in production, generated once and kept under ./data/ in
development, and rotated by listing older keys in <NAME>_PREVIOUS (comma-separated)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from infrastructure.config.loader import ConfigError

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
DEV_KEY_FILE = Path("data") / "session-secret-key"
PLATFORM_DEV_KEY_FILE = Path("data") / "platform-secret-key"


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def session_secret_keys(environ: Mapping[str, str], host: str, key_file: Path = DEV_KEY_FILE) -> tuple[list[str], bool]:
    """The cookie's signing keys, current first, then SESSION_SECRET_KEY_PREVIOUS; and whether the
    current one was generated for development (the caller warns)."""
    return secret_keys(environ, host, "SESSION_SECRET_KEY", key_file)


def platform_secret_keys(
    environ: Mapping[str, str], host: str, key_file: Path = PLATFORM_DEV_KEY_FILE
) -> tuple[list[str], bool]:
    """The keys that encrypt the platform registry's configs, as session_secret_keys."""
    return secret_keys(environ, host, "PLATFORM_SECRET_KEY", key_file)


def secret_keys(environ: Mapping[str, str], host: str, name: str, key_file: Path) -> tuple[list[str], bool]:
    previous = [k.strip() for k in environ.get(f"{name}_PREVIOUS", "").split(",") if k.strip()]
    current = environ.get(name, "").strip()
    if current:
        return [current, *previous], False
    if not is_loopback(host):
        raise ConfigError(
            f"{name} is required when serving on {host}: set it to a long random string, the same on every instance"
        )
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return [key_file.read_text().strip(), *previous], True
