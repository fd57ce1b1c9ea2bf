"""Where the label of a return stands: one vocabulary for every service, answer and page.

Declaration shows it to merchants (`label_status` of a return, the back-office filter); labels
answers it on its internal label route (docs/service-interfaces.md). Neither travels in a Kafka
message: each service derives it from the events it consumed.
"""

from __future__ import annotations

from typing import Literal, get_args

LabelStatus = Literal["awaiting_merchant", "pending", "requested", "generated", "rejected"]
"""- `awaiting_merchant`: a defective return; no label until the merchant asks for one (R9, R11).
- `pending`: a label is to be generated (a classic return, R10), for instance while the
  merchant's return address is not known yet.
- `requested`: the merchant asked for a label (R11), none made yet (declaration's view).
- `generated`: the return has one live label.
- `rejected`: the label request was refused (declaration's view, from LabelRejected).

Labels only ever answers the first two and `generated`: a request waits as `awaiting_merchant`
or `pending` until its label is made."""

LABEL_STATUSES: tuple[LabelStatus, ...] = get_args(LabelStatus)


def first_label_status(defective: bool, split_mixed: bool = False) -> LabelStatus:
    """R9/R10: a classic return gets its label at once, a defective one waits for the merchant.

    `split_mixed` (a merchant setting, issue 15): the classic lines of a mixed return get their
    label at once, so the return's label is pending; its defective lines wait for a resolution.
    """
    return "awaiting_merchant" if defective and not split_mixed else "pending"
