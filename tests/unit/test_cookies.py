"""Signed cookies: rotation, tampering, expiry."""

from __future__ import annotations

import time

import pytest

from infrastructure.config.loader import ConfigError
from infrastructure.cookies import CookieSession, CookieSigner
from infrastructure.secret_key import session_secret_keys


def test_a_cookie_verifies_with_the_key_that_signed_it_and_after_rotation() -> None:
    old = CookieSigner(["old-key"], 3600)
    cookie = old.sign(CookieSession("anon-1", "web-session-1"))
    assert old.verify(cookie) == CookieSession("anon-1", "web-session-1")
    rotated = CookieSigner(["new-key", "old-key"], 3600)
    assert rotated.verify(cookie) == CookieSession("anon-1", "web-session-1")
    assert CookieSigner(["new-key"], 3600).verify(cookie) is None  # the old key retired: cookie void
    assert old.verify(rotated.sign(CookieSession("anon-2"))) is None  # new cookies use the new key


@pytest.mark.parametrize("mangle", [lambda c: c[:-2] + "xx", lambda c: "A" + c[1:], lambda c: c + ".x", lambda c: ""])
def test_a_tampered_cookie_is_absent(mangle: object) -> None:
    signer = CookieSigner(["k"], 3600)
    assert signer.verify(mangle(signer.sign(CookieSession("anon-1"))) if callable(mangle) else None) is None


def test_an_expired_cookie_is_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = CookieSigner(["k"], 60)
    cookie = signer.sign(CookieSession("anon-1"))
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert signer.verify(cookie) is None


def test_secret_keys_from_the_environment(tmp_path: object) -> None:
    keys, generated = session_secret_keys(
        {"SESSION_SECRET_KEY": "cur", "SESSION_SECRET_KEY_PREVIOUS": "a, b"}, "0.0.0.0"
    )
    assert (keys, generated) == (["cur", "a", "b"], False)


def test_without_a_key_development_generates_one_and_production_refuses(tmp_path: object) -> None:
    from pathlib import Path

    key_file = Path(str(tmp_path)) / "data" / "session-secret-key"
    first, generated = session_secret_keys({}, "127.0.0.1", key_file)
    assert generated and len(first[0]) > 40 and oct(key_file.stat().st_mode)[-3:] == "600"
    assert session_secret_keys({}, "127.0.0.1", key_file)[0] == first  # kept: restarts keep cookies valid
    with pytest.raises(ConfigError, match=r"SESSION_SECRET_KEY is required when serving on 0\.0\.0\.0"):
        session_secret_keys({}, "0.0.0.0", key_file)
