"""After the submit (issue 15, items 3 and 4): the questions support asks the customer and their
answers, read from the return's timeline, what an answer must hold, and what the customer's
status page says happens next. Nothing here does I/O; the pages and e-mails only show it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from returns_declaration.domain.model import (
    Actor,
    LabelStatus,
    Locale,
    Return,
    ReturnLine,
    TimelineEntry,
    in_time_order,
)
from returns_declaration.domain.resolution import Resolution
from returns_declaration.domain.rules import DeclarationRejected, FieldError

QUESTION_MIN = 5
QUESTION_MAX = 2000
ANSWER_MIN = 10
"""An answer is described like a defect at step 3 (R6): 10 to 2,000 characters."""
ANSWER_MAX = 2000
ANSWER_PHOTOS_MAX = 5
"""Up to 5 more photos with an answer, as at step 3 (R6)."""

# The answer's timeline entry and its CustomerAnswered event have an id made from the question:
# a second answer to the same question is the same entry, which the store writes at most once.
_ANSWER_NAMESPACE = uuid.UUID("0b6f7a52-3f1e-4c8e-9a55-7d2c41e8b9a0")

_MESSAGES: dict[str, dict[Locale, str]] = {
    "question_length": {
        "fr": "Écrivez une question de {minimum} à {maximum} caractères.",
        "en": "Write a question of {minimum} to {maximum} characters.",
    },
    "answer_length": {
        "fr": "Écrivez votre réponse en {minimum} à {maximum} caractères.",
        "en": "Write your answer in {minimum} to {maximum} characters.",
    },
    "answer_photos_count": {
        "fr": "Ajoutez au plus {maximum} photos.",
        "en": "Add at most {maximum} photos.",
    },
}


def _error(locale: Locale, field: str, code: str, **values: object) -> FieldError:
    return FieldError(field=field, code=code, message=_MESSAGES[code][locale].format(**values))


def checked_question(locale: Locale, question: str) -> str:
    """A question support writes: trimmed, 5 to 2,000 characters."""
    trimmed = question.strip()
    if not QUESTION_MIN <= len(trimmed) <= QUESTION_MAX:
        raise DeclarationRejected(
            [
                _error(
                    locale,
                    "question",
                    "question_length",
                    minimum=QUESTION_MIN,
                    maximum=QUESTION_MAX,
                )
            ]
        )
    return trimmed


def checked_answer(locale: Locale, comment: str, photo_count: int) -> str:
    """An answer: a trimmed comment of 10 to 2,000 characters and at most 5 photos (R6's
    bounds); every broken rule is said at once, by its field."""
    trimmed = comment.strip()
    errors = []
    if not ANSWER_MIN <= len(trimmed) <= ANSWER_MAX:
        errors.append(
            _error(locale, "comment", "answer_length", minimum=ANSWER_MIN, maximum=ANSWER_MAX)
        )
    if photo_count > ANSWER_PHOTOS_MAX:
        errors.append(_error(locale, "photos", "answer_photos_count", maximum=ANSWER_PHOTOS_MAX))
    if errors:
        raise DeclarationRejected(errors)
    return trimmed


def answer_id(question_id: str) -> str:
    """The id of the (one) answer to a question: its timeline entry and its event."""
    return str(uuid.uuid5(_ANSWER_NAMESPACE, question_id))


# --- the exchange, read from the timeline -------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    at: datetime
    comment: str
    media_ids: tuple[str, ...]


@dataclass(frozen=True)
class Exchange:
    """One question and, once the customer wrote it, its answer."""

    question_id: str
    asked_at: datetime
    question: str
    asked_by: Actor | None
    answer: Answer | None

    @property
    def answered(self) -> bool:
        return self.answer is not None


def exchanges(timeline: Iterable[TimelineEntry]) -> tuple[Exchange, ...]:
    """The questions of a return in the order they were asked, each with its answer."""
    entries = in_time_order(timeline)
    answers = {
        entry.about: Answer(entry.at, entry.detail or "", entry.media_ids)
        for entry in entries
        if entry.kind == "customer_answered" and entry.about is not None
    }
    return tuple(
        Exchange(
            question_id=entry.event_id,
            asked_at=entry.at,
            question=entry.detail or "",
            asked_by=entry.actor,
            answer=answers.get(entry.event_id),
        )
        for entry in entries
        if entry.kind == "information_requested"
    )


def question(timeline: Iterable[TimelineEntry], question_id: str) -> Exchange | None:
    return next((item for item in exchanges(timeline) if item.question_id == question_id), None)


# --- the customer's status page (item 4) -------------------------------------------------------

StatusKind = Literal[
    "label_on_its_way",
    "label_sent",
    "question_open",
    "answer_received",
    "merchant_will_contact",
    "refunded_without_return",
    "replacement_sent",
    "declined",
]

_STATUS: dict[tuple[StatusKind, Locale], tuple[str, str]] = {
    ("label_on_its_way", "fr"): (
        "Étiquette en préparation",
        "Votre étiquette de retour est en préparation ; elle vous sera envoyée par e-mail. "
        "Imprimez-la, collez-la sur le colis et déposez-le chez le transporteur.",
    ),
    ("label_on_its_way", "en"): (
        "Label being prepared",
        "Your return label is being prepared; it will be e-mailed to you. Print it, stick it "
        "on the parcel and drop the parcel off with the carrier.",
    ),
    ("label_sent", "fr"): (
        "Étiquette envoyée",
        "Votre étiquette de retour vous a été envoyée par e-mail. Imprimez-la, collez-la sur "
        "le colis et déposez-le chez le transporteur.",
    ),
    ("label_sent", "en"): (
        "Label sent",
        "Your return label was e-mailed to you. Print it, stick it on the parcel and drop the "
        "parcel off with the carrier.",
    ),
    ("question_open", "fr"): (
        "Le marchand attend votre réponse",
        "Le marchand vous a posé une question par e-mail. Répondez avec le lien de cet e-mail "
        "pour qu'il puisse traiter votre retour.",
    ),
    ("question_open", "en"): (
        "The merchant is waiting for your answer",
        "The merchant e-mailed you a question. Answer it with the link in that e-mail so that "
        "they can handle your return.",
    ),
    ("answer_received", "fr"): (
        "Réponse reçue",
        "Merci pour votre réponse. Le marchand l'examine et vous contactera pour la suite.",
    ),
    ("answer_received", "en"): (
        "Answer received",
        "Thank you for your answer. The merchant is looking at it and will contact you about "
        "what happens next.",
    ),
    ("merchant_will_contact", "fr"): (
        "Retour reçu",
        "Vous avez signalé un article défectueux : le marchand va vous contacter pour convenir "
        "de la suite. Vous n'avez rien à envoyer pour l'instant.",
    ),
    ("merchant_will_contact", "en"): (
        "Return received",
        "You reported a defective item: the merchant will contact you to agree on what happens "
        "next. You have nothing to send for now.",
    ),
    ("refunded_without_return", "fr"): (
        "Remboursé, sans renvoyer l'article",
        "Le marchand vous rembourse et vous n'avez pas à renvoyer l'article. Le remboursement "
        "est fait sur votre moyen de paiement d'origine.",
    ),
    ("refunded_without_return", "en"): (
        "Refunded, no need to send the item back",
        "The merchant refunds you and you do not need to send the item back. The refund goes "
        "to your original means of payment.",
    ),
    ("replacement_sent", "fr"): (
        "Un article de remplacement vous est envoyé",
        "Le marchand vous envoie un article de remplacement. Vous n'avez rien à faire.",
    ),
    ("replacement_sent", "en"): (
        "A replacement is on its way",
        "The merchant is sending you a replacement item. There is nothing for you to do.",
    ),
    ("declined", "fr"): (
        "Retour refusé",
        "Le marchand ne peut pas accepter ce retour. Pour toute question, répondez à l'e-mail "
        "qui vous l'a annoncé.",
    ),
    ("declined", "en"): (
        "Return declined",
        "The merchant cannot accept this return. For any question, reply to the e-mail that "
        "told you so.",
    ),
}

_RESOLVED: dict[str, StatusKind] = {
    "refund_without_return": "refunded_without_return",
    "replacement": "replacement_sent",
    "declined": "declined",
}
"""The resolutions that end the return for the customer; a `label` resolution goes on as a
label (its LabelRequested makes one), so the label's status says what happens next."""

_SPLIT_WAITING: dict[Locale, str] = {
    "fr": "Le marchand va vous contacter au sujet des articles défectueux.",
    "en": "The merchant will contact you about the defective items.",
}
"""Added to a label's next step when the merchant's setting split a mixed return (item 5):
the label is for the classic lines; the defective ones wait for a resolution."""

_MESSAGE_TITLES: dict[tuple[bool, Locale], str] = {
    (True, "fr"): "Pourquoi",
    (True, "en"): "Why",
    (False, "fr"): "Le message du marchand",
    (False, "en"): "The merchant's message",
}
"""The heading of the note the merchant wrote with a resolution: the reason of a decline, or
a message. The same words as the resolution e-mail."""


@dataclass(frozen=True)
class ReturnStatus:
    kind: StatusKind
    title: str
    next_step: str
    """What happens next, in the return's language."""
    message: str | None = None
    """What the merchant wrote to the customer with their resolution (the reason of a decline),
    as the resolution e-mail shows it; None without a resolution or without a note."""
    message_title: str | None = None
    """The heading of `message`, in the return's language."""


def status(
    declared: Return,
    label_status: LabelStatus,
    timeline: Iterable[TimelineEntry],
    locale: Locale,
    now: datetime,
    resolution: Resolution | None = None,
) -> ReturnStatus:
    """Where the return stands for the customer, and what happens next.

    The merchant's resolution (issue 15) says it when it ends the return (a refund without
    return, a replacement, a decline, with the note the customer reads), unless the merchant
    asked a question since, which the customer has not answered yet. Otherwise a label made or
    on its way says so (R10, R11; a `label` resolution too); otherwise, for a defective return
    (R9), a question the customer has not answered comes first, then an answer the merchant
    has, then "the merchant will contact you". A mixed return split by the merchant's setting
    (item 5) has its label for the classic lines, and the defective ones still wait: its label
    step says so. Worded in `locale`, the merchant's language
    (R15); `now` is there for rules that depend on time.
    """
    del now
    asked = exchanges(timeline)
    if resolution is not None and resolution.kind in _RESOLVED:
        asked_since = [item for item in asked if item.asked_at > resolution.at]
        if not asked_since or asked_since[-1].answered:
            return _resolved(_RESOLVED[resolution.kind], resolution, locale)
    kind: StatusKind
    if label_status == "generated":
        kind = "label_sent"
    elif label_status in ("pending", "requested"):
        kind = "label_on_its_way"
    else:
        if asked and not asked[-1].answered:
            kind = "question_open"
        elif asked:
            kind = "answer_received"
        else:
            kind = "merchant_will_contact"
    title, next_step = _STATUS[(kind, locale)]
    if declared.split_mixed and resolution is None and kind in ("label_on_its_way", "label_sent"):
        next_step = f"{next_step} {_SPLIT_WAITING[locale]}"
    return ReturnStatus(kind, title, next_step)


def _resolved(kind: StatusKind, resolution: Resolution, locale: Locale) -> ReturnStatus:
    title, next_step = _STATUS[(kind, locale)]
    if resolution.note is None:
        return ReturnStatus(kind, title, next_step)
    heading = _MESSAGE_TITLES[(resolution.kind == "declined", locale)]
    return ReturnStatus(kind, title, next_step, resolution.note, heading)


@dataclass(frozen=True)
class StatusLine:
    line: ReturnLine
    reason_label: str
    """In the return's language, as the reason read when the return was submitted."""


def status_lines(declared: Return, locale: Locale) -> tuple[StatusLine, ...]:
    def label(line: ReturnLine) -> str:
        localised = line.reason_label_fr if locale == "fr" else line.reason_label_en
        return localised or line.reason_label

    return tuple(StatusLine(line, label(line)) for line in declared.lines)
