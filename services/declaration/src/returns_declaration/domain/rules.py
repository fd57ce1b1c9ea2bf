"""The rules a declaration must pass, step by step, before it becomes a return (R1-R8).

Every broken rule becomes a field-level error whose message is in the merchant's language, so
the portal can show it beside the field it concerns. Nothing here does I/O: what the rules need
to know (the order, what earlier returns reserved, which photos media holds for the draft) is
handed in.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from returns_contracts.service_kit.bounds import EMAIL_MAX, ID_MAX, ID_PATTERN
from returns_declaration.domain.model import (
    Draft,
    DraftLine,
    Locale,
    Merchant,
    Order,
    Reason,
    Reservations,
    Return,
    ReturnLine,
    ReturnType,
    splits_mixed_return,
)

COMMENT_MIN = 10
COMMENT_MAX = 2000
PHOTOS_MIN = 1
PHOTOS_MAX = 5
REASONS_MAX = 100
"""Reasons of one merchant, retired ones included (they stay, R1): a list the merchant reads."""

_MESSAGES: dict[str, dict[Locale, str]] = {
    "too_many_reasons": {
        "fr": "Un marchand peut avoir au plus {maximum} motifs ; renommez-en un retiré.",
        "en": "A merchant can have at most {maximum} reasons; rename a retired one.",
    },
    "order_not_found": {
        "fr": "Nous ne trouvons pas de commande avec ce numéro et cette adresse e-mail.",
        "en": "We cannot find an order with this number and e-mail address.",
    },
    "no_lines": {
        "fr": "Choisissez au moins un article à retourner.",
        "en": "Choose at least one item to return.",
    },
    "duplicate_line": {
        "fr": "Cet article est choisi deux fois.",
        "en": "This item is selected twice.",
    },
    "unknown_line": {
        "fr": "Cet article ne fait pas partie de la commande.",
        "en": "This item is not part of the order.",
    },
    "not_in_draft": {
        "fr": "Cet article ne fait pas partie de ce retour.",
        "en": "This item is not part of this return.",
    },
    "quantity_out_of_range": {
        "fr": "La quantité doit être comprise entre 1 et {maximum}.",
        "en": "The quantity must be between 1 and {maximum}.",
    },
    "nothing_left_to_return": {
        "fr": "Cet article a déjà été entièrement retourné.",
        "en": "This item has already been returned in full.",
    },
    "quantity_no_longer_available": {
        "fr": "Il ne reste que {maximum} article(s) à retourner sur cette ligne.",
        "en": "Only {maximum} item(s) of this line are left to return.",
    },
    "window_closed": {
        "fr": "Le délai de retour de {days} jours est dépassé pour cette commande (depuis le "
        "{closed_on}).",
        "en": "The {days}-day return window of this order closed on {closed_on}.",
    },
    "reason_required": {
        "fr": "Choisissez un motif de retour.",
        "en": "Choose a return reason.",
    },
    "unknown_reason": {
        "fr": "Choisissez un motif de retour proposé.",
        "en": "Choose one of the return reasons offered.",
    },
    "return_type_required": {
        "fr": "Choisissez un type de retour : {offered}.",
        "en": "Choose a return type: {offered}.",
    },
    "return_type_not_for_defective": {
        "fr": "Aucun type de retour n'est demandé pour un article défectueux.",
        "en": "No return type is asked for a defective item.",
    },
    "details_not_for_classic": {
        "fr": "Le commentaire et les photos ne sont demandés que pour un article défectueux.",
        "en": "A comment and photos are asked only for a defective item.",
    },
    "comment_length": {
        "fr": "Décrivez l'état de l'article en {minimum} à {maximum} caractères.",
        "en": "Describe the item's condition in {minimum} to {maximum} characters.",
    },
    "photos_count": {
        "fr": "Ajoutez entre {minimum} et {maximum} photos.",
        "en": "Add between {minimum} and {maximum} photos.",
    },
    "duplicate_photo": {
        "fr": "Cette photo est ajoutée deux fois.",
        "en": "This photo is added twice.",
    },
    "unknown_photo": {
        "fr": "Cette photo n'a pas été envoyée pour ce retour ; ajoutez-la à nouveau.",
        "en": "This photo was not uploaded for this return; please add it again.",
    },
    "draft_submitted": {
        "fr": "Ce retour est déjà validé ; il ne peut plus être modifié.",
        "en": "This return is already validated; it can no longer be changed.",
    },
    "draft_expired": {
        "fr": "Ce brouillon de retour a expiré ; recommencez votre déclaration.",
        "en": "This draft return has expired; please start your declaration again.",
    },
    "path_mismatch": {
        "fr": "Ce champ doit être égal à celui de l'adresse (URL).",
        "en": "This field must match the one in the URL.",
    },
    "session_invalid": {
        "fr": "Votre session a expiré ; identifiez-vous à nouveau avec votre numéro de commande.",
        "en": "Your session has expired; please sign in again with your order number.",
    },
    "reason_unknown_to_merchant": {
        "fr": "Aucun motif n'a le code {code}.",
        "en": "No reason has the code {code}.",
    },
}


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str


class DeclarationRejected(Exception):
    """One or more rules are broken; each error names its field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))
        self.errors = errors


class _Errors:
    def __init__(self, locale: Locale) -> None:
        self.locale = locale
        self.items: list[FieldError] = []

    def add(self, field: str, code: str, /, **values: object) -> None:
        self.items.append(field_error(self.locale, field, code, **values))

    def raise_if_any(self) -> None:
        if self.items:
            raise DeclarationRejected(self.items)


def field_error(locale: Locale, field: str, code: str, /, **values: object) -> FieldError:
    return FieldError(field=field, code=code, message=_MESSAGES[code][locale].format(**values))


def reject(locale: Locale, field: str, code: str, /, **values: object) -> DeclarationRejected:
    return DeclarationRejected([field_error(locale, field, code, **values)])


# --- R1: reasons ------------------------------------------------------------------------------


def put_reason(merchant: Merchant, reason: Reason) -> Merchant:
    """Add a reason, or rename / flag / unflag / un-retire the one with that code (R1)."""
    if merchant.reason(reason.code) is None:
        if len(merchant.reasons) >= REASONS_MAX:
            raise reject(merchant.locale, "code", "too_many_reasons", maximum=REASONS_MAX)
        reasons = (*merchant.reasons, reason)
    else:
        reasons = tuple(
            reason if known.code == reason.code else known for known in merchant.reasons
        )
    return merchant.model_copy(update={"reasons": reasons})


def retire_reason(merchant: Merchant, code: str) -> Merchant:
    """No longer offer a reason; it stays in the list so old returns still display it (R1)."""
    if merchant.reason(code) is None:
        raise reject(merchant.locale, "code", "reason_unknown_to_merchant", code=code)
    reasons = tuple(
        known.model_copy(update={"retired": True}) if known.code == code else known
        for known in merchant.reasons
    )
    return merchant.model_copy(update={"reasons": reasons})


# --- R2: who may see an order ----------------------------------------------------------------


def customer_owns_order(order: Order | None, email: str) -> bool:
    """R2: the order number and the order's e-mail address identify the customer."""
    return order is not None and order.customer.email.strip().lower() == email.strip().lower()


# --- R3: what may still be returned ----------------------------------------------------------


def reserved_quantities(reservations: Reservations) -> dict[str, int]:
    """Per order line, how many items earlier returns of the order took back."""
    totals: dict[str, int] = {}
    for lines in reservations.values():
        for line_id, quantity in lines.items():
            totals[line_id] = totals.get(line_id, 0) + quantity
    return totals


def fits_in_order(order: Order, reservations: Reservations, quantities: Mapping[str, int]) -> bool:
    """R3: whether `quantities` (per line) can be reserved on top of what `reservations` hold:
    every line exists and none goes past its ordered quantity. The one check every store makes
    before it writes a reservation."""
    taken = reserved_quantities(reservations)
    return all(
        (line := order.line(line_id)) is not None
        and taken.get(line_id, 0) + quantity <= line.quantity
        for line_id, quantity in quantities.items()
    )


def returnable_quantities(
    order: Order, reservations: Reservations, excluding_return: str | None = None
) -> dict[str, int]:
    """R3: per line, the quantity ordered minus what earlier returns reserved (never < 0).

    `excluding_return` leaves out the reservation of a return being retried, so that a retry
    sees the quantities its first attempt saw.
    """
    earlier = {
        return_id: lines
        for return_id, lines in reservations.items()
        if return_id != excluding_return
    }
    taken = reserved_quantities(earlier)
    return {
        line.line_id: max(0, line.quantity - taken.get(line.line_id, 0)) for line in order.lines
    }


def quantities_no_longer_available(
    merchant: Merchant, order: Order, reservations: Reservations, draft: Draft
) -> list[FieldError]:
    """R3, at submit: the draft's lines that want more than is left now that other returns of
    the order reserved theirs, each with the quantity still left."""
    returnable = returnable_quantities(order, reservations)
    return [
        field_error(
            merchant.locale,
            f"lines[{index}].quantity",
            "quantity_no_longer_available",
            maximum=returnable.get(line.line_id, 0),
        )
        for index, line in enumerate(draft.lines)
        if line.quantity > returnable.get(line.line_id, 0)
    ]


def window_closes_on(merchant: Merchant, order: Order) -> date:
    return order.ordered_on + timedelta(days=merchant.return_window_days)


def window_open(merchant: Merchant, order: Order, today: date) -> bool:
    return today <= window_closes_on(merchant, order)


@dataclass(frozen=True)
class RequestedQuantity:
    line_id: str
    quantity: int


def start_draft(
    merchant: Merchant,
    order: Order,
    reservations: Reservations,
    requested: Iterable[RequestedQuantity],
    *,
    draft_id: str,
    now: datetime,
    expires_at: datetime,
) -> Draft:
    """Step 1 (R3): the lines and quantities the customer selects."""
    errors = _Errors(merchant.locale)
    requested = list(requested)
    if not requested:
        errors.add("lines", "no_lines")
    returnable = returnable_quantities(order, reservations)
    seen: set[str] = set()
    lines: list[DraftLine] = []
    for index, wanted in enumerate(requested):
        prefix = f"lines[{index}]"
        if wanted.line_id in seen:
            errors.add(f"{prefix}.line_id", "duplicate_line")
            continue
        seen.add(wanted.line_id)
        if _check_quantity(merchant, order, wanted, returnable, prefix, errors, now.date()):
            lines.append(DraftLine(line_id=wanted.line_id, quantity=wanted.quantity))
    errors.raise_if_any()
    return Draft(
        id=draft_id,
        merchant_id=merchant.id,
        order_number=order.number,
        lines=tuple(lines),
        created_at=now,
        expires_at=expires_at,
    )


def _check_quantity(
    merchant: Merchant,
    order: Order,
    wanted: RequestedQuantity,
    returnable: Mapping[str, int],
    prefix: str,
    errors: _Errors,
    today: date,
) -> bool:
    if order.line(wanted.line_id) is None:
        errors.add(f"{prefix}.line_id", "unknown_line")
        return False
    if not window_open(merchant, order, today):
        closed_on = window_closes_on(merchant, order).isoformat()
        errors.add(
            f"{prefix}.line_id",
            "window_closed",
            days=merchant.return_window_days,
            closed_on=closed_on,
        )
        return False
    maximum = returnable[wanted.line_id]
    if maximum == 0:
        errors.add(f"{prefix}.quantity", "nothing_left_to_return")
        return False
    if not 1 <= wanted.quantity <= maximum:
        errors.add(f"{prefix}.quantity", "quantity_out_of_range", maximum=maximum)
        return False
    return True


# --- R4-R6: reason, then return type or comment and photos ------------------------------------


def _editable_line(merchant: Merchant, draft: Draft, line_id: str, now: datetime) -> DraftLine:
    if draft.submitted_return_id is not None:
        raise reject(merchant.locale, "draft", "draft_submitted")
    if now >= draft.expires_at:
        raise reject(merchant.locale, "draft", "draft_expired")
    line = draft.line(line_id)
    if line is None:
        raise reject(merchant.locale, "line_id", "not_in_draft")
    return line


def choose_reason(
    merchant: Merchant, draft: Draft, line_id: str, reason_code: str, now: datetime
) -> Draft:
    """Step 2 (R4): one of the merchant's active reasons. Step 3's answers are kept only while
    they still fit (a return type for a classic reason, a comment and photos for a defective one).
    """
    line = _editable_line(merchant, draft, line_id, now)
    reason = merchant.reason(reason_code)
    if reason is None or reason.retired:
        raise reject(merchant.locale, "reason_code", "unknown_reason")
    if reason.defective:
        updated = line.model_copy(update={"reason_code": reason.code, "return_type": None})
    else:
        updated = line.model_copy(
            update={"reason_code": reason.code, "comment": None, "photo_ids": ()}
        )
    return draft.with_line(updated)


def _reason_of(merchant: Merchant, line: DraftLine) -> Reason:
    reason = None if line.reason_code is None else merchant.reason(line.reason_code)
    if reason is None or reason.retired:
        field = "reason_code"
        raise reject(
            merchant.locale,
            field,
            "reason_required" if line.reason_code is None else "unknown_reason",
        )
    return reason


def choose_return_type(
    merchant: Merchant, draft: Draft, line_id: str, return_type: ReturnType | None, now: datetime
) -> Draft:
    """Step 3 for a classic reason (R5): a return type among those the merchant offers."""
    line = _editable_line(merchant, draft, line_id, now)
    reason = _reason_of(merchant, line)
    if reason.defective:
        raise reject(merchant.locale, "return_type", "return_type_not_for_defective")
    if return_type not in merchant.return_types:
        raise reject(
            merchant.locale,
            "return_type",
            "return_type_required",
            offered=", ".join(merchant.return_types),
        )
    return draft.with_line(line.model_copy(update={"return_type": return_type}))


def could_sign_in(order_number: str, email: str) -> bool:
    """Whether a sign-in pair is worth a look in the store: longer than any order number or
    e-mail address, it is refused like a wrong pair (a page form can carry anything)."""
    return len(order_number.strip()) <= ID_MAX and len(email.strip()) <= EMAIL_MAX


def photo_ids_worth_checking(photo_ids: Iterable[str]) -> list[str]:
    """The ids media could know, once each and a few more than a line may hold: any other one
    is refused as unknown without asking media (a page form can carry anything)."""
    shaped = [photo_id for photo_id in photo_ids if re.fullmatch(ID_PATTERN, photo_id)]
    return list(dict.fromkeys(shaped))[: PHOTOS_MAX * 4]


def describe_defect(
    merchant: Merchant,
    draft: Draft,
    line_id: str,
    comment: str | None,
    photo_ids: Iterable[str],
    photos_of_draft: Collection[str],
    now: datetime,
) -> Draft:
    """Step 3 for a defective reason (R6): a trimmed comment of 10 to 2,000 characters and 1 to
    5 photos, each uploaded for this draft of this merchant (`photos_of_draft`, from media).
    """
    line = _editable_line(merchant, draft, line_id, now)
    reason = _reason_of(merchant, line)
    errors = _Errors(merchant.locale)
    if not reason.defective:
        errors.add("comment", "details_not_for_classic")
        errors.raise_if_any()
    trimmed = (comment or "").strip()
    if not COMMENT_MIN <= len(trimmed) <= COMMENT_MAX:
        errors.add("comment", "comment_length", minimum=COMMENT_MIN, maximum=COMMENT_MAX)
    photos = list(photo_ids)
    if not PHOTOS_MIN <= len(photos) <= PHOTOS_MAX:
        errors.add("photo_ids", "photos_count", minimum=PHOTOS_MIN, maximum=PHOTOS_MAX)
    seen: set[str] = set()
    for index, photo_id in enumerate(photos):
        if photo_id in seen:
            errors.add(f"photo_ids[{index}]", "duplicate_photo")
        elif photo_id not in photos_of_draft:
            errors.add(f"photo_ids[{index}]", "unknown_photo")
        seen.add(photo_id)
    errors.raise_if_any()
    return draft.with_line(line.model_copy(update={"comment": trimmed, "photo_ids": tuple(photos)}))


# --- R7, R8: the whole return -----------------------------------------------------------------


def declare_return(
    merchant: Merchant,
    order: Order,
    draft: Draft,
    reservations: Reservations,
    *,
    now: datetime,
) -> Return:
    """Step 4: check the whole draft again and build the return it declares (R3-R8).

    Every rule is checked again here because the merchant may have changed its reasons or
    return types, and other returns may have taken quantities, since the customer's steps.
    A submit that already holds its reservation (a retry after a crash) passed the draft's
    expiry and the return window then; it is not refused now because time went by.
    """
    errors = _Errors(merchant.locale)
    resumed = draft.id in reservations
    if not resumed and draft.submitted_return_id is None and now >= draft.expires_at:
        errors.add("draft", "draft_expired")
        errors.raise_if_any()
    returnable = returnable_quantities(order, reservations, excluding_return=draft.id)
    checked_on = order.ordered_on if resumed else now.date()
    lines: list[ReturnLine] = []
    for index, line in enumerate(draft.lines):
        prefix = f"lines[{index}]"
        wanted = RequestedQuantity(line.line_id, line.quantity)
        if not _check_quantity(merchant, order, wanted, returnable, prefix, errors, checked_on):
            continue
        built = _check_line(merchant, order, line, prefix, errors)
        if built is not None:
            lines.append(built)
    errors.raise_if_any()
    return Return(
        id=draft.id,
        merchant_id=merchant.id,
        order_number=order.number,
        ordered_on=order.ordered_on,
        customer=order.customer,
        locale=merchant.locale,
        lines=tuple(lines),
        submitted_at=now,
        split_mixed=splits_mixed_return(merchant.split_mixed_returns, lines),
    )


def _check_line(
    merchant: Merchant, order: Order, line: DraftLine, prefix: str, errors: _Errors
) -> ReturnLine | None:
    ordered = order.line(line.line_id)
    assert ordered is not None  # checked with the quantity
    reason = None if line.reason_code is None else merchant.reason(line.reason_code)
    if reason is None or reason.retired:
        code = "reason_required" if line.reason_code is None else "unknown_reason"
        errors.add(f"{prefix}.reason_code", code)
        return None
    before = len(errors.items)
    if reason.defective:
        comment = (line.comment or "").strip()
        if not COMMENT_MIN <= len(comment) <= COMMENT_MAX:
            errors.add(
                f"{prefix}.comment", "comment_length", minimum=COMMENT_MIN, maximum=COMMENT_MAX
            )
        if not PHOTOS_MIN <= len(line.photo_ids) <= PHOTOS_MAX:
            errors.add(
                f"{prefix}.photo_ids", "photos_count", minimum=PHOTOS_MIN, maximum=PHOTOS_MAX
            )
    elif line.return_type not in merchant.return_types:
        errors.add(
            f"{prefix}.return_type",
            "return_type_required",
            offered=", ".join(merchant.return_types),
        )
    if len(errors.items) > before:
        return None
    return ReturnLine(
        line_id=ordered.line_id,
        sku=ordered.sku,
        name=ordered.name,
        quantity=line.quantity,
        reason_code=reason.code,
        reason_label=reason.label(merchant.locale),
        reason_label_fr=reason.label_fr,
        reason_label_en=reason.label_en,
        defective=reason.defective,
        return_type=None if reason.defective else line.return_type,
        comment=(line.comment or "").strip() if reason.defective else None,
        media_ids=line.photo_ids if reason.defective else (),
    )


def reservation_of(declared: Return) -> dict[str, int]:
    """What a return takes back from its order, per line."""
    return {line.line_id: line.quantity for line in declared.lines}


def missing_steps(merchant: Merchant, line: DraftLine) -> list[str]:
    """What the customer still has to give for a line before the draft can be submitted."""
    reason = None if line.reason_code is None else merchant.reason(line.reason_code)
    if reason is None or reason.retired:
        return ["reason_code"]
    if not reason.defective:
        return [] if line.return_type in merchant.return_types else ["return_type"]
    missing = []
    if not COMMENT_MIN <= len((line.comment or "").strip()) <= COMMENT_MAX:
        missing.append("comment")
    if not PHOTOS_MIN <= len(line.photo_ids) <= PHOTOS_MAX:
        missing.append("photo_ids")
    return missing
