"""What the customer is shown at each step, decided by the rules once, so that the JSON API and
the pages say the same: which order lines can be selected and why not (R3), what a draft's
lines still miss and whether it can be submitted (R4-R8), and the next step after submitting
(R9, R10). Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from returns_declaration.domain import rules
from returns_declaration.domain.model import (
    Draft,
    DraftLine,
    Locale,
    Merchant,
    Order,
    OrderLine,
    Reason,
    Reservations,
    Return,
)

# --- step 1: the order as the portal offers it (R3) ---------------------------------------------


@dataclass(frozen=True)
class LineOffer:
    """One order line at step 1."""

    line: OrderLine
    returnable: int
    """What is left to return of the line; 0 while the return window is closed."""
    why_not: str | None
    """Why the line cannot be selected, in the merchant's language; None when it can."""

    @property
    def selectable(self) -> bool:
        return self.why_not is None


@dataclass(frozen=True)
class OrderOffer:
    window_open: bool
    window_closes_on: date
    lines: tuple[LineOffer, ...]
    reasons: tuple[Reason, ...]
    """The reasons offered at step 2: the active ones only (R1, R4)."""


def offer(merchant: Merchant, order: Order, reservations: Reservations, today: date) -> OrderOffer:
    """R3: a line can be selected while the merchant's return window is open and something of
    it is left to return (what earlier returns did not reserve, `rules.returnable_quantities`);
    otherwise it says why, the closed window first."""
    closes_on = rules.window_closes_on(merchant, order)
    is_open = rules.window_open(merchant, order, today)
    returnable = rules.returnable_quantities(order, reservations)
    lines = []
    for line in order.lines:
        left = returnable.get(line.line_id, 0)
        why_not = None
        if not is_open:
            why_not = rules.field_error(
                merchant.locale,
                "line_id",
                "window_closed",
                days=merchant.return_window_days,
                closed_on=closes_on.isoformat(),
            ).message
        elif left == 0:
            why_not = rules.field_error(
                merchant.locale, "quantity", "nothing_left_to_return"
            ).message
        lines.append(LineOffer(line, left if is_open else 0, why_not))
    return OrderOffer(is_open, closes_on, tuple(lines), merchant.active_reasons())


# --- steps 2-4: how far the draft is (R4-R8) ----------------------------------------------------


@dataclass(frozen=True)
class LineProgress:
    line: DraftLine
    ordered: OrderLine | None
    """The order's line (None only if the order lost it since the draft began)."""
    reason: Reason | None
    """The reason chosen, a retired one included (R1: it still displays)."""
    missing: tuple[str, ...]
    """The fields still to fill before submitting (R4-R6), `rules.missing_steps`."""

    @property
    def defective(self) -> bool | None:
        """The chosen reason's flag; None before a reason is chosen."""
        return None if self.reason is None else self.reason.defective


@dataclass(frozen=True)
class DraftProgress:
    lines: tuple[LineProgress, ...]
    defective: bool
    """R8: at least one line has a defective reason."""
    ready: bool
    """R7: every line is complete, so the summary can be validated."""


def progress(merchant: Merchant, order: Order, draft: Draft) -> DraftProgress:
    lines = tuple(
        LineProgress(
            line=line,
            ordered=order.line(line.line_id),
            reason=None if line.reason_code is None else merchant.reason(line.reason_code),
            missing=tuple(rules.missing_steps(merchant, line)),
        )
        for line in draft.lines
    )
    return DraftProgress(
        lines=lines,
        defective=any(line.defective for line in lines),
        ready=all(not line.missing for line in lines),
    )


# --- after the submit (R9, R10) -----------------------------------------------------------------

NextStepKind = Literal["label_follows", "merchant_will_contact"]

_NEXT_STEP: dict[tuple[bool, Locale], str] = {
    (True, "fr"): "Merci. Le marchand va vous contacter au sujet de votre retour.",
    (True, "en"): "Thank you. The merchant will contact you about your return.",
    (False, "fr"): "Merci. Votre étiquette de retour vous sera envoyée par e-mail.",
    (False, "en"): "Thank you. Your return label will be e-mailed to you.",
}


_SPLIT_NEXT_STEP: dict[Locale, str] = {
    "fr": "Merci. Votre étiquette de retour pour les articles sans défaut vous sera envoyée par "
    "e-mail ; le marchand va vous contacter au sujet des articles défectueux.",
    "en": "Thank you. Your return label for the items without a defect will be e-mailed to you; "
    "the merchant will contact you about the defective items.",
}
"""A mixed return split by the merchant's setting (issue 15): the classic lines' label follows
at once, the defective lines wait for the merchant."""


@dataclass(frozen=True)
class NextStep:
    kind: NextStepKind
    message: str
    """What the confirmation tells the customer, in the merchant's language."""


def next_step(declared: Return) -> NextStep:
    """R9: a defective return gets no label at once, the merchant will contact the customer;
    R10: a classic return's label follows by e-mail. A mixed return the merchant's setting
    split (issue 15) stays `merchant_will_contact` (its defective lines wait), and its message
    says the label of its classic lines follows."""
    kind: NextStepKind = "merchant_will_contact" if declared.defective else "label_follows"
    if declared.defective and declared.split_mixed:
        return NextStep(kind, _SPLIT_NEXT_STEP[declared.locale])
    return NextStep(kind, _NEXT_STEP[(declared.defective, declared.locale)])
