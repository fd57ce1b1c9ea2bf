"""The rules a declaration must pass before it becomes a return (R2-R8).

Every broken rule becomes a field-level error whose message is in the merchant's language, so
the portal can show it beside the field it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from returns_declaration.domain.model import (
    Locale,
    Merchant,
    Order,
    RequestedLine,
    Return,
    ReturnLine,
    ReturnRequest,
)

COMMENT_MIN = 10
COMMENT_MAX = 2000
PHOTOS_MIN = 1
PHOTOS_MAX = 5

_MESSAGES: dict[str, dict[Locale, str]] = {
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
    "quantity_out_of_range": {
        "fr": "La quantité doit être comprise entre 1 et {maximum}.",
        "en": "The quantity must be between 1 and {maximum}.",
    },
    "window_closed": {
        "fr": "Le délai de retour de {days} jours est dépassé pour cette commande.",
        "en": "The {days}-day return window has passed for this order.",
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
    "comment_length": {
        "fr": "Décrivez l'état de l'article en {minimum} à {maximum} caractères.",
        "en": "Describe the item's condition in {minimum} to {maximum} characters.",
    },
    "photos_count": {
        "fr": "Ajoutez entre {minimum} et {maximum} photos.",
        "en": "Add between {minimum} and {maximum} photos.",
    },
}


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str


class DeclarationRejected(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))
        self.errors = errors


class _Errors:
    def __init__(self, locale: Locale) -> None:
        self.locale = locale
        self.items: list[FieldError] = []

    def add(self, field: str, code: str, **values: object) -> None:
        message = _MESSAGES[code][self.locale].format(**values)
        self.items.append(FieldError(field=field, code=code, message=message))


def customer_owns_order(order: Order | None, email: str) -> bool:
    """R2: the order number and the order's e-mail address identify the customer."""
    return order is not None and order.customer.email.strip().lower() == email.strip().lower()


def declare_return(
    merchant: Merchant,
    order: Order | None,
    request: ReturnRequest,
    *,
    return_id: str,
    now: datetime,
) -> Return:
    """Check the request against the merchant's rules and build the return it declares."""
    errors = _Errors(merchant.locale)
    if order is None or not customer_owns_order(order, request.email):
        # Same answer whether the order exists or not, so numbers cannot be probed.
        errors.add("order_number", "order_not_found")
        raise DeclarationRejected(errors.items)
    if not request.lines:
        errors.add("lines", "no_lines")

    window_closes_on = order.ordered_on + timedelta(days=merchant.return_window_days)
    seen: set[str] = set()
    lines: list[ReturnLine] = []
    for index, requested in enumerate(request.lines):
        prefix = f"lines[{index}]"
        if requested.line_id in seen:
            errors.add(f"{prefix}.line_id", "duplicate_line")
            continue
        seen.add(requested.line_id)
        line = _check_line(merchant, order, requested, prefix, errors, now, window_closes_on)
        if line is not None:
            lines.append(line)

    if errors.items:
        raise DeclarationRejected(errors.items)
    return Return(
        id=return_id,
        merchant_id=merchant.id,
        order_number=order.number,
        ordered_on=order.ordered_on,
        customer=order.customer,
        locale=merchant.locale,
        lines=tuple(lines),
        submitted_at=now,
    )


def _check_line(
    merchant: Merchant,
    order: Order,
    requested: RequestedLine,
    prefix: str,
    errors: _Errors,
    now: datetime,
    window_closes_on: date,
) -> ReturnLine | None:
    ordered = order.line(requested.line_id)
    if ordered is None:
        errors.add(f"{prefix}.line_id", "unknown_line")
        return None
    before = len(errors.items)
    if now.date() > window_closes_on:
        errors.add(f"{prefix}.line_id", "window_closed", days=merchant.return_window_days)
    if not 1 <= requested.quantity <= ordered.quantity:
        errors.add(f"{prefix}.quantity", "quantity_out_of_range", maximum=ordered.quantity)

    reason = merchant.reason(requested.reason_code)
    if reason is None or reason.retired:
        errors.add(f"{prefix}.reason_code", "unknown_reason")
        return None

    comment = (requested.comment or "").strip() or None
    if reason.defective:
        # R6: no return type; a comment and photos are mandatory.
        if requested.return_type is not None:
            errors.add(f"{prefix}.return_type", "return_type_not_for_defective")
        if comment is None or not COMMENT_MIN <= len(comment) <= COMMENT_MAX:
            errors.add(
                f"{prefix}.comment", "comment_length", minimum=COMMENT_MIN, maximum=COMMENT_MAX
            )
        if not PHOTOS_MIN <= len(requested.media_ids) <= PHOTOS_MAX:
            errors.add(
                f"{prefix}.media_ids", "photos_count", minimum=PHOTOS_MIN, maximum=PHOTOS_MAX
            )
    elif requested.return_type not in merchant.return_types:
        # R5: the merchant decides which return types are offered.
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
        quantity=requested.quantity,
        reason_code=reason.code,
        reason_label=reason.label(merchant.locale),
        defective=reason.defective,
        return_type=None if reason.defective else requested.return_type,
        comment=comment,
        media_ids=requested.media_ids if reason.defective else (),
    )
