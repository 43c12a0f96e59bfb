"""What in a registry record's config is a credential: masked on every read, kept on a write-back.

A rule, not a list of names, because configs are free-form and their authors name keys as they
please (`accessKey`, `pwd`, `dsn`, `X-Api-Key` in a name/value list):
- a value is masked when any key on its path looks like a credential; an object or a list under
  such a key is masked whole;
- in a name/value pair (`{"name": "password", "value": ...}`) the name counts as the value's key;
- a password in a URL's userinfo, or a credential-looking parameter in its query, is masked in any
  string, wherever it sits.
A PATCH that sends the mask back where a read showed it keeps what is stored there, so a client may
read a record, change one field and write the whole config back without erasing its secrets.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_CREDENTIAL = re.compile(
    r"pass|pwd|secret|token|key|credential|auth|dsn|cert|private|signature|session|cookie", re.IGNORECASE
)
# Keys that name a sibling value in a name/value pair, and the keys of that value.
_NAMES = frozenset({"name", "key", "header", "param", "parameter", "field", "variable", "var"})
_VALUES = frozenset({"value", "val", "values"})
_URL_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:)(?P<password>[^@/?#\s]+)(?=@)")
_URL_QUERY = re.compile(r"(?P<head>[?&;](?P<name>[^=&#\s]+)=)(?P<value>[^&#\s]*)")


def looks_like_credential(key: object) -> bool:
    return isinstance(key, str) and _CREDENTIAL.search(key) is not None


def _children(value: dict[str, Any], secret: bool) -> dict[str, bool]:
    """Whether each entry of an object is under a credential: its key, its pair's name, or above.
    In a name/value pair the name's key (`key`, `name`) names the value: it is not a credential."""
    lowered = {key: str(key).lower() for key in value}
    pair = any(k in _VALUES for k in lowered.values()) and any(k in _NAMES for k in lowered.values())
    named = pair and any(lowered[k] in _NAMES and looks_like_credential(v) for k, v in value.items())
    return {
        key: secret
        or (named and lowered[key] in _VALUES)
        or (looks_like_credential(key) and not (pair and lowered[key] in _NAMES))
        for key in value
    }


def _mask_text(text: str) -> str:
    text = _URL_USERINFO.sub(lambda m: m["head"] + MASK, text)
    return _URL_QUERY.sub(lambda m: m["head"] + (MASK if looks_like_credential(m["name"]) else m["value"]), text)


def masked(value: Any, secret: bool = False) -> Any:
    """The value as a read shows it: every credential replaced by `***`."""
    if secret:
        return None if value is None else MASK
    if isinstance(value, dict):
        under = _children(value, secret)
        return {key: masked(item, under[key]) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, str) and ("://" in value or "=" in value):
        return _mask_text(value)
    return value


def keep_masked(sent: Any, stored: Any, secret: bool = False) -> Any:
    """What a write stores: `sent`, except where it repeats what a read showed of `stored` at the
    same place (the mask, or a URL with its password masked), which keeps the stored value."""
    if sent == masked(stored, secret) and sent != stored:
        return stored
    if isinstance(sent, dict) and isinstance(stored, dict):
        under = _children(stored, secret)
        return {
            key: keep_masked(item, stored[key], under[key]) if key in stored else item for key, item in sent.items()
        }
    if isinstance(sent, list) and isinstance(stored, list):
        return [keep_masked(item, stored[i]) if i < len(stored) else item for i, item in enumerate(sent)]
    return sent
