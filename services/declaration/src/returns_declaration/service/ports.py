"""What the use cases need from the outside world; adapters and the test fakes provide it."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from returns_contracts import Message
from returns_declaration.domain.model import (
    Draft,
    LabelStatus,
    Merchant,
    Order,
    Reservations,
    Return,
    TimelineEntry,
    in_time_order,
)
from returns_declaration.domain.reservations import PendingReservation
from returns_declaration.domain.resolution import Resolution


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    merchant_id: str
    created_at: datetime
    revoked: bool = False


@dataclass(frozen=True)
class StoredOrder:
    order: Order
    reservations: Reservations
    # Which version of the reservations was read (0: none yet), so that `reserve` can start
    # from it instead of reading again.
    reservations_version: int = 0


@dataclass(frozen=True)
class ReturnRecord:
    """A return as the back-office sees it: what was declared and what happened since."""

    declared: Return
    label_status: LabelStatus
    timeline: tuple[TimelineEntry, ...]
    """In time order (R14), whatever order the entries were stored or applied in."""
    label: Mapping[str, str] | None = None
    resolution: Resolution | None = None
    """The merchant's current decision on a defective return (issue 15), if any."""

    def __post_init__(self) -> None:
        # Every record, from any store, is built here: the one place the order is decided.
        object.__setattr__(self, "timeline", in_time_order(self.timeline))


@dataclass(frozen=True)
class ReturnFilter:
    defective: bool | None = None
    label_status: LabelStatus | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    order_number: str | None = None
    """Search: order numbers containing this text, case-insensitive."""


@dataclass(frozen=True)
class ReturnPage:
    records: list[ReturnRecord]
    next_cursor: str | None = None


@dataclass(frozen=True)
class TimelineChange:
    """What one consumed event or command does to a return's record."""

    entry: TimelineEntry
    label_status: LabelStatus | None = None
    label: Mapping[str, str] | None = None
    events: Sequence[Message] = field(default_factory=tuple)
    resolution: Resolution | None = None
    """A new resolution (issue 15): applied only over none or an older one, in the same write
    as the entry and the events; otherwise nothing of the change is applied."""


class MerchantStore(Protocol):
    async def get_merchant(self, merchant_id: str) -> Merchant | None: ...

    async def save_merchant(
        self, merchant: Merchant, events: Sequence[Message], expected_revision: int | None
    ) -> None:
        """Write the merchant and its events in one write.

        `expected_revision` None means "create"; otherwise the stored revision must still be it,
        else RevisionConflict.
        """

    async def add_api_key(self, key: ApiKey, secret_hash: str) -> None: ...

    async def find_api_key(self, secret_hash: str) -> ApiKey | None: ...

    async def revoke_api_key(self, merchant_id: str, key_id: str) -> bool: ...


class OrderStore(Protocol):
    async def save_order(self, order: Order) -> None:
        """Create or replace the order, keeping what earlier returns reserved."""

    async def get_order(
        self, merchant_id: str, order_number: str, with_reservations: bool = True
    ) -> StoredOrder | None:
        """The order and, unless `with_reservations` is False (then empty), what its returns
        hold."""

    async def reserve(
        self,
        order: Order,
        return_id: str,
        quantities: Mapping[str, int],
        seen: StoredOrder | None = None,
    ) -> bool:
        """Reserve `quantities` of the order's lines for `return_id`, atomically.

        `seen`: the order as just read with its reservations; a first attempt starts from it
        (an outdated one only costs a retry).

        True when the reservation is now held (made now, or by an earlier attempt with the same
        return id); False when another return took the quantities first.
        """


class PendingReservationStore(Protocol):
    """The notes submits leave while they reserve, and what releases a reservation."""

    async def note_reservation(self, pending: PendingReservation) -> None:
        """Note (or note again, with the new time) that `pending.return_id` is reserving."""

    async def settle_reservation(self, merchant_id: str, return_id: str) -> None:
        """Drop the note: the submit finished (or the reconciler decided)."""

    async def pending_reservations(
        self, noted_until: datetime, limit: int
    ) -> list[PendingReservation]:
        """At most `limit` notes noted at or before `noted_until`, the oldest first."""

    async def release(self, merchant_id: str, order_number: str, return_id: str) -> bool:
        """Give the quantities `return_id` holds back to the order, atomically; False when it
        held none."""


class DraftStore(Protocol):
    async def save_draft(self, draft: Draft) -> Draft:
        """Insert a new draft (revision 0) or replace the one whose revision is still
        `draft.revision`; the saved draft has the next revision. RevisionConflict otherwise."""

    async def mark_draft_submitted(self, draft_id: str) -> None:
        """Record that the draft was submitted (its return has its id) and take its revision
        to the next, whatever edits landed since it was read: one atomic update, no revision
        guard, so it cannot conflict, and an edit made from an earlier read conflicts."""

    async def get_draft(self, merchant_id: str, draft_id: str) -> Draft | None: ...


class ReturnStore(Protocol):
    async def add_return(
        self,
        declared: Return,
        first: TimelineChange,
        before_insert: Awaitable[None] | None = None,
    ) -> tuple[ReturnRecord, bool]:
        """Insert the return with its first events; an existing one with that id is given back.

        `before_insert` (the submit's reservation) runs beside what the insert needs first
        (its listing number, its outbox marker); the return is inserted only once it has
        completed, and not at all when it raises, which this raises again.

        Returns (record, created).
        """

    async def get_return(self, merchant_id: str, return_id: str) -> ReturnRecord | None: ...

    async def list_returns(
        self, merchant_id: str, where: ReturnFilter, limit: int, cursor: str | None
    ) -> ReturnPage: ...

    async def change_timeline(
        self, merchant_id: str, return_id: str, change: TimelineChange
    ) -> bool:
        """Apply the change unless an entry with its event id is there already.

        False when the return is unknown to this merchant.
        """

    async def claim_idempotency_key(self, merchant_id: str, key: str, return_id: str) -> str:
        """Bind the key to the return id unless already bound; the bound return id."""


class DeclarationStore(
    MerchantStore, OrderStore, PendingReservationStore, DraftStore, ReturnStore, Protocol
):
    """Everything the service keeps; one MongoDB database in production."""


class ReconcilerStore(PendingReservationStore, OrderStore, Protocol):
    """What `ReservationReconciler` reads and settles."""

    async def get_return(self, merchant_id: str, return_id: str) -> ReturnRecord | None: ...


class RateLimiter(Protocol):
    async def allow(self, key: str, limit: int, window_seconds: int, now: datetime) -> bool:
        """Count one attempt under `key`; False once more than `limit` fell in this window."""

    async def exceeded(self, key: str, limit: int, window_seconds: int, now: datetime) -> bool:
        """Whether `limit` attempts under `key` were counted in this window already."""


@dataclass(frozen=True)
class Photo:
    photo_id: str
    merchant_id: str
    draft_id: str
    line_id: str | None
    url: str | None = None
    thumbnail_url: str | None = None


class PhotoCatalog(Protocol):
    async def lookup(self, merchant_id: str, photo_ids: Sequence[str]) -> list[Photo]:
        """The photos among `photo_ids` that media holds for this merchant; others are absent."""


@dataclass(frozen=True)
class UploadedPhoto:
    photo_id: str
    thumbnail_url: str | None


class PhotoUploader(Protocol):
    """Media's upload, with the draft token (adapters.media.MediaPhotoUploader). Raises
    PhotoRefused when media refuses a file, PhotoCatalogUnavailable when media does not answer."""

    async def upload(
        self,
        merchant_id: str,
        draft_id: str,
        draft_token: str,
        line_id: str,
        filename: str,
        content: bytes,
        content_type: str,
    ) -> UploadedPhoto: ...

    async def remove(
        self, merchant_id: str, draft_id: str, draft_token: str, photo_id: str
    ) -> None: ...


# --- back-office users ---------------------------------------------------------------------


@dataclass(frozen=True)
class MerchantUser:
    email: str
    merchant_id: str
    display_name: str | None
    password_hash: str
    salt: str


class UserStore(Protocol):
    async def save_user(self, user: MerchantUser) -> None: ...

    async def get_user(self, email: str) -> MerchantUser | None: ...
