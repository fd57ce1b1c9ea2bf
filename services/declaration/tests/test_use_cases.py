"""Use cases against in-memory fakes: the portal's four steps, submit, R12 and the timeline."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from returns_contracts import (
    LabelGenerated,
    LabelRequested,
    MerchantUpdated,
    NotificationSent,
    ReturnSubmitted,
    examples,
)
from returns_contracts.service_kit.testing import FakeClock
from returns_declaration.domain.model import Actor, MerchantSettings, Reason
from returns_declaration.domain.rules import DeclarationRejected, RequestedQuantity
from returns_declaration.service.errors import (
    IdempotencyKeyReused,
    NotFound,
    SessionRefused,
    TooManyAttempts,
    UnknownMerchant,
)
from returns_declaration.service.portal import PortalLimits
from returns_declaration.service.ports import ReturnFilter
from returns_declaration.service.sessions import PortalSession
from returns_declaration.service.use_cases import build_use_cases

from .builders import NOW, merchant, order
from .fakes import FakePhotoCatalog, InMemoryRateLimiter, InMemoryStore

SECRET = "test-portal-secret"


class Harness:
    def __init__(self) -> None:
        self.store = InMemoryStore()
        self.photos = FakePhotoCatalog()
        self.wakes = 0
        self.ids = iter(f"draft-{index}" for index in range(100))
        self.service = build_use_cases(
            self.store,
            self.photos,
            InMemoryRateLimiter(),
            self.wake,
            back_office_base_url="http://bo.example/",
            portal_token_secret=SECRET,
            limits=PortalLimits(attempts_per_order=3, failures_per_client=5, window_seconds=600),
            clock=FakeClock(NOW),
            new_id=lambda: next(self.ids),
        )

    def wake(self) -> None:
        self.wakes += 1

    async def with_shop(self, merchant_id: str = "shop") -> None:
        shop = merchant(merchant_id=merchant_id)
        settings = MerchantSettings.model_validate(
            shop.model_dump(include=set(MerchantSettings.model_fields))
        )
        await self.service.merchants.configure_merchant(merchant_id, settings, "c")
        for reason in shop.reasons:
            await self.service.merchants.put_reason(merchant_id, reason, "c")
        await self.service.merchants.retire_reason(merchant_id, "old", "c")
        await self.service.merchants.save_order(order(merchant_id=merchant_id))

    async def session(self, merchant_id: str = "shop") -> PortalSession:
        opened = await self.service.portal.open_session(
            merchant_id, "A-1", "ana@example.com", "1.2.3.4"
        )
        return opened.session

    async def return_with_label_requested(self) -> tuple[str, LabelRequested]:
        """A submitted return whose label a user requested, and the command the outbox holds."""
        session = await self.session()
        outcome = await self.service.portal.submit(
            session, await self.mixed_draft(session), None, "c"
        )
        return_id = outcome.record.declared.id
        await self.service.back_office.request_label(
            "shop", return_id, Actor(kind="user", id="u1"), False, "c"
        )
        [ours] = [e for e in self.store.outbox if isinstance(e, LabelRequested)]
        return return_id, ours

    async def submit_that_dies_before_its_insert(self, session: PortalSession) -> str:
        """A submit whose process dies after reserving the quantities, before its insert; the
        draft's id (which is also the return's)."""
        draft_id = await self.mixed_draft(session)
        self.store.crash_before_insert = True
        with pytest.raises(ConnectionError):
            await self.service.portal.submit(session, draft_id, None, "c")
        return draft_id

    async def mixed_draft(self, session: PortalSession) -> str:
        """Steps 1-3 for one defective line (with a photo of this draft) and one classic line."""
        service = self.service
        view = await service.portal.create_draft(
            session, [RequestedQuantity("1", 1), RequestedQuantity("2", 1)]
        )
        draft_id = view.draft.id
        self.photos.add("ph-1", session.merchant_id, draft_id)
        await service.portal.choose_reason(session, draft_id, "1", "damaged")
        await service.portal.describe_defect(
            session, draft_id, "1", "The handle is cracked.", ["ph-1"]
        )
        await service.portal.choose_reason(session, draft_id, "2", "too_big")
        await service.portal.choose_return_type(session, draft_id, "2", "refund")
        return draft_id


def label_generated_for(return_id: str, **changes: object) -> LabelGenerated:
    return examples.label_generated(merchant_id="shop", return_id=return_id).model_copy(
        update=changes
    )


def notification_sent_for(return_id: str, **changes: object) -> NotificationSent:
    sent = examples.notification_sent(
        merchant_id="shop", return_id=return_id, caused_by_event_id=uuid.uuid4()
    )
    return sent.model_copy(update=changes)


@pytest.fixture
async def harness() -> Harness:
    harness = Harness()
    await harness.with_shop()
    return harness


# --- merchants (R1) and keys ------------------------------------------------------------------


async def test_every_merchant_change_publishes_the_next_revision(harness: Harness) -> None:
    revisions = [
        event.payload.revision
        for event in harness.store.outbox
        if isinstance(event, MerchantUpdated)
    ]
    assert revisions == [1, 2, 3, 4, 5]
    last = harness.store.outbox[-1]
    assert isinstance(last, MerchantUpdated)
    assert [(reason.code, reason.retired) for reason in last.payload.reasons] == [
        ("damaged", False),
        ("too_big", False),
        ("old", True),
    ]


async def test_settings_changes_keep_the_reasons(harness: Harness) -> None:
    settings = MerchantSettings(name="Renamed", customer_service_email="cs@shop.example")
    changed = await harness.service.merchants.configure_merchant("shop", settings, "c")
    assert changed.name == "Renamed" and len(changed.reasons) == 3


async def test_an_api_key_is_shown_once_kept_hashed_and_revocable(harness: Harness) -> None:
    key, secret = await harness.service.merchants.issue_api_key("shop")
    assert secret not in harness.store.keys  # only the hash is a key of the store
    found = await harness.service.merchants.authenticate_api_key(secret)
    assert found is not None and found.merchant_id == "shop"
    assert await harness.service.merchants.authenticate_api_key(secret + "x") is None
    await harness.service.merchants.revoke_api_key("shop", key.key_id)
    assert await harness.service.merchants.authenticate_api_key(secret) is None
    with pytest.raises(NotFound):
        await harness.service.merchants.revoke_api_key("other", key.key_id)


# --- R2: sessions -----------------------------------------------------------------------------


async def test_a_wrong_email_and_an_unknown_order_get_the_same_answer(harness: Harness) -> None:
    service = harness.service
    with pytest.raises(SessionRefused) as wrong_email:
        await service.portal.open_session("shop", "A-1", "x@y.z", "1.1.1.1")
    with pytest.raises(SessionRefused) as no_order:
        await service.portal.open_session("shop", "B-404", "ana@example.com", "1.1.1.1")
    assert wrong_email.value.errors == no_order.value.errors


async def test_sign_in_attempts_are_limited_per_order_and_per_client(harness: Harness) -> None:
    service = harness.service
    for _ in range(3):
        with pytest.raises(SessionRefused):
            await service.portal.open_session("shop", "A-1", "x@y.z", "1.1.1.1")
    with pytest.raises(TooManyAttempts) as limited:
        # Even the right e-mail from elsewhere: the order is locked for the window.
        await service.portal.open_session("shop", "A-1", "ana@example.com", "2.2.2.2")
    assert limited.value.locale == "fr"
    for number in ("B-1", "B-2", "B-3", "B-4", "B-5"):  # the 5 failures a client may make
        with pytest.raises(SessionRefused):
            await service.portal.open_session("shop", number, "x@y.z", "2.2.2.2")
    with pytest.raises(TooManyAttempts):
        await service.portal.open_session("shop", "B-6", "x@y.z", "2.2.2.2")


async def test_a_client_signing_in_successfully_is_not_limited(harness: Harness) -> None:
    # More successful sign-ins from one address than the 5 failures it may make: only failures
    # count against a client, so a shop's own staff or a busy proxy is never locked out.
    numbers = [f"S-{index}" for index in range(8)]
    for number in numbers:
        await harness.service.merchants.save_order(order(number=number))
    for number in numbers:
        await harness.service.portal.open_session("shop", number, "ana@example.com", "1.1.1.1")
    for _ in range(3):
        await harness.service.portal.open_session("shop", "A-1", "ana@example.com", "1.1.1.1")
    with pytest.raises(TooManyAttempts):  # the order's own limit still holds
        await harness.service.portal.open_session("shop", "A-1", "ana@example.com", "1.1.1.1")


async def test_a_session_token_is_bound_to_its_merchant(harness: Harness) -> None:
    await harness.with_shop("other")
    opened = await harness.service.portal.open_session("shop", "A-1", "ana@example.com", "1.1.1.1")
    assert (await harness.service.portal.session("shop", opened.token)).order_number == "A-1"
    with pytest.raises(SessionRefused):
        await harness.service.portal.session("other", opened.token)
    with pytest.raises(SessionRefused):
        await harness.service.portal.session("shop", opened.token[:-2] + "xx")


# --- R3-R7: the portal ------------------------------------------------------------------------


async def test_the_order_shows_what_is_still_returnable(harness: Harness) -> None:
    session = await harness.session()
    draft_id = await harness.mixed_draft(session)
    await harness.service.portal.submit(session, draft_id, None, "c")
    view = await harness.service.portal.portal_order(session)
    assert {item.line.line_id: item.returnable for item in view.offer.lines} == {"1": 2, "2": 0}
    assert view.offer.window_open


async def test_photos_must_belong_to_this_merchant_and_this_draft(harness: Harness) -> None:
    await harness.with_shop("other")
    session = await harness.session()
    view = await harness.service.portal.create_draft(session, [RequestedQuantity("1", 1)])
    await harness.service.portal.choose_reason(session, view.draft.id, "1", "damaged")
    harness.photos.add("of-another-draft", "shop", "another-draft")
    harness.photos.add("of-another-merchant", "other", view.draft.id)
    for photo in ("of-another-draft", "of-another-merchant", "never-uploaded"):
        with pytest.raises(DeclarationRejected) as error:
            await harness.service.portal.describe_defect(
                session, view.draft.id, "1", "The handle is cracked.", [photo]
            )
        assert [item.code for item in error.value.errors] == ["unknown_photo"]


async def test_a_draft_of_another_order_is_not_found(harness: Harness) -> None:
    session = await harness.session()
    draft_id = await harness.mixed_draft(session)
    stranger = PortalSession("shop", "B-2", NOW + timedelta(hours=1))
    with pytest.raises(NotFound):
        await harness.service.portal.summary(stranger, draft_id)


async def test_the_summary_shows_the_photo_thumbnails(harness: Harness) -> None:
    session = await harness.session()
    draft_id = await harness.mixed_draft(session)
    view = await harness.service.portal.summary(session, draft_id)
    assert view.photos["ph-1"].thumbnail_url == "https://t/ph-1"
    assert view.draft_token  # for media uploads


# --- R7, R8: submit ---------------------------------------------------------------------------


async def test_submit_stores_the_return_with_one_event_and_wakes_the_relay(
    harness: Harness,
) -> None:
    session = await harness.session()
    draft_id = await harness.mixed_draft(session)
    wakes = harness.wakes
    outcome = await harness.service.portal.submit(session, draft_id, None, "corr-3")
    [event] = [e for e in harness.store.outbox if isinstance(e, ReturnSubmitted)]
    assert outcome.created and outcome.record.declared.id == draft_id
    assert event.payload.defective is True
    assert [item.defective for item in event.payload.items] == [True, False]
    assert event.payload.items[0].media_ids == ["ph-1"]
    assert event.correlation_id == "corr-3"
    assert event.payload.back_office_url == f"http://bo.example/merchants/shop/returns/{draft_id}"
    assert harness.wakes == wakes + 1
    assert outcome.record.label_status == "awaiting_merchant"


async def test_a_double_submit_is_one_return_and_one_event(harness: Harness) -> None:
    session = await harness.session()
    draft_id = await harness.mixed_draft(session)
    first = await harness.service.portal.submit(session, draft_id, "key-1", "c")
    again = await harness.service.portal.submit(session, draft_id, None, "c")
    by_key = await harness.service.portal.submit(session, draft_id, "key-1", "c")
    assert (first.created, again.created, by_key.created) == (True, False, False)
    assert sum(isinstance(e, ReturnSubmitted) for e in harness.store.outbox) == 1


async def test_the_same_idempotency_key_on_another_draft_gives_the_first_return(
    harness: Harness,
) -> None:
    session = await harness.session()
    first = await harness.service.portal.submit(
        session, await harness.mixed_draft(session), "k", "c"
    )
    other = await harness.service.portal.create_draft(session, [RequestedQuantity("1", 1)])
    again = await harness.service.portal.submit(session, other.draft.id, "k", "c")
    assert again.record.declared.id == first.record.declared.id and not again.created


async def test_a_key_bound_to_an_unfinished_submit_is_refused(harness: Harness) -> None:
    session = await harness.session()
    await harness.store.claim_idempotency_key("shop", "k", "never-finished")
    draft_id = await harness.mixed_draft(session)
    with pytest.raises(IdempotencyKeyReused):
        await harness.service.portal.submit(session, draft_id, "k", "c")


async def test_a_key_first_sent_with_an_unknown_draft_stays_that_draft_s(harness: Harness) -> None:
    """The key's claim goes out beside the draft's read: a key names the draft of the request
    that first sent it, whatever that request's outcome. The unknown draft still answers 404,
    and the key is not taken by another draft."""
    session = await harness.session()
    with pytest.raises(NotFound):
        await harness.service.portal.submit(session, "no-such-draft", "k", "c")
    draft_id = await harness.mixed_draft(session)
    with pytest.raises(IdempotencyKeyReused):
        await harness.service.portal.submit(session, draft_id, "k", "c")
    assert (await harness.service.portal.submit(session, draft_id, "k2", "c")).created


async def test_a_retry_after_a_crash_between_reservation_and_insert_completes_once(
    harness: Harness,
) -> None:
    session = await harness.session()
    draft_id = await harness.submit_that_dies_before_its_insert(session)
    assert harness.store.reservations[("shop", "A-1")] == {draft_id: {"1": 1, "2": 1}}
    retried = await harness.service.portal.submit(session, draft_id, None, "c")
    assert retried.created
    assert sum(isinstance(e, ReturnSubmitted) for e in harness.store.outbox) == 1
    assert harness.store.reservations[("shop", "A-1")] == {draft_id: {"1": 1, "2": 1}}


async def test_two_drafts_for_the_last_item_give_one_return(harness: Harness) -> None:
    session = await harness.session()
    service = harness.service
    drafts = []
    for _ in range(2):
        view = await service.portal.create_draft(session, [RequestedQuantity("2", 1)])
        await service.portal.choose_reason(session, view.draft.id, "2", "too_big")
        await service.portal.choose_return_type(session, view.draft.id, "2", "exchange")
        drafts.append(view.draft.id)
    await service.portal.submit(session, drafts[0], None, "c")
    with pytest.raises(DeclarationRejected) as error:
        await service.portal.submit(session, drafts[1], None, "c")
    assert [item.code for item in error.value.errors] == ["nothing_left_to_return"]


async def test_an_incomplete_draft_is_refused_field_by_field(harness: Harness) -> None:
    session = await harness.session()
    view = await harness.service.portal.create_draft(session, [RequestedQuantity("1", 1)])
    with pytest.raises(DeclarationRejected) as error:
        await harness.service.portal.submit(session, view.draft.id, None, "c")
    assert [item.field for item in error.value.errors] == ["lines[0].reason_code"]


# --- R12 and the back-office ------------------------------------------------------------------


async def test_a_merchant_never_reads_or_acts_on_another_merchants_return(
    harness: Harness,
) -> None:
    await harness.with_shop("other")
    session = await harness.session()
    outcome = await harness.service.portal.submit(
        session, await harness.mixed_draft(session), None, "c"
    )
    return_id = outcome.record.declared.id
    with pytest.raises(NotFound):
        await harness.service.back_office.return_record("other", return_id)
    actor = Actor(kind="api_key", id="k1")
    with pytest.raises(NotFound):
        await harness.service.back_office.request_label("other", return_id, actor, False, "c")
    assert (
        await harness.service.back_office.list_returns("other", ReturnFilter(), 10, None)
    ).records == []
    assert (
        len(
            (
                await harness.service.back_office.list_returns("shop", ReturnFilter(), 10, None)
            ).records
        )
        == 1
    )


async def test_unknown_merchant_is_reported(harness: Harness) -> None:
    with pytest.raises(UnknownMerchant):
        await harness.service.portal.open_session("nobody", "A-1", "ana@example.com", "1.1.1.1")


async def test_a_record_is_readable_while_media_is_down(harness: Harness) -> None:
    session = await harness.session()
    outcome = await harness.service.portal.submit(
        session, await harness.mixed_draft(session), None, "c"
    )
    harness.photos.down = True
    record, photos = await harness.service.back_office.return_record(
        "shop", outcome.record.declared.id
    )
    assert record.declared.id == outcome.record.declared.id and photos == {}


async def test_a_label_request_goes_out_with_who_asked_and_shows_on_the_timeline(
    harness: Harness,
) -> None:
    session = await harness.session()
    outcome = await harness.service.portal.submit(
        session, await harness.mixed_draft(session), None, "c"
    )
    return_id = outcome.record.declared.id
    actor = Actor(kind="api_key", id="k1", display_name="Julie")
    record = await harness.service.back_office.request_label(
        "shop", return_id, actor, False, "corr"
    )
    [command] = [e for e in harness.store.outbox if isinstance(e, LabelRequested)]
    assert command.payload.return_id == return_id
    assert command.payload.requested_by.id == "k1"
    assert record.label_status == "requested"
    assert [entry.kind for entry in record.timeline] == ["submitted", "label_requested"]


async def test_consumed_events_fill_the_timeline_once_each(harness: Harness) -> None:
    session = await harness.session()
    outcome = await harness.service.portal.submit(
        session, await harness.mixed_draft(session), None, "c"
    )
    return_id = outcome.record.declared.id
    generated = label_generated_for(return_id)
    sent = notification_sent_for(return_id)
    for _ in range(2):
        await harness.service.timeline.record_label_generated(generated)
        await harness.service.timeline.record_notification_sent(sent)
    # Another merchant's id on the event changes nothing on this merchant's return.
    await harness.service.timeline.record_label_generated(
        generated.model_copy(update={"merchant_id": "other", "event_id": uuid.uuid4()})
    )
    record, _ = await harness.service.back_office.return_record("shop", return_id)
    assert [entry.kind for entry in record.timeline] == [
        "submitted",
        "label_generated",
        "customer_service_notified",
    ]
    assert record.label_status == "generated"
    assert record.label is not None
    assert record.label["tracking_number"] == generated.payload.tracking_number


async def test_reasons_are_kept_in_order_and_renamed_in_place(harness: Harness) -> None:
    renamed = await harness.service.merchants.put_reason(
        "shop", Reason(code="damaged", label_fr="Cassé", label_en="Broken", defective=True), "c"
    )
    assert [reason.code for reason in renamed.reasons] == ["damaged", "too_big", "old"]
    assert renamed.reason("damaged") == Reason(
        code="damaged", label_fr="Cassé", label_en="Broken", defective=True
    )


async def test_a_label_request_from_the_cli_joins_the_timeline_and_ours_only_once(
    harness: Harness,
) -> None:
    return_id, ours = await harness.return_with_label_requested()
    await harness.service.timeline.record_label_requested(ours)  # our own command, consumed back
    from_cli = ours.model_copy(
        update={
            "event_id": uuid.uuid4(),
            "payload": ours.payload.model_copy(
                update={
                    "requested_by": ours.payload.requested_by.model_copy(update={"kind": "cli"})
                }
            ),
        }
    )
    await harness.service.timeline.record_label_requested(from_cli)
    record, _ = await harness.service.back_office.return_record("shop", return_id)
    assert [
        (entry.kind, entry.actor.kind if entry.actor else None) for entry in record.timeline
    ] == [
        ("submitted", None),
        ("label_requested", "user"),
        ("label_requested", "cli"),
    ]


async def test_the_timeline_reads_in_time_order_whatever_order_it_was_applied_in(
    harness: Harness,
) -> None:
    # Each topic has its own consumer, so entries are applied out of time order (R14).
    return_id, ours = await harness.return_with_label_requested()
    # Our request takes its time from its command; everything else happens a minute later.
    minute = ours.occurred_at + timedelta(minutes=1)
    generated = label_generated_for(return_id, occurred_at=minute + timedelta(seconds=51.704))
    # Announced again with its first time: a tie, kept after the first in applied order.
    again = generated.model_copy(update={"event_id": uuid.uuid4()})
    notified = notification_sent_for(return_id, occurred_at=minute + timedelta(seconds=51.790))
    from_cli = ours.model_copy(
        update={"event_id": uuid.uuid4(), "occurred_at": minute + timedelta(seconds=58)}
    )
    await harness.service.timeline.record_label_generated(generated)
    await harness.service.timeline.record_label_requested(from_cli)
    await harness.service.timeline.record_notification_sent(notified)
    await harness.service.timeline.record_label_generated(again)

    record, _ = await harness.service.back_office.return_record("shop", return_id)
    assert [entry.event_id for entry in record.timeline[2:]] == [
        str(generated.event_id),
        str(again.event_id),
        str(notified.event_id),
        str(from_cli.event_id),
    ]
    assert [entry.kind for entry in record.timeline[:2]] == ["submitted", "label_requested"]
    times = [entry.at for entry in record.timeline]
    assert times == sorted(times)


async def test_the_summary_is_readable_while_media_is_down(harness: Harness) -> None:
    session = await harness.session()
    draft_id = await harness.mixed_draft(session)
    harness.photos.down = True
    view = await harness.service.portal.summary(session, draft_id)
    assert view.photos == {} and view.draft.lines[0].photo_ids == ("ph-1",)
