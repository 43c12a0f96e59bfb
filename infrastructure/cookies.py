"""Signed session cookies: HMAC-SHA256 over a small JSON payload, with key rotation.

New cookies are signed with SESSION_SECRET_KEY; cookies signed with any key of
SESSION_SECRET_KEY_PREVIOUS still verify, so keys rotate without logging anyone out. Every
instance with the same keys accepts every other's cookies. A cookie that does not verify is
treated as absent: never an error, never access. A cookie past half its max age is renewed by the
next response (it slides), so only a browser idle for the whole max age loses it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class CookieSession:
    user_id: str | None = None
    session_id: str | None = None
    # When it was signed (epoch s); 0 for one not signed yet. Not part of what it says: two cookies
    # saying the same are equal whenever they were signed.
    issued_at: int = field(default=0, compare=False)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CookieSigner:
    def __init__(self, keys: Sequence[str], max_age_s: int) -> None:
        if not keys or not all(keys):
            raise ValueError("at least one non-empty secret key is needed")
        self._keys = [k.encode() for k in keys]
        self.max_age_s = max_age_s

    def _mac(self, key: bytes, payload: str) -> str:
        return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())

    def sign(self, session: CookieSession) -> str:
        payload = _b64(json.dumps({"u": session.user_id, "s": session.session_id, "t": int(time.time())}).encode())
        return f"{payload}.{self._mac(self._keys[0], payload)}"

    def verify(self, cookie: str | None) -> CookieSession | None:
        if not cookie or cookie.count(".") != 1:
            return None
        payload, mac = cookie.split(".")
        if not any(hmac.compare_digest(mac, self._mac(key, payload)) for key in self._keys):
            return None
        try:
            data: Any = json.loads(_unb64(payload))
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("t"), int):
            return None
        if data["t"] + self.max_age_s < time.time():
            return None
        user, sid = data.get("u"), data.get("s")
        return CookieSession(user if isinstance(user, str) else None, sid if isinstance(sid, str) else None, data["t"])

    def stale(self, session: CookieSession) -> bool:
        """Past half its max age: the response renews it, so an active user's cookie never expires."""
        return session.issued_at + self.max_age_s / 2 < time.time()
