"""The rule that says what in a registry config is a credential (domain.platform.secrets)."""

from __future__ import annotations

import json
from typing import Any

from domain.platform.secrets import MASK, keep_masked, masked

# Every value starting with "S3CRET" is a credential; everything else must read back unchanged.
PLANTED: dict[str, Any] = {
    "url": "https://crm.example.com/api",
    "password": "S3CRET-1",
    "Passwd": "S3CRET-2",
    "pwd": "S3CRET-3",
    "accessKey": "S3CRET-4",
    "AWS_SECRET_ACCESS_KEY": "S3CRET-5",
    "apiToken": "S3CRET-6",
    "client_credentials": "S3CRET-7",
    "Authorization": "Bearer S3CRET-8",
    "dsn": "S3CRET-9",
    "tlsCert": "S3CRET-10",
    "privatePem": "S3CRET-11",
    "signatureSalt": "S3CRET-12",
    "sessionId": "S3CRET-13",
    "cookieJar": "S3CRET-14",
    "database": "postgresql://app:S3CRET-15@db.example.com:5432/app",
    "webhook": "https://hooks.example.com/in?token=S3CRET-16&channel=ops",
    "mirror": "amqp://guest:S3CRET-17@mq:5672/?heartbeat=30",
    "notes": "see https://x.example.com/?api_key=S3CRET-18 for details",
    "headers": [{"name": "X-Api-Key", "value": "S3CRET-19"}, {"name": "Accept", "value": "json"}],
    "env": [{"Key": "DB_PASSWORD", "Value": "S3CRET-20"}, {"Key": "REGION", "Value": "eu"}],
    "auth": {"user": "S3CRET-21", "scheme": "S3CRET-22"},
    "keys": ["S3CRET-23", "S3CRET-24"],
    "nested": {"deeper": {"secretValue": {"a": "S3CRET-25"}, "kept": 1}},
    "credentialsList": [{"id": 1, "x": "S3CRET-26"}],
    "connection": {"Pwd": 27, "host": "db", "port": 5432, "tls": True, "timeout": None},
}


def test_no_planted_credential_reads_back() -> None:
    shown = masked(PLANTED)
    text = json.dumps(shown)
    leaked = [word for word in text.replace('"', " ").replace("&", " ").split() if "S3CRET" in word]
    assert leaked == []
    assert shown["connection"]["Pwd"] == MASK
    assert text.count(MASK) >= 27 - 3  # lists and objects under a credential are masked whole


def test_everything_else_reads_back_unchanged() -> None:
    shown = masked(PLANTED)
    assert shown["url"] == "https://crm.example.com/api"
    assert shown["database"] == "postgresql://app:***@db.example.com:5432/app"
    assert shown["webhook"] == "https://hooks.example.com/in?token=***&channel=ops"
    assert shown["mirror"] == "amqp://guest:***@mq:5672/?heartbeat=30"
    assert shown["headers"] == [{"name": "X-Api-Key", "value": MASK}, {"name": "Accept", "value": "json"}]
    assert shown["env"][1] == {"Key": "REGION", "Value": "eu"}
    assert shown["auth"] == MASK and shown["keys"] == MASK and shown["credentialsList"] == MASK
    assert shown["nested"] == {"deeper": {"secretValue": MASK, "kept": 1}}
    assert shown["connection"] == {"Pwd": MASK, "host": "db", "port": 5432, "tls": True, "timeout": None}


def test_writing_back_what_a_read_showed_keeps_every_secret() -> None:
    assert keep_masked(masked(PLANTED), PLANTED) == PLANTED


def test_a_write_back_with_one_change_changes_only_that() -> None:
    sent = masked(PLANTED)
    sent["url"] = "https://new.example.com"
    sent["password"] = "a-new-password"
    sent["headers"][1]["value"] = "xml"
    stored = keep_masked(sent, PLANTED)
    assert stored["url"] == "https://new.example.com" and stored["password"] == "a-new-password"
    assert stored["headers"] == [{"name": "X-Api-Key", "value": "S3CRET-19"}, {"name": "Accept", "value": "xml"}]
    assert stored["database"] == PLANTED["database"] and stored["auth"] == PLANTED["auth"]


def test_a_mask_where_nothing_was_stored_is_stored_as_sent() -> None:
    assert keep_masked({"password": MASK, "new": MASK}, {"other": 1}) == {"password": MASK, "new": MASK}
