"""The labels service's own view of returns and merchants, and the labels it made."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from returns_contracts import Actor, Address

# The one vocabulary of label statuses (returns_contracts.label_status), re-exported: labels
# answers `awaiting_merchant`, `pending` and `generated`.
from returns_contracts.label_status import LABEL_STATUSES as LABEL_STATUSES
from returns_contracts.label_status import LabelStatus as LabelStatus
from returns_contracts.label_status import first_label_status

# Fixed forever: label ids and event ids derived from it must come out the same on every retry.
_LABELS_NAMESPACE = UUID("0b8f3c52-6a4e-4f7e-9a53-1d2c7e6f4a10")


initial_status = first_label_status
"""R9/R10: where a return's label stands when labels first hears of the return."""


def label_id_for(return_id: str, generation: int) -> str:
    """The id of the `generation`-th label of a return.

    Derived, not random: a retry after a crash between storing the PDF and recording it makes
    the same label (same id, same object, same tracking number) instead of an orphan.
    """
    return "lbl-" + uuid.uuid5(_LABELS_NAMESPACE, f"{return_id}:{generation}").hex[:20]


def derived_event_id(cause: UUID, what: str) -> UUID:
    """The event_id of what one message (`cause`) led to: identical when it is redelivered, so
    consumers de-duplicate the republished event."""
    return uuid.uuid5(_LABELS_NAMESPACE, f"{cause}:{what}")


@dataclass(frozen=True, slots=True)
class Contact:
    """Who the parcel comes from: the customer, as the return carries them."""

    name: str
    email: str
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Merchant:
    merchant_id: str
    revision: int
    name: str
    return_address: Address | None

    @property
    def can_receive_parcels(self) -> bool:
        return self.return_address is not None


@dataclass(frozen=True, slots=True)
class Label:
    label_id: str
    generation: int
    """1 for the first label of a return, then one more for every regeneration."""
    tracking_number: str
    carrier: str
    object_key: str
    """Where the PDF is in the label bucket."""
    created_at: datetime
    requested_by: Actor | None = None
    """Who asked for it; None for the automatic label of a classic return."""

    @property
    def regenerated(self) -> bool:
        return self.generation > 1


@dataclass(frozen=True, slots=True)
class HandledCommand:
    """A label request that made a label, remembered so a redelivery makes no second one."""

    command_event_id: UUID
    label_id: str


@dataclass(frozen=True, slots=True)
class TrackedReturn:
    return_id: str
    merchant_id: str
    order_number: str
    defective: bool
    status: LabelStatus
    source_event_id: UUID
    """`event_id` of the ReturnSubmitted this record was made from."""
    recorded_at: datetime
    customer: Contact | None = None
    correlation_id: str | None = None
    """Of the ReturnSubmitted, so the automatic label continues its chain."""
    label: Label | None = None
    """The one live label (R11: at most one)."""
    label_generation: int = 0
    """How many labels this return has had; the next one is number `label_generation + 1`."""
    voided_labels: tuple[Label, ...] = ()
    handled_commands: tuple[HandledCommand, ...] = field(default=())
    split_mixed: bool = False
    """The merchant split this mixed return (issue 15): its classic lines get the label at once
    while the defective lines wait for the merchant's resolution."""

    def visible_to(self, merchant_id: str) -> bool:
        """Every merchant sees its own returns only (R12)."""
        return self.merchant_id == merchant_id

    @property
    def awaits_automatic_label(self) -> bool:
        """A classic return gets its label without anyone asking (R10), and so does a split
        mixed one, for its classic lines (issue 15)."""
        return (not self.defective or self.split_mixed) and self.label is None

    @property
    def automatic_label(self) -> Label | None:
        """The label made without anyone asking when the return was submitted, if any."""
        first = self.find_label(label_id_for(self.return_id, 1))
        return first if first is not None and first.requested_by is None else None

    def label_made_for(self, command_event_id: UUID) -> Label | None:
        """The label an earlier delivery of this command made, live or voided since."""
        for handled in self.handled_commands:
            if handled.command_event_id == command_event_id:
                return self.find_label(handled.label_id)
        return None

    def find_label(self, label_id: str) -> Label | None:
        for label in (self.label, *self.voided_labels):
            if label is not None and label.label_id == label_id:
                return label
        return None


@dataclass(frozen=True, slots=True)
class LabelContent:
    """What is printed on a label, whichever carrier prints it."""

    label_id: str
    return_id: str
    order_number: str
    merchant_name: str
    sender: Contact
    recipient: Address
    issued_at: datetime


def s10_check_digit(serial: str) -> int:
    """The check digit of the 8-digit serial of a UPU S10 item identifier (e.g. LR123456785FR)."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError("an S10 serial is 8 digits")
    weights = (8, 6, 4, 2, 3, 5, 9, 7)
    remainder = (
        11 - sum(int(digit) * weight for digit, weight in zip(serial, weights, strict=True)) % 11
    )
    if remainder == 10:
        return 0
    if remainder == 11:
        return 5
    return remainder
