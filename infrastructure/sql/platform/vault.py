"""Registry configs encrypted at rest, with advanced-alchemy's Fernet backend (AES-128-CBC and
HMAC-SHA256, the key derived from the configured secret by SHA-256).

Keys rotate as the cookie's do: the first seals, every one opens, so rows written under an older
key (PLATFORM_SECRET_KEY_PREVIOUS) stay readable and are sealed under the current one on their
next write, or all at once by `session-store platform reseal`.
"""

from __future__ import annotations

from collections.abc import Sequence

from advanced_alchemy.types import FernetBackend
from cryptography.fernet import InvalidToken


class SealedByAnotherKey(RuntimeError):
    """No configured key opens a stored config: the key it was sealed with is not configured."""


class Vault:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys or not all(keys):
            raise ValueError("the platform store needs at least one non-empty secret key")
        self._backends: list[FernetBackend] = []
        for key in keys:
            backend = FernetBackend()
            backend.mount_vault(key)
            self._backends.append(backend)

    def seal(self, text: str) -> str:
        return self._backends[0].encrypt(text)

    def open(self, stored: str) -> str:
        return self._opened(stored)[0]

    def resealed(self, stored: str) -> str | None:
        """`stored` sealed under the current key, or None when it already is."""
        text, by_current = self._opened(stored)
        return None if by_current else self.seal(text)

    def _opened(self, stored: str) -> tuple[str, bool]:
        """The text, and whether the current key sealed it."""
        if stored.startswith("{"):
            # Stored in clear before configs were encrypted: sealed on its next write.
            return stored, False
        for index, backend in enumerate(self._backends):
            try:
                return backend.decrypt(stored), index == 0
            except InvalidToken:
                continue
        raise SealedByAnotherKey(
            "a platform record was encrypted with a key that is not configured: "
            "list the key it was written with in PLATFORM_SECRET_KEY_PREVIOUS"
        )
