"""The customer's portal (R2-R8): the session, the order, the draft and its four steps, the
submit (one return per draft, its ReturnSubmitted in the same document: the outbox) and the
confirmation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from returns_contracts.service_kit.clock import Clock, utc_now_millis
from returns_contracts.signing import InvalidToken, issue_draft_token
from returns_declaration.domain import rules, views
from returns_declaration.domain.model import (
    Draft,
    Locale,
    Merchant,
    Order,
    Return,
    ReturnType,
    TimelineEntry,
)
from returns_declaration.domain.reservations import PendingReservation
from returns_declaration.domain.rules import DeclarationRejected, RequestedQuantity
from returns_declaration.domain.views import DraftProgress, NextStep, OrderOffer
from returns_declaration.service.errors import (
    IdempotencyKeyReused,
    NotFound,
    PhotoCatalogUnavailable,
    RevisionConflict,
    SessionRefused,
    TooManyAttempts,
)
from returns_declaration.service.events import return_submitted
from returns_declaration.service.merchants import PRODUCER, known_merchant
from returns_declaration.service.ports import (
    DeclarationStore,
    Photo,
    PhotoCatalog,
    RateLimiter,
    ReturnRecord,
    StoredOrder,
    TimelineChange,
)
from returns_declaration.service.sessions import (
    PortalSession,
    issue_session_token,
    read_session_token,
)

_DRAFT_WRITE_ATTEMPTS = 5


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
    """The order at step 1: `offer` (decided by `domain.views.offer`) says which lines can be
    selected, how many of each are left and why not, and whether the window is open (R3)."""

    merchant: Merchant
    order: Order
    offer: OrderOffer


@dataclass(frozen=True)
class DraftView:
    merchant: Merchant
    order: Order
    draft: Draft
    photos: dict[str, Photo]
    draft_token: str
    progress: DraftProgress
    """What each line still misses, whether the draft is defective and ready (R4-R8)."""


@dataclass(frozen=True)
class Submission:
    record: ReturnRecord
    created: bool

    @property
    def next_step(self) -> NextStep:
        """What the confirmation says comes next (R9, R10)."""
        return views.next_step(self.record.declared)


def _new_id() -> str:
    return str(uuid.uuid4())


class Portal:
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
        # The customer's signed link to the return's status page, carried by ReturnSubmitted
        # for the e-mails (service/customer_links.py); none unless the use cases set it.
        self.status_link: Callable[[Return], str | None] = lambda declared: None

    async def merchant(self, merchant_id: str) -> Merchant:
        return await known_merchant(self.store, merchant_id)

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
        # Signing in only checks the order's e-mail: what earlier returns reserved is read by
        # the steps that count quantities.
        stored = await self.store.get_order(
            merchant_id, order_number.strip(), with_reservations=False
        )
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
        offer = views.offer(merchant, stored.order, stored.reservations, self.clock().date())
        return PortalOrder(merchant, stored.order, offer)

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
        return DraftView(
            merchant, order, draft, photos, token, views.progress(merchant, order, draft)
        )

    async def _draft(self, session: PortalSession, draft_id: str) -> tuple[Merchant, Order, Draft]:
        merchant, stored, draft = await self._draft_of_order(session, draft_id, False)
        return merchant, stored.order, draft

    async def _draft_of_order(
        self, session: PortalSession, draft_id: str, with_reservations: bool
    ) -> tuple[Merchant, StoredOrder, Draft]:
        # The three reads go out together: each step waits for one round trip instead of
        # three (under a burst of submits, each round trip is a wait for the store's queue).
        # Their errors are told in the order the reads were once made, whichever came first.
        merchant, draft, stored = await asyncio.gather(
            self.merchant(session.merchant_id),
            self.store.get_draft(session.merchant_id, draft_id),
            self._order(session, with_reservations),
            return_exceptions=True,
        )
        if isinstance(merchant, BaseException):
            raise merchant
        if isinstance(draft, BaseException):
            raise draft
        # A draft of another order is as unknown as a draft that does not exist.
        if draft is None or draft.order_number != session.order_number:
            raise NotFound("draft")
        if isinstance(stored, BaseException):
            raise stored
        return merchant, stored, draft

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
        now = self.clock()
        # Noted before anything is reserved: if this process dies after the reservation below
        # and the client never retries, the reconciler finds the note and gives the quantities
        # back. The note and the key's claim need only the request, so they go out beside the
        # reads: a note of a submit that stops short (an unknown draft, a replay, a refusal)
        # is one the reconciler drops once it finds nothing reserved or the return stored.
        # Never deleted here, as a concurrent submit of the draft may have renewed it and still
        # need it. A key names the draft of the request that first sent it, whatever that
        # request's outcome, as it does when the rules refuse the draft.
        pending = PendingReservation(session.merchant_id, session.order_number, draft_id, now)
        read, bound, noted = await asyncio.gather(
            self._draft_of_order(session, draft_id, True),
            self._claim(session.merchant_id, idempotency_key, draft_id),
            self.store.note_reservation(pending),
            return_exceptions=True,
        )
        # The reads' refusal first: an unknown draft answers 404 as it always did.
        if isinstance(read, BaseException):
            raise read
        if isinstance(bound, BaseException):
            raise bound
        if isinstance(noted, BaseException):
            raise noted
        merchant, stored, draft = read
        if idempotency_key and bound != draft.id:
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
        declared = rules.declare_return(merchant, stored.order, draft, stored.reservations, now=now)
        event = return_submitted(
            declared,
            self.back_office_url(declared),
            correlation_id,
            PRODUCER,
            status_url=self.status_link(declared),
        )
        first = TimelineChange(
            entry=TimelineEntry(
                event_id=str(event.event_id), kind="submitted", at=declared.submitted_at
            ),
            label_status=declared.first_label_status(),
            events=[event],
        )
        # The reservation goes beside what the insert needs first; the return is inserted only
        # once it holds.
        record, created = await self.store.add_return(
            declared, first, before_insert=self._reserve(merchant, session, draft, stored, declared)
        )
        # Independent once the return is stored: a crash after either leaves what a retry or
        # the reconciler settles, as a crash between the two always did.
        await asyncio.gather(
            self.store.settle_reservation(merchant.id, declared.id), self._mark_submitted(draft)
        )
        if created:
            self.on_events()
        return Submission(record, created)

    async def _reserve(
        self,
        merchant: Merchant,
        session: PortalSession,
        draft: Draft,
        stored: StoredOrder,
        declared: Return,
    ) -> None:
        if not await self.store.reserve(
            stored.order, declared.id, rules.reservation_of(declared), seen=stored
        ):
            await self.store.settle_reservation(merchant.id, declared.id)
            raise await self._quantities_taken(merchant, session, draft)

    async def _claim(self, merchant_id: str, idempotency_key: str | None, draft_id: str) -> str:
        """The draft an idempotency key is bound to: this one unless an earlier submit bound
        the key first; this one too without a key."""
        if not idempotency_key:
            return draft_id
        return await self.store.claim_idempotency_key(merchant_id, idempotency_key, draft_id)

    async def _mark_submitted(self, draft: Draft) -> None:
        if draft.submitted_return_id is None:
            await self.store.mark_draft_submitted(draft.id)

    async def _quantities_taken(
        self, merchant: Merchant, session: PortalSession, draft: Draft
    ) -> DeclarationRejected:
        stored = await self._order(session)
        return DeclarationRejected(
            rules.quantities_no_longer_available(merchant, stored.order, stored.reservations, draft)
        )

    async def customer_return(self, session: PortalSession, return_id: str) -> ReturnRecord:
        """The confirmation page: a return of the session's order, with its label once made."""
        record = await self.store.get_return(session.merchant_id, return_id)
        if record is None or record.declared.order_number != session.order_number:
            raise NotFound("return")
        return record

    def back_office_url(self, declared: Return) -> str:
        return f"{self.back_office_base_url}/merchants/{declared.merchant_id}/returns/{declared.id}"
