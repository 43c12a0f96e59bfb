"""The errors a use case can raise. The app maps each to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class NotFound(DomainError):
    """The thing does not exist, or belongs to someone else (never say which)."""

    def __init__(self, kind: str, ident: str) -> None:
        # Enough of the id to recognise it; an answer never repeats 10,000 characters it was sent.
        shown = ident if len(ident) <= 64 else f"{ident[:64]}..."
        super().__init__(f"{kind} {shown!r} was not found")
        self.kind = kind
        self.ident = ident


class Conflict(DomainError):
    """The write would clash with what is stored (a taken id, a stale version)."""


class InvalidInput(DomainError):
    """A value the caller sent is wrong (422, as the gateway answers); `field` names it as the
    caller spelled it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class StoreUnavailable(DomainError):
    """The store cannot be reached right now; the caller may retry."""


class PreconditionFailed(DomainError):
    """The caller wrote against a version that is no longer current; nothing was written."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"the session is at version {current}, not {expected}: read it again, then retry")
        self.expected = expected
        self.current = current


class Unauthenticated(DomainError):
    """The caller could not be identified (no, bad or expired credentials)."""


class Forbidden(DomainError):
    """The caller is known but lacks the scope this needs."""


class Unprocessable(InvalidInput):
    """Well-formed input that refers to something that does not exist (a deployment's agentId)."""


class MalformedRequest(InvalidInput):
    """A request the server cannot read as meant (400): a header sent twice, an odd `If-Match`, or
    a filter the gateway's clients know as a 400 (`source`, `start_date`)."""
