"""Use cases of the declaration service.

- merchants: settings, reasons (R1), back-office API keys, orders;
- the portal (R2-R7): session, order, draft, the customer's steps, submit;
- the back-office (R11, R12, R14): list, record, label request, and the timeline kept from the
  events other services publish.

Every state change that other services must hear of is written with its events in one document
(the outbox) and `on_events` wakes the relay.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from returns_contracts import LabelGenerated, LabelRejected, LabelRequested, NotificationSent
from returns_contracts.service_kit.clock import Clock, utc_now_millis
from returns_contracts.signing import InvalidToken, issue_draft_token
from returns_declaration.domain import rules
from returns_declaration.domain.model import (
    Actor,
    Draft,
    Locale,
    Merchant,
    MerchantSettings,
    Order,
    Reason,
    Return,
    ReturnType,
    TimelineEntry,
    TimelineKind,
)
from returns_declaration.domain.reservations import PendingReservation
from returns_declaration.domain.rules import DeclarationRejected, RequestedQuantity
from returns_declaration.service.events import label_requested, merchant_updated, return_submitted
from returns_declaration.service.ports import (
    ApiKey,
    DeclarationStore,
    Photo,
    PhotoCatalog,
    PhotoCatalogUnavailable,
    RateLimiter,
    ReturnFilter,
    ReturnPage,
    ReturnRecord,
    RevisionConflict,
    StoredOrder,
    TimelineChange,
)
from returns_declaration.service.sessions import (
    PortalSession,
    issue_session_token,
    read_session_token,
)

PRODUCER = "declaration"
API_KEY_PREFIX = "rbk_"
_MERCHANT_WRITE_ATTEMPTS = 5
_DRAFT_WRITE_ATTEMPTS = 5


class UnknownMerchant(LookupError):
    pass


class NotFound(LookupError):
    """The thing does not exist for this caller (another merchant's data answers the same)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class SessionRefused(DeclarationRejected):
    """Wrong order number / e-mail pair, or a session token that is altered or expired."""


class TooManyAttempts(Exception):
    def __init__(self, retry_after_seconds: int, locale: str) -> None:
        super().__init__("too many attempts")
        self.retry_after_seconds = retry_after_seconds
        self.locale = locale


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was first used to submit another draft, which has not completed."""


@dataclass(frozen=True)
class PortalLimits:
    attempts_per_order: int = 10
    failures_per_client: int = 100
    window_seconds: int = 900


@dataclass(frozen=True)
class OpenedSession:
    token: str
    session: PortalSession
    locale: Locale


@dataclass(frozen=True)
class PortalOrder:
    merchant: Merchant
    order: Order
    returnable: dict[str, int]
    window_open: bool


@dataclass(frozen=True)
class DraftView:
    merchant: Merchant
    order: Order
    draft: Draft
    photos: dict[str, Photo]
    draft_token: str


@dataclass(frozen=True)
class Submission:
    record: ReturnRecord
    created: bool


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_id() -> str:
    return str(uuid.uuid4())


class DeclarationService:
    def __init__(
        self,
        store: DeclarationStore,
        photos: PhotoCatalog,
        limiter: RateLimiter,
        on_events: Callable[[], None],
        *,
        back_office_base_url: str,
        portal_token_secret: str,
        session_ttl: timedelta = timedelta(hours=2),
        draft_ttl: timedelta = timedelta(hours=24),
        limits: PortalLimits = PortalLimits(),
        clock: Clock = utc_now_millis,
        new_id: Callable[[], str] = _new_id,
    ) -> None:
        self.store = store
        self.photos = photos
        self.limiter = limiter
        self.on_events = on_events
        self.back_office_base_url = back_office_base_url.rstrip("/")
        self.portal_token_secret = portal_token_secret
        self.session_ttl = session_ttl
        self.draft_ttl = draft_ttl
        self.limits = limits
        self.clock = clock
        self.new_id = new_id

    # --- merchants (R1) ----------------------------------------------------------------------

    async def merchant(self, merchant_id: str) -> Merchant:
        merchant = await self.store.get_merchant(merchant_id)
        if merchant is None:
            raise UnknownMerchant(merchant_id)
        return merchant

    async def configure_merchant(
        self, merchant_id: str, settings: MerchantSettings, correlation_id: str
    ) -> Merchant:
        """Create the merchant or replace its settings; its reasons stay as they are."""

        def change(current: Merchant | None) -> Merchant:
            reasons = () if current is None else current.reasons
            return Merchant(id=merchant_id, reasons=reasons, **settings.model_dump())

        return await self._change_merchant(merchant_id, change, correlation_id, create=True)

    async def put_reason(self, merchant_id: str, reason: Reason, correlation_id: str) -> Merchant:
        def change(current: Merchant | None) -> Merchant:
            assert current is not None
            return rules.put_reason(current, reason)

        return await self._change_merchant(merchant_id, change, correlation_id)

    async def retire_reason(self, merchant_id: str, code: str, correlation_id: str) -> Merchant:
        def change(current: Merchant | None) -> Merchant:
            assert current is not None
            return rules.retire_reason(current, code)

        return await self._change_merchant(merchant_id, change, correlation_id)

    async def _change_merchant(
        self,
        merchant_id: str,
        change: Callable[[Merchant | None], Merchant],
        correlation_id: str,
        create: bool = False,
    ) -> Merchant:
        # Optimistic concurrency: two changes at once must not lose one another's edit, and the
        # revisions in MerchantUpdated must increase one by one.
        for _ in range(_MERCHANT_WRITE_ATTEMPTS):
            current = await self.store.get_merchant(merchant_id)
            if current is None and not create:
                raise UnknownMerchant(merchant_id)
            changed = change(current)
            revision = 1 if current is None else current.revision + 1
            changed = changed.model_copy(update={"revision": revision})
            event = merchant_updated(changed, self.back_office_base_url, correlation_id, PRODUCER)
            try:
                await self.store.save_merchant(
                    changed, [event], None if current is None else current.revision
                )
            except RevisionConflict:
                continue
            self.on_events()
            return changed
        raise RevisionConflict(merchant_id)

    async def issue_api_key(self, merchant_id: str) -> tuple[ApiKey, str]:
        """A new back-office key; the secret is returned once and only its hash is kept."""
        await self.merchant(merchant_id)
        secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(key_id=secrets.token_hex(8), merchant_id=merchant_id, created_at=self.clock())
        await self.store.add_api_key(key, hash_api_key(secret))
        return key, secret

    async def revoke_api_key(self, merchant_id: str, key_id: str) -> None:
        if not await self.store.revoke_api_key(merchant_id, key_id):
            raise NotFound("api_key")

    async def authenticate_api_key(self, secret: str) -> ApiKey | None:
        key = await self.store.find_api_key(hash_api_key(secret))
        return None if key is None or key.revoked else key

    async def save_order(self, order: Order) -> None:
        await self.merchant(order.merchant_id)
        await self.store.save_order(order)

    # --- the portal (R2-R7) ------------------------------------------------------------------

    async def open_session(
        self, merchant_id: str, order_number: str, email: str, client_address: str
    ) -> OpenedSession:
        """R2: order number + e-mail of that order. A wrong pair gets the same answer whether
        the order exists or not, and attempts are limited per order and per client address."""
        merchant = await self.merchant(merchant_id)
        if not rules.could_sign_in(order_number, email):
            raise SessionRefused(
                [rules.field_error(merchant.locale, "order_number", "order_not_found")]
            )
        now = self.clock()
        limits = self.limits
        client_key = f"client:{client_address}"
        # Per client only failures count (a shop's customers may share an address); per order
        # every attempt counts, so an order cannot be probed from many addresses either.
        if await self.limiter.exceeded(
            client_key, limits.failures_per_client, limits.window_seconds, now
        ) or not await self.limiter.allow(
            f"order:{merchant_id}:{order_number.strip().upper()}",
            limits.attempts_per_order,
            limits.window_seconds,
            now,
        ):
            # Windows are fixed, so the limit lifts when this one ends.
            window_ends_in = limits.window_seconds - int(now.timestamp()) % limits.window_seconds
            raise TooManyAttempts(window_ends_in, merchant.locale)
        stored = await self.store.get_order(merchant_id, order_number.strip())
        if stored is None or not rules.customer_owns_order(stored.order, email):
            await self.limiter.allow(
                client_key, limits.failures_per_client, limits.window_seconds, now
            )
            raise SessionRefused(
                [rules.field_error(merchant.locale, "order_number", "order_not_found")]
            )
        session = PortalSession(merchant_id, stored.order.number, now + self.session_ttl)
        token = issue_session_token(self.portal_token_secret, session)
        return OpenedSession(token, session, merchant.locale)

    async def session(self, merchant_id: str, token: str) -> PortalSession:
        merchant = await self.merchant(merchant_id)
        try:
            session = read_session_token(self.portal_token_secret, token, self.clock())
        except InvalidToken as error:
            raise SessionRefused(
                [rules.field_error(merchant.locale, "session", "session_invalid")]
            ) from error
        if session.merchant_id != merchant_id:
            raise SessionRefused([rules.field_error(merchant.locale, "session", "session_invalid")])
        return session

    async def _order(self, session: PortalSession, with_reservations: bool = True) -> StoredOrder:
        stored = await self.store.get_order(
            session.merchant_id, session.order_number, with_reservations
        )
        if stored is None:
            raise NotFound("order")
        return stored

    async def portal_order(self, session: PortalSession) -> PortalOrder:
        merchant = await self.merchant(session.merchant_id)
        stored = await self._order(session)
        return PortalOrder(
            merchant=merchant,
            order=stored.order,
            returnable=rules.returnable_quantities(stored.order, stored.reservations),
            window_open=rules.window_open(merchant, stored.order, self.clock().date()),
        )

    async def create_draft(
        self, session: PortalSession, lines: Sequence[RequestedQuantity]
    ) -> DraftView:
        """Step 1 (R3)."""
        merchant = await self.merchant(session.merchant_id)
        stored = await self._order(session)
        now = self.clock()
        draft = rules.start_draft(
            merchant,
            stored.order,
            stored.reservations,
            lines,
            draft_id=self.new_id(),
            now=now,
            expires_at=now + self.draft_ttl,
        )
        saved = await self.store.save_draft(draft)
        return self._view(merchant, stored.order, saved, {})

    def _view(
        self, merchant: Merchant, order: Order, draft: Draft, photos: dict[str, Photo]
    ) -> DraftView:
        token = issue_draft_token(self.portal_token_secret, merchant.id, draft.id, draft.expires_at)
        return DraftView(merchant, order, draft, photos, token)

    async def _draft(self, session: PortalSession, draft_id: str) -> tuple[Merchant, Order, Draft]:
        merchant, stored, draft = await self._draft_of_order(session, draft_id, False)
        return merchant, stored.order, draft

    async def _draft_of_order(
        self, session: PortalSession, draft_id: str, with_reservations: bool
    ) -> tuple[Merchant, StoredOrder, Draft]:
        merchant = await self.merchant(session.merchant_id)
        draft = await self.store.get_draft(session.merchant_id, draft_id)
        # A draft of another order is as unknown as a draft that does not exist.
        if draft is None or draft.order_number != session.order_number:
            raise NotFound("draft")
        return merchant, await self._order(session, with_reservations), draft

    async def _change_draft(
        self, session: PortalSession, draft_id: str, change: Callable[[Merchant, Draft], Draft]
    ) -> tuple[Merchant, Order, Draft]:
        # Two steps sent at once (two tabs, a double click) each re-read and re-apply, rather
        # than one silently undoing the other.
        for _ in range(_DRAFT_WRITE_ATTEMPTS):
            merchant, order, draft = await self._draft(session, draft_id)
            try:
                return merchant, order, await self.store.save_draft(change(merchant, draft))
            except RevisionConflict:
                continue
        raise RevisionConflict(draft_id)

    async def choose_reason(
        self, session: PortalSession, draft_id: str, line_id: str, reason_code: str
    ) -> DraftView:
        """Step 2 (R4)."""
        now = self.clock()
        merchant, order, changed = await self._change_draft(
            session,
            draft_id,
            lambda merchant, draft: rules.choose_reason(merchant, draft, line_id, reason_code, now),
        )
        return self._view(merchant, order, changed, {})

    async def choose_return_type(
        self, session: PortalSession, draft_id: str, line_id: str, return_type: ReturnType | None
    ) -> DraftView:
        """Step 3, classic reason (R5)."""
        now = self.clock()
        merchant, order, changed = await self._change_draft(
            session,
            draft_id,
            lambda merchant, draft: rules.choose_return_type(
                merchant, draft, line_id, return_type, now
            ),
        )
        return self._view(merchant, order, changed, {})

    async def describe_defect(
        self,
        session: PortalSession,
        draft_id: str,
        line_id: str,
        comment: str | None,
        photo_ids: Sequence[str],
    ) -> DraftView:
        """Step 3, defective reason (R6): each photo must be one media holds for this merchant
        and this draft."""
        wanted = rules.photo_ids_worth_checking(photo_ids)
        found = await self.photos.lookup(session.merchant_id, wanted)
        of_draft = {
            photo.photo_id: photo
            for photo in found
            if photo.merchant_id == session.merchant_id and photo.draft_id == draft_id
        }
        now = self.clock()
        merchant, order, changed = await self._change_draft(
            session,
            draft_id,
            lambda merchant, draft: rules.describe_defect(
                merchant, draft, line_id, comment, photo_ids, of_draft.keys(), now
            ),
        )
        return self._view(merchant, order, changed, of_draft)

    async def summary(self, session: PortalSession, draft_id: str) -> DraftView:
        """Step 4 (R7): the whole draft, with fresh links to the photos' thumbnails."""
        merchant, order, draft = await self._draft(session, draft_id)
        photo_ids = [photo_id for line in draft.lines for photo_id in line.photo_ids]
        try:
            photos = await self.photos.lookup(merchant.id, photo_ids)
        except PhotoCatalogUnavailable:
            # The customer can still read and validate the summary; thumbnails come back later.
            photos = []
        return self._view(merchant, order, draft, {photo.photo_id: photo for photo in photos})

    async def submit(
        self,
        session: PortalSession,
        draft_id: str,
        idempotency_key: str | None,
        correlation_id: str,
    ) -> Submission:
        """Step 4 (R7, R8): one return per draft, however often this is called.

        The quantities are reserved for the return id against what is left, atomically (see
        `OrderStore.reserve`); then the return is inserted with its ReturnSubmitted in the same
        document. A retry after a crash between the two finds its own reservation and
        completes; a retry after the insert is answered with the stored return. A crash with
        no retry leaves a note that `ReservationReconciler` settles: the reservation is
        released once the grace period has passed without a return.
        """
        merchant, stored, draft = await self._draft_of_order(session, draft_id, True)
        if idempotency_key:
            bound = await self.store.claim_idempotency_key(merchant.id, idempotency_key, draft.id)
            if bound != draft.id:
                earlier = await self.store.get_return(merchant.id, bound)
                if earlier is None:
                    raise IdempotencyKeyReused(idempotency_key)
                return Submission(earlier, created=False)
        # Only an earlier attempt that reserved can have stored the return; a concurrent one
        # that did not yet is answered by `add_return`, which refuses a second insert.
        earlier_attempt = draft.submitted_return_id is not None or draft.id in stored.reservations
        existing = await self.store.get_return(merchant.id, draft.id) if earlier_attempt else None
        if existing is not None:
            await self.store.settle_reservation(merchant.id, draft.id)
            await self._mark_submitted(draft)
            return Submission(existing, created=False)

        # Read with the draft: `reserve` checks the quantities again on the latest version.
        now = self.clock()
        declared = rules.declare_return(merchant, stored.order, draft, stored.reservations, now=now)
        # Noted first: if this process dies before the insert below and the client never
        # retries, the reconciler finds the note and gives the quantities back.
        pending = PendingReservation(merchant.id, stored.order.number, declared.id, now)
        await self.store.note_reservation(pending)
        if not await self.store.reserve(
            stored.order, declared.id, rules.reservation_of(declared), seen=stored
        ):
            await self.store.settle_reservation(merchant.id, declared.id)
            raise await self._quantities_taken(merchant, session, draft)
        event = return_submitted(declared, self.back_office_url(declared), correlation_id, PRODUCER)
        first = TimelineChange(
            entry=TimelineEntry(
                event_id=str(event.event_id), kind="submitted", at=declared.submitted_at
            ),
            label_status=declared.first_label_status(),
            events=[event],
        )
        record, created = await self.store.add_return(declared, first)
        await self.store.settle_reservation(merchant.id, declared.id)
        await self._mark_submitted(draft)
        if created:
            self.on_events()
        return Submission(record, created)

    async def _mark_submitted(self, draft: Draft) -> None:
        for _ in range(_DRAFT_WRITE_ATTEMPTS):
            if draft.submitted_return_id is not None:
                return
            try:
                await self.store.save_draft(
                    draft.model_copy(update={"submitted_return_id": draft.id})
                )
                return
            except RevisionConflict:
                fresh = await self.store.get_draft(draft.merchant_id, draft.id)
                assert fresh is not None  # drafts are not deleted while being submitted
                draft = fresh

    async def _quantities_taken(
        self, merchant: Merchant, session: PortalSession, draft: Draft
    ) -> DeclarationRejected:
        stored = await self._order(session)
        returnable = rules.returnable_quantities(stored.order, stored.reservations)
        return DeclarationRejected(
            [
                rules.field_error(
                    merchant.locale,
                    f"lines[{index}].quantity",
                    "quantity_no_longer_available",
                    maximum=returnable.get(line.line_id, 0),
                )
                for index, line in enumerate(draft.lines)
                if line.quantity > returnable.get(line.line_id, 0)
            ]
        )

    async def customer_return(self, session: PortalSession, return_id: str) -> ReturnRecord:
        """The confirmation page: a return of the session's order, with its label once made."""
        record = await self.store.get_return(session.merchant_id, return_id)
        if record is None or record.declared.order_number != session.order_number:
            raise NotFound("return")
        return record

    def back_office_url(self, declared: Return) -> str:
        return f"{self.back_office_base_url}/merchants/{declared.merchant_id}/returns/{declared.id}"

    # --- the back-office (R11, R12, R14) -----------------------------------------------------

    async def list_returns(
        self, merchant_id: str, where: ReturnFilter, limit: int, cursor: str | None
    ) -> ReturnPage:
        await self.merchant(merchant_id)
        return await self.store.list_returns(merchant_id, where, limit, cursor)

    async def return_record(
        self, merchant_id: str, return_id: str
    ) -> tuple[ReturnRecord, dict[str, Photo]]:
        record = await self.store.get_return(merchant_id, return_id)
        if record is None:
            raise NotFound("return")
        photo_ids = [photo for line in record.declared.lines for photo in line.media_ids]
        photos: dict[str, Photo] = {}
        try:
            found = await self.photos.lookup(merchant_id, photo_ids)
        except PhotoCatalogUnavailable:
            # The record is still worth reading while media is down; the links come back later.
            found = []
        photos = {photo.photo_id: photo for photo in found}
        return record, photos

    async def request_label(
        self,
        merchant_id: str,
        return_id: str,
        actor: Actor,
        regenerate: bool,
        correlation_id: str,
    ) -> ReturnRecord:
        """R11: publish LabelRequested (through the return's outbox) with who asked."""
        record = await self.store.get_return(merchant_id, return_id)
        if record is None:
            raise NotFound("return")
        event = label_requested(merchant_id, return_id, actor, regenerate, correlation_id, PRODUCER)
        keeps_label = record.label_status == "generated" and not regenerate
        change = TimelineChange(
            entry=TimelineEntry(
                event_id=str(event.event_id),
                kind="label_requested",
                at=event.occurred_at,
                detail="regenerate" if regenerate else None,
                actor=actor,
            ),
            label_status=None if keeps_label else "requested",
            events=[event],
        )
        await self.store.change_timeline(merchant_id, return_id, change)
        self.on_events()
        updated = await self.store.get_return(merchant_id, return_id)
        assert updated is not None
        return updated

    # --- the timeline, from other services' events (R14) -------------------------------------

    async def record_label_generated(self, event: LabelGenerated) -> None:
        payload = event.payload
        label = {
            "label_id": payload.label_id,
            "tracking_number": payload.tracking_number,
            "carrier": payload.carrier,
            "download_url": payload.download_url,
        }
        actor = None
        if payload.requested_by is not None:
            actor = Actor.model_validate(payload.requested_by.model_dump())
        await self._record(
            event.merchant_id,
            payload.return_id,
            TimelineChange(
                entry=_entry(event.event_id, "label_generated", event.occurred_at, None, actor),
                label_status="generated",
                label=label,
            ),
        )

    async def record_label_requested(self, event: LabelRequested) -> None:
        """Label requests from elsewhere (the support CLI) join the timeline too; those this
        service published are there already under the same event id."""
        payload = event.payload
        actor = Actor.model_validate(payload.requested_by.model_dump())
        record = await self.store.get_return(event.merchant_id, payload.return_id)
        keeps_label = (
            record is not None and record.label_status == "generated" and not payload.regenerate
        )
        await self._record(
            event.merchant_id,
            payload.return_id,
            TimelineChange(
                entry=_entry(
                    event.event_id,
                    "label_requested",
                    event.occurred_at,
                    "regenerate" if payload.regenerate else None,
                    actor,
                ),
                label_status=None if keeps_label else "requested",
            ),
        )

    async def record_label_rejected(self, event: LabelRejected) -> None:
        payload = event.payload
        await self._record(
            event.merchant_id,
            payload.return_id,
            TimelineChange(
                entry=_entry(
                    event.event_id,
                    "label_rejected",
                    event.occurred_at,
                    f"{payload.reason}: {payload.detail}",
                    None,
                ),
                label_status="rejected",
            ),
        )

    async def record_notification_sent(self, event: NotificationSent) -> None:
        payload = event.payload
        await self._record(
            event.merchant_id,
            payload.return_id,
            TimelineChange(
                entry=_entry(
                    event.event_id,
                    _notification_kind(payload.template),
                    event.occurred_at,
                    # The kind already says which e-mail in words; the template name is
                    # the notifier's internal vocabulary, not something a merchant reads.
                    payload.recipient,
                    None,
                )
            ),
        )

    async def _record(self, merchant_id: str, return_id: str, change: TimelineChange) -> None:
        # An event about a return this merchant does not have (another deployment sharing the
        # topic, or a forged merchant id) changes nothing.
        await self.store.change_timeline(merchant_id, return_id, change)


def _entry(
    event_id: uuid.UUID, kind: TimelineKind, at: datetime, detail: str | None, actor: Actor | None
) -> TimelineEntry:
    return TimelineEntry(event_id=str(event_id), kind=kind, at=at, detail=detail, actor=actor)


def _notification_kind(template: str) -> TimelineKind:
    # Template names belong to the notifier; these are the families the timeline tells apart.
    if "customer_service" in template:
        return "customer_service_notified"
    if "label" in template:
        return "label_emailed"
    return "customer_notified"
