"""The notifier's use cases against in-memory fakes of MongoDB, SMTP, Kafka, media and labels."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from returns_contracts import NotificationSent, ReturnSubmitted
from returns_contracts.examples import label_generated, merchant_updated, return_submitted
from returns_contracts.service_kit.kafka import NotYet, PermanentError, Unavailable
from returns_contracts.service_kit.testing import FakeClock
from returns_notifier.adapters.rendering import JinjaRenderer
from returns_notifier.domain.emails import (
    CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT,
    CUSTOMER_LABEL,
    CUSTOMER_RETURN_CONFIRMATION,
    CUSTOMER_SERVICE_DEFECTIVE,
    OutgoingEmail,
    SentEmail,
    email_key,
    message_id_for,
    notification_event_id,
)
from returns_notifier.service.errors import (
    InvalidRecipient,
    MerchantNotKnownYet,
    ReturnNotKnownYet,
    ReturnOfAnotherMerchant,
    SendInProgress,
)
from returns_notifier.service.use_cases import Notifier

from .fakes import (
    DOMAIN,
    START,
    FakeSender,
    World,
)


@pytest.fixture
async def world() -> World:
    world = World()
    await world.notifier.record_merchant(merchant_updated())
    return world


def _key(event: ReturnSubmitted) -> str:
    return email_key(event.event_id, CUSTOMER_SERVICE_DEFECTIVE)


def _message_id(event: ReturnSubmitted) -> str:
    return message_id_for(event.event_id, CUSTOMER_SERVICE_DEFECTIVE, DOMAIN)


def _to_customer_service(world: World) -> list[OutgoingEmail]:
    return [email for email in world.sender.sent if email.recipient == "sav@atelier.example.com"]


def _to_customer(world: World) -> list[OutgoingEmail]:
    return [email for email in world.sender.sent if email.recipient == "lea.dupont@example.com"]


def _notifications(world: World, template: str) -> list[NotificationSent]:
    return [
        message
        for message in world.publisher.published
        if isinstance(message, NotificationSent) and message.payload.template == template
    ]


# --- merchants -------------------------------------------------------------------------------


async def test_a_newer_merchant_revision_replaces_the_copy_and_an_older_one_does_not() -> None:
    world = World()

    assert await world.notifier.record_merchant(merchant_updated(revision=2))
    assert not await world.notifier.record_merchant(merchant_updated(revision=1))
    assert not await world.notifier.record_merchant(merchant_updated(revision=2))
    assert await world.notifier.record_merchant(merchant_updated(revision=3))

    merchant = await world.merchants.get("m-atelier")
    assert merchant is not None and merchant.revision == 3


# --- the defective-return e-mail -------------------------------------------------------------


async def test_a_defective_return_sends_one_email_to_customer_service(world: World) -> None:
    event = return_submitted(defective=True)

    await world.notifier.on_return_submitted(event)

    [email] = _to_customer_service(world)
    assert email.sender.address == "returns@demo-shop.example"
    assert email.sender.name == "L'Atelier"
    assert email.reply_to is not None and email.reply_to.address == "lea.dupont@example.com"
    assert email.subject == "[Retour défectueux] Commande CMD-2026-0042 - Léa Dupont"
    assert email.message_id == _message_id(event)
    assert "Arrivé cassé" in email.text and "Arrivé cassé" in email.html
    assert "https://media.test/p/media-2/full?sig=x" in email.text
    assert world.photos.calls == [("m-atelier", ["media-1", "media-2"])]
    record = world.sent_emails.records[_key(event)]
    assert record.status == "sent" and record.sent_at is not None
    assert record.published_at is not None


async def test_the_email_sent_is_announced_by_a_notification_sent_event(world: World) -> None:
    event = return_submitted(defective=True)

    await world.notifier.on_return_submitted(event)

    [message] = _notifications(world, CUSTOMER_SERVICE_DEFECTIVE)
    assert message.event_id == notification_event_id(event.event_id, CUSTOMER_SERVICE_DEFECTIVE)
    assert message.producer == "notifier"
    assert message.merchant_id == event.merchant_id
    assert message.correlation_id == event.correlation_id
    assert message.payload.return_id == event.payload.return_id
    assert message.payload.template == CUSTOMER_SERVICE_DEFECTIVE
    assert message.payload.recipient == "sav@atelier.example.com"
    assert message.payload.message_id == _message_id(event)
    assert message.payload.caused_by_event_id == event.event_id


async def test_the_subject_follows_the_locale_of_the_return(world: World) -> None:
    await world.notifier.on_return_submitted(return_submitted(defective=True, locale="en"))

    [email] = _to_customer_service(world)
    assert email.subject == "[Defective return] Order CMD-2026-0042 - Léa Dupont"
    [acknowledgement] = _to_customer(world)
    assert acknowledgement.subject == "L'Atelier: we received your return (order CMD-2026-0042)"


async def test_a_defective_return_is_acknowledged_to_the_customer(world: World) -> None:
    event = return_submitted(defective=True)

    await world.notifier.on_return_submitted(event)

    [email] = _to_customer(world)
    assert email.reply_to is not None and email.reply_to.address == "sav@atelier.example.com"
    assert "va vous contacter" in email.text
    assert email.message_id == message_id_for(
        event.event_id, CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT, DOMAIN
    )
    assert len(_notifications(world, CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT)) == 1


async def test_a_classic_return_is_confirmed_to_the_customer_only(world: World) -> None:
    done = await world.notifier.on_return_submitted(return_submitted(defective=False))

    assert [record.template for record in done] == [CUSTOMER_RETURN_CONFIRMATION]
    [email] = world.sender.sent
    assert email.recipient == "lea.dupont@example.com"
    assert "étiquette de retour arrive" in email.text
    assert world.photos.calls == []
    assert len(_notifications(world, CUSTOMER_RETURN_CONFIRMATION)) == 1


async def test_a_redelivered_event_sends_nothing_more(world: World) -> None:
    event = return_submitted(defective=True)

    await world.notifier.on_return_submitted(event)
    await world.notifier.on_return_submitted(event)

    assert len(_to_customer_service(world)) == 1
    assert len(_to_customer(world)) == 1
    assert len(world.publisher.published) == 2


async def test_an_email_recorded_as_sent_is_not_sent_again(world: World) -> None:
    event = return_submitted(defective=True)
    await world.notifier.on_return_submitted(event)
    world.sender.sent.clear()
    world.publisher.published.clear()

    records = await world.notifier.on_return_submitted(event)

    assert [record.status for record in records] == ["sent", "sent"]
    assert world.sender.sent == []
    assert world.publisher.published == []


async def test_a_sent_email_whose_event_may_not_have_left_is_only_announced_again(
    world: World,
) -> None:
    event = return_submitted(defective=True)
    await world.notifier.on_return_submitted(event)
    world.sender.sent.clear()
    [first] = _notifications(world, CUSTOMER_SERVICE_DEFECTIVE)
    world.publisher.published.clear()
    key = _key(event)
    world.sent_emails.records[key] = replace(world.sent_emails.records[key], published_at=None)

    await world.notifier.on_return_submitted(event)

    assert world.sender.sent == []
    assert world.publisher.published == [first]


async def test_an_email_left_sending_by_a_crash_is_sent_again_with_the_same_message_id(
    world: World,
) -> None:
    event = return_submitted(defective=True)
    crashed = SentEmail(
        key=_key(event),
        event_id=event.event_id,
        template=CUSTOMER_SERVICE_DEFECTIVE,
        merchant_id=event.merchant_id,
        return_id=event.payload.return_id,
        recipient="sav@atelier.example.com",
        message_id="<recorded-before-the-crash@returns.test>",
        status="sending",
        created_at=START,
    )
    world.sent_emails.records[crashed.key] = crashed

    await world.notifier.on_return_submitted(event)

    [email] = _to_customer_service(world)
    assert email.message_id == "<recorded-before-the-crash@returns.test>"
    assert world.sent_emails.records[crashed.key].status == "sent"
    [message] = _notifications(world, CUSTOMER_SERVICE_DEFECTIVE)
    assert message.payload.message_id == "<recorded-before-the-crash@returns.test>"


async def test_a_failed_send_leaves_the_intent_and_the_retry_sends_once(world: World) -> None:
    event = return_submitted(defective=False)
    key = email_key(event.event_id, CUSTOMER_RETURN_CONFIRMATION)
    world.sender.failures = 1

    with pytest.raises(ConnectionError):
        await world.notifier.on_return_submitted(event)
    assert world.sent_emails.records[key].status == "sending"
    assert world.publisher.published == []

    await world.notifier.on_return_submitted(event)

    [email] = world.sender.sent
    assert email.message_id == message_id_for(event.event_id, CUSTOMER_RETURN_CONFIRMATION, DOMAIN)
    assert world.sent_emails.records[key].status == "sent"
    assert len(world.publisher.published) == 1


async def test_each_email_sent_is_counted_with_its_time_since_the_submission(
    world: World,
) -> None:
    event = return_submitted(defective=True)

    await world.notifier.on_return_submitted(event)

    templates = [template for template, _ in world.metrics.counted_sent]
    assert sorted(templates) == sorted(
        [CUSTOMER_SERVICE_DEFECTIVE, CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT]
    )
    for _, since in world.metrics.counted_sent:
        # The fake clock starts a minute after the example's submission and ticks 1 s a read.
        assert since is not None
        assert START - event.payload.submitted_at < since < timedelta(minutes=2)
    assert world.metrics.counted_failed == []


async def test_a_refused_send_is_counted_as_failed_and_not_as_sent(world: World) -> None:
    event = return_submitted(defective=False)
    world.sender.failures = 1

    with pytest.raises(ConnectionError):
        await world.notifier.on_return_submitted(event)

    assert world.metrics.counted_failed == [CUSTOMER_RETURN_CONFIRMATION]
    assert world.metrics.counted_sent == []


async def test_a_redelivered_event_counts_no_second_email(world: World) -> None:
    event = return_submitted(defective=False)
    await world.notifier.on_return_submitted(event)
    await world.notifier.on_return_submitted(event)

    counted = [template for template, _ in world.metrics.counted_sent]
    assert counted == [CUSTOMER_RETURN_CONFIRMATION]


def _member(world: World, owner: str, sender: object, clock: FakeClock | None = None) -> Notifier:
    """Another member of the consumer group: its own process (owner), the same store."""
    return Notifier(
        merchants=world.merchants,
        returns=world.returns,
        sent_emails=world.sent_emails,
        photos=world.photos,
        labels=world.labels,
        sender=sender,  # type: ignore[arg-type]
        renderer=JinjaRenderer(),
        publisher=world.publisher,
        mail_from="Returns <returns@demo-shop.example>",
        message_id_domain=DOMAIN,
        clock=clock or FakeClock(START, tick=timedelta(seconds=1)),
        owner=owner,
    )


class HeldSender(FakeSender):
    """Hands e-mails over only once `release` is set, like a slow SMTP transaction."""

    def __init__(self, into: FakeSender) -> None:
        super().__init__()
        self.into = into
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, email: OutgoingEmail) -> None:
        self.entered.set()
        await self.release.wait()
        await self.into.send(email)


class HeldForOneRecipient(FakeSender):
    """Holds the e-mails to `recipient` until `release` is set (a slow mailbox, or one whose
    server refuses for a while when `refusals` is set); the others go through at once."""

    def __init__(self, into: FakeSender, recipient: str, refusals: int = 0) -> None:
        super().__init__()
        self.into = into
        self.recipient = recipient
        self.refusals = refusals
        self.release = asyncio.Event()
        self.another_sent = asyncio.Event()

    async def send(self, email: OutgoingEmail) -> None:
        if email.recipient == self.recipient:
            if self.refusals:
                self.refusals -= 1
                raise ConnectionError("the customer's mail server went away")
            await self.release.wait()
        await self.into.send(email)
        if email.recipient != self.recipient:
            self.another_sent.set()


async def test_the_customer_service_email_does_not_wait_for_the_customers_acknowledgement(
    world: World,
) -> None:
    event = return_submitted(defective=True)
    slow_customer = HeldForOneRecipient(world.sender, "lea.dupont@example.com")
    notifier = _member(world, "notifier", slow_customer)
    handling = asyncio.create_task(notifier.on_return_submitted(event))

    await asyncio.wait_for(slow_customer.another_sent.wait(), timeout=5)
    assert len(_to_customer_service(world)) == 1
    assert _to_customer(world) == []  # the acknowledgement is still on its way
    slow_customer.release.set()
    await handling

    assert len(_to_customer(world)) == 1
    assert len(world.publisher.published) == 2


async def test_a_failed_acknowledgement_does_not_hold_back_customer_service_and_is_retried(
    world: World,
) -> None:
    event = return_submitted(defective=True)
    refusing = HeldForOneRecipient(world.sender, "lea.dupont@example.com", refusals=1)
    refusing.release.set()
    notifier = _member(world, "notifier", refusing)

    with pytest.raises(ConnectionError):
        await notifier.on_return_submitted(event)
    assert len(_to_customer_service(world)) == 1
    assert world.sent_emails.records[_key(event)].status == "sent"
    assert _to_customer(world) == []

    await notifier.on_return_submitted(event)  # the redelivery

    assert len(_to_customer_service(world)) == 1
    assert len(_to_customer(world)) == 1


async def test_two_members_holding_one_message_send_its_email_once(world: World) -> None:
    """A rebalance gave the message to a second member while the first was still sending."""
    event = return_submitted(defective=False)
    held = HeldSender(world.sender)
    first = _member(world, "first", held)
    second = _member(world, "second", world.sender)
    sending = asyncio.create_task(first.on_return_submitted(event))
    await held.entered.wait()

    with pytest.raises(SendInProgress) as raised:
        await second.on_return_submitted(event)
    assert isinstance(raised.value, Unavailable)  # the consumer waits, it does not give up
    held.release.set()
    await sending
    await second.on_return_submitted(event)  # its retry finds the e-mail sent

    assert len(world.sender.sent) == 1
    assert len(world.publisher.published) == 1


async def test_a_lease_whose_holder_died_is_taken_over_with_the_same_message_id(
    world: World,
) -> None:
    event = return_submitted(defective=False)
    key = email_key(event.event_id, CUSTOMER_RETURN_CONFIRMATION)
    world.sender.failures = 1
    with pytest.raises(ConnectionError):
        await world.notifier.on_return_submitted(event)  # dies after taking the lease
    later = FakeClock(START, tick=timedelta(seconds=1))
    later.now = START + timedelta(minutes=5)
    await _member(world, "second", world.sender, later).on_return_submitted(event)

    [email] = world.sender.sent
    assert email.message_id == message_id_for(event.event_id, CUSTOMER_RETURN_CONFIRMATION, DOMAIN)
    assert world.sent_emails.records[key].status == "sent"


async def test_an_instance_restarted_after_dying_with_the_lease_takes_it_back_at_once(
    world: World,
) -> None:
    """kill -9 while sending: the same instance (same CONSUMER_INSTANCE_ID) restarted a second
    later sends at once, while another instance still waits for the lease to end."""
    event = return_submitted(defective=False)
    dying = HeldSender(world.sender)
    sending = asyncio.create_task(_member(world, "notifier-8003", dying).on_return_submitted(event))
    await dying.entered.wait()
    sending.cancel()  # the process is gone: nothing of it runs any more
    a_second_later = FakeClock(START + timedelta(seconds=1), tick=timedelta(seconds=1))

    with pytest.raises(SendInProgress):
        await _member(world, "notifier-8004", world.sender, a_second_later).on_return_submitted(
            event
        )
    assert world.sender.sent == []
    await _member(world, "notifier-8003", world.sender, a_second_later).on_return_submitted(event)

    [email] = world.sender.sent
    assert email.message_id == message_id_for(event.event_id, CUSTOMER_RETURN_CONFIRMATION, DOMAIN)


# --- failures --------------------------------------------------------------------------------


async def test_an_unknown_merchant_is_retried_not_dead_lettered() -> None:
    world = World()

    with pytest.raises(MerchantNotKnownYet) as raised:
        await world.notifier.on_return_submitted(return_submitted(defective=True))

    assert isinstance(raised.value, NotYet)
    assert not isinstance(raised.value, PermanentError)
    assert world.sent_emails.records == {}
    assert world.sender.sent == []


async def test_an_undeliverable_customer_service_address_is_a_permanent_error() -> None:
    world = World()
    update = merchant_updated()
    broken = update.model_copy(
        update={"payload": update.payload.model_copy(update={"customer_service_email": "sav@x"})}
    )
    await world.notifier.record_merchant(broken)

    with pytest.raises(InvalidRecipient) as raised:
        await world.notifier.on_return_submitted(return_submitted(defective=True))

    assert isinstance(raised.value, PermanentError)
    assert "'sav@x' is not deliverable" in str(raised.value)
    # The customer still hears from us; only the customer-service e-mail is missing.
    assert [email.recipient for email in world.sender.sent] == ["lea.dupont@example.com"]
    assert all(
        record.template != CUSTOMER_SERVICE_DEFECTIVE
        for record in world.sent_emails.records.values()
    )


async def test_media_down_is_an_outage_to_wait_for_and_nothing_goes_half_written(
    world: World,
) -> None:
    event = return_submitted(defective=True)
    world.photos.down = True

    with pytest.raises(Unavailable):
        await world.notifier.on_return_submitted(event)
    assert _to_customer_service(world) == []

    world.photos.down = False
    await world.notifier.on_return_submitted(event)

    assert len(_to_customer_service(world)) == 1
    assert len(_to_customer(world)) == 1


async def test_a_photo_of_another_merchant_is_not_linked(world: World) -> None:
    world.photos.known["media-2"] = "m-other"

    await world.notifier.on_return_submitted(return_submitted(defective=True))

    [email] = _to_customer_service(world)
    assert "media-1/full" in email.text
    assert "media-2/full" not in email.text
    assert "Photo media-2 introuvable" in email.text


async def test_thumbnails_travel_inside_the_email_and_links_point_to_media(world: World) -> None:
    event = return_submitted(defective=True)
    world.photos.thumbnails_gone.add("media-2")

    await world.notifier.on_return_submitted(event)

    [email] = _to_customer_service(world)
    [image] = email.inline_images
    assert image.content_id == f"thumb-1.{event.event_id}@{DOMAIN}"
    assert (image.content_type, image.data) == ("image/jpeg", b"jpeg of media-1")
    assert f'src="cid:{image.content_id}"' in email.html
    # A thumbnail that cannot be carried is shown from media's link instead.
    assert 'src="https://media.test/p/media-2/thumb?sig=x"' in email.html
    assert 'href="https://media.test/p/media-1/full?sig=x"' in email.html


# --- the label e-mail ------------------------------------------------------------------------

PDF = b"%PDF-1.4\n% a label\n%%EOF\n"


async def test_a_label_is_emailed_to_the_customer_with_the_pdf_attached(world: World) -> None:
    await world.notifier.on_return_submitted(return_submitted(defective=False, locale="en"))
    label = label_generated()
    world.labels.files[label.payload.download_url] = PDF
    world.sender.sent.clear()

    [record] = await world.notifier.on_label_generated(label)

    assert record.template == CUSTOMER_LABEL
    [email] = world.sender.sent
    assert email.recipient == "lea.dupont@example.com"
    assert email.subject == "L'Atelier: your return label (order CMD-2026-0042)"
    [attachment] = email.attachments
    assert attachment.filename == "return-label-CMD-2026-0042.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.data == PDF
    assert label.payload.download_url in email.text
    assert len(_notifications(world, CUSTOMER_LABEL)) == 1


async def test_a_redelivered_label_sends_nothing_more_and_downloads_nothing(world: World) -> None:
    await world.notifier.on_return_submitted(return_submitted(defective=False))
    label = label_generated()
    world.labels.files[label.payload.download_url] = PDF

    await world.notifier.on_label_generated(label)
    await world.notifier.on_label_generated(label)

    assert len(world.labels.downloads) == 1
    assert len([e for e in world.sender.sent if e.attachments]) == 1


async def test_a_label_before_its_return_waits_for_it(world: World) -> None:
    with pytest.raises(ReturnNotKnownYet) as raised:
        await world.notifier.on_label_generated(label_generated())

    # A wait with its own horizon (minutes), not an attempt towards the DLQ.
    assert isinstance(raised.value, NotYet)
    assert not isinstance(raised.value, PermanentError)
    assert world.sender.sent == []


async def test_a_label_sent_once_its_return_arrives_after_waiting(world: World) -> None:
    label = label_generated()
    world.labels.files[label.payload.download_url] = b"%PDF-1.4 label"
    for _ in range(20):  # more tries than the attempt bound: none of them is a failure
        with pytest.raises(NotYet):
            await world.notifier.on_label_generated(label)
    await world.notifier.on_return_submitted(return_submitted(defective=False))

    await world.notifier.on_label_generated(label)

    assert [e.recipient for e in world.sender.sent if e.attachments] == ["lea.dupont@example.com"]


async def test_a_label_for_a_return_of_another_merchant_is_poison_not_a_wait(
    world: World,
) -> None:
    await world.notifier.on_return_submitted(return_submitted(defective=False))
    label = label_generated()
    forged = label.model_copy(update={"merchant_id": "m-someone-else"})

    with pytest.raises(ReturnOfAnotherMerchant) as raised:
        await world.notifier.on_label_generated(forged)

    assert isinstance(raised.value, PermanentError)
    assert not [e for e in world.sender.sent if e.attachments]


async def test_a_label_that_is_not_a_pdf_is_a_permanent_error(world: World) -> None:
    await world.notifier.on_return_submitted(return_submitted(defective=False))
    label = label_generated()
    world.labels.files[label.payload.download_url] = b"<html>login</html>"

    with pytest.raises(PermanentError):
        await world.notifier.on_label_generated(label)

    assert not [e for e in world.sender.sent if e.attachments]
