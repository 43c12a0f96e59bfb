"""Identity adapters. Development: trust the `X-User-Id` header (real authentication comes later)."""

from __future__ import annotations

from collections.abc import Mapping

from domain.errors import InvalidInput
from domain.gateway.model import check_id

DEV_USER = "dev-user"


class HeaderIdentity:
    """The caller is whoever the `X-User-Id` header names, else `dev-user`. Never for production."""

    header = "x-user-id"

    def __init__(self, default_user: str = DEV_USER) -> None:
        self._default = default_user

    def user_id(self, headers: Mapping[str, str]) -> str:
        value = headers.get(self.header)
        if value is None or value == "":
            return self._default
        try:
            return check_id("X-User-Id", value)
        except InvalidInput as exc:
            raise InvalidInput("X-User-Id", exc.reason) from exc
