"""What support decides for a defective return (issue 15), and the rules of deciding.

- Who: a merchant's back-office user or API key, on that merchant's returns only (the tenant
  guard is the entrypoints'); the platform operator runs the service and decides nothing.
- Which returns: defective ones (R8), the only ones that wait for the merchant (R9).
- What: a label (the existing LabelRequested path), a refund without return, a replacement, or
  declined with a reason the customer reads.
- When: a resolution is replaced only by a newer one; the same decision again changes nothing
  (a double click sends one e-mail).

Nothing here does I/O. Refusals are field errors in the merchant's language, like every rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from returns_contracts.resolution import RESOLUTION_KINDS, ResolutionKind
from returns_declaration.domain.model import (
    Actor,
    Locale,
    Return,
    TimelineKind,
    splits_mixed_return,
)
from returns_declaration.domain.rules import (
    COMMENT_MAX,
    COMMENT_MIN,
    DeclarationRejected,
    FieldError,
)

__all__ = [
    "RESOLUTION_KINDS",
    "NotAllowedToResolve",
    "Resolution",
    "ResolutionKind",
    "ResolutionOutdated",
    "ResolverKind",
    "decide",
    "splits_mixed_return",
    "timeline_kind",
]

ResolverKind = Literal["user", "api_key", "operator"]
"""Who asks: a merchant's user (pages), a merchant's API key, or the platform operator."""

MAY_RESOLVE: frozenset[ResolverKind] = frozenset({"user", "api_key"})

_MESSAGES: dict[str, dict[Locale, str]] = {
    "unknown_resolution": {
        "fr": "Choisissez une résolution : étiquette, remboursement sans retour, remplacement ou "
        "refus.",
        "en": "Choose a resolution: label, refund without return, replacement or declined.",
    },
    "not_defective": {
        "fr": "Seul un retour défectueux attend une résolution ; celui-ci a déjà son étiquette.",
        "en": "Only a defective return waits for a resolution; this one has its label already.",
    },
    "decline_reason_required": {
        "fr": "Expliquez au client pourquoi le retour est refusé ({minimum} à {maximum} "
        "caractères).",
        "en": "Tell the customer why the return is declined ({minimum} to {maximum} characters).",
    },
    "note_too_long": {
        "fr": "Le message au client fait au plus {maximum} caractères.",
        "en": "The message to the customer is at most {maximum} characters.",
    },
    "resolution_outdated": {
        "fr": "Une résolution plus récente a déjà été enregistrée ; rechargez la fiche.",
        "en": "A newer resolution was recorded meanwhile; reload the record.",
    },
}


class ResolutionOutdated(DeclarationRejected):
    """A newer resolution is recorded already: the caller reads the record again (409)."""


class NotAllowedToResolve(Exception):
    """The caller may read the return but not decide it (the platform operator)."""


class Resolution(BaseModel):
    """The current decision on a defective return, as the record keeps it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ResolutionKind
    note: str | None
    actor: Actor
    at: datetime
    event_id: str
    """Of the ReturnResolved that announced it."""


def resolution_error(locale: Locale, field: str, code: str, /, **values: object) -> FieldError:
    return FieldError(field=field, code=code, message=_MESSAGES[code][locale].format(**values))


def _refuse(locale: Locale, field: str, code: str, /, **values: object) -> DeclarationRejected:
    return DeclarationRejected([resolution_error(locale, field, code, **values)])


def decide(
    declared: Return,
    current: Resolution | None,
    *,
    kind: str,
    note: str | None,
    resolver: ResolverKind,
    actor: Actor,
    at: datetime,
    event_id: str,
    locale: Locale,
) -> Resolution | None:
    """The new resolution of `declared`, or None when it is the current one again.

    Raises NotAllowedToResolve for a caller that may not decide, DeclarationRejected (field
    errors in `locale`) for a return that needs no decision, an unknown kind, a declined return
    without a reason, a note too long, or a decision not newer than the current one.
    """
    if resolver not in MAY_RESOLVE:
        raise NotAllowedToResolve()
    if not declared.defective:
        raise _refuse(locale, "return", "not_defective")
    if kind not in RESOLUTION_KINDS:
        raise _refuse(locale, "resolution", "unknown_resolution")
    chosen: ResolutionKind = next(known for known in RESOLUTION_KINDS if known == kind)
    trimmed = (note or "").strip() or None
    if chosen == "declined" and (trimmed is None or len(trimmed) < COMMENT_MIN):
        raise _refuse(
            locale, "note", "decline_reason_required", minimum=COMMENT_MIN, maximum=COMMENT_MAX
        )
    if trimmed is not None and len(trimmed) > COMMENT_MAX:
        raise _refuse(locale, "note", "note_too_long", maximum=COMMENT_MAX)
    if current is not None:
        if current.kind == chosen and current.note == trimmed:
            return None
        if at <= current.at:
            raise outdated(locale)
    return Resolution(kind=chosen, note=trimmed, actor=actor, at=at, event_id=event_id)


def outdated(locale: Locale) -> ResolutionOutdated:
    """The refusal of a decision not newer than the recorded one (read before, or written by
    someone else between our read and our write)."""
    return ResolutionOutdated([resolution_error(locale, "resolution", "resolution_outdated")])


def timeline_kind(kind: ResolutionKind) -> TimelineKind:
    """The timeline step of a resolution (R14)."""
    kinds: dict[ResolutionKind, TimelineKind] = {
        "label": "resolved_label",
        "refund_without_return": "resolved_refund_without_return",
        "replacement": "resolved_replacement",
        "declined": "resolved_declined",
    }
    return kinds[kind]
