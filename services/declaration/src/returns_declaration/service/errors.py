"""Every exception the declaration service's use cases and ports raise, in one place.

The entrypoints map each to the project's one error shape (`service_kit.errors`); the rule
refusals themselves (`DeclarationRejected`, with a message per field in the customer's
language) belong to the domain, in `domain/rules.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from returns_declaration.domain.rules import DeclarationRejected

__all__ = [
    "DeclarationRejected",
    "IdempotencyKeyReused",
    "InvalidCursor",
    "NotFound",
    "PhotoCatalogUnavailable",
    "PhotoRefused",
    "RevisionConflict",
    "SessionRefused",
    "TooManyAttempts",
    "UnknownMerchant",
    "WeakPassword",
]


# --- what a caller asked for is not there -------------------------------------------------------


class UnknownMerchant(LookupError):
    pass


class NotFound(LookupError):
    """The thing does not exist for this caller (another merchant's data answers the same)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class InvalidCursor(ValueError):
    """A list cursor this service did not give out (raised by `ReturnStore.list_returns`)."""


# --- the portal (R2, R8) ------------------------------------------------------------------------


class SessionRefused(DeclarationRejected):
    """Wrong order number / e-mail pair, or a session token that is altered or expired."""


class TooManyAttempts(Exception):
    def __init__(self, retry_after_seconds: int, locale: str) -> None:
        super().__init__("too many attempts")
        self.retry_after_seconds = retry_after_seconds
        self.locale = locale


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was first used to submit another draft, which has not completed."""


# --- the store and media ------------------------------------------------------------------------


class RevisionConflict(Exception):
    """The merchant changed between our read and our write; the caller reads again."""


class PhotoCatalogUnavailable(Exception):
    """Media did not answer; the customer can try again in a moment."""


@dataclass(frozen=True)
class PhotoRefused(Exception):
    """Media refused the file; `code` is media's error code (too large, not an image...)."""

    status: int
    code: str


# --- back-office users --------------------------------------------------------------------------


class WeakPassword(ValueError):
    pass
