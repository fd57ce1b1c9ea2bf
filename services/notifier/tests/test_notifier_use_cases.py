"""The notifier's use cases against in-memory fakes of MongoDB, SMTP and Kafka."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from returns_contracts import MerchantUpdated, Message, NotificationSent, ReturnSubmitted
from returns_contracts.examples import merchant_updated, return_submitted
from returns_contracts.service_kit.kafka import PermanentError
from returns_notifier.adapters.rendering import JinjaRenderer
from returns_notifier.domain.emails import (
    CUSTOMER_SERVICE_DEFECTIVE,
    OutgoingEmail,
    SentEmail,
    email_key,
    message_id_for,
    notification_event_id,
)
from returns_notifier.domain.model import Merchant, is_newer
from returns_notifier.service.errors import InvalidRecipient, MerchantNotKnownYet
from returns_notifier.service.use_cases import Notifier

DOMAIN = "returns.test"
START = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)


class FakeMerchantStore:
    def __init__(self) -> None:
        self.snapshots: dict[str, MerchantUpdated] = {}

    async def save_if_newer(self, update: MerchantUpdated) -> bool:
        stored = self.snapshots.get(update.merchant_id)
        if not is_newer(
            update.payload.revision, None if stored is None else stored.payload.revision
        ):
            return False
        self.snapshots[update.merchant_id] = update
        return True

    async def get(self, merchant_id: str) -> Merchant | None:
        update = self.snapshots.get(merchant_id)
        return None if update is None else Merchant.from_snapshot(merchant_id, update.payload)


class FakeSentEmailStore:
    def __init__(self) -> None:
        self.records: dict[str, SentEmail] = {}

    async def begin(self, planned: SentEmail) -> SentEmail:
        return self.records.setdefault(planned.key, planned)

    async def mark_sent(self, key: str, recipient: str, sent_at: datetime) -> None:
        self.records[key] = replace(
            self.records[key], status="sent", recipient=recipient, sent_at=sent_at
        )

    async def mark_published(self, key: str, published_at: datetime) -> None:
        self.records[key] = replace(self.records[key], published_at=published_at)


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []
        self.failures = 0

    async def send(self, email: OutgoingEmail) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SMTP server went away")
        self.sent.append(email)


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[Message] = []

    async def publish(self, message: Message) -> None:
        self.published.append(message)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class World:
    def __init__(self) -> None:
        self.merchants = FakeMerchantStore()
        self.sent_emails = FakeSentEmailStore()
        self.sender = FakeSender()
        self.publisher = FakePublisher()
        self.notifier = Notifier(
            merchants=self.merchants,
            sent_emails=self.sent_emails,
            sender=self.sender,
            renderer=JinjaRenderer(),
            publisher=self.publisher,
            mail_from="Returns <returns@demo-shop.example>",
            message_id_domain=DOMAIN,
            clock=Clock(),
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

    [email] = world.sender.sent
    assert email.recipient == "sav@atelier.example.com"
    assert email.sender == "Returns <returns@demo-shop.example>"
    assert email.reply_to is not None and email.reply_to.address == "lea.dupont@example.com"
    assert email.subject == "[Retour défectueux] Commande CMD-2026-0042 - Léa Dupont"
    assert email.message_id == _message_id(event)
    assert "Arrivé cassé" in email.text and "Arrivé cassé" in email.html
    record = world.sent_emails.records[_key(event)]
    assert record.status == "sent" and record.sent_at is not None
    assert record.published_at is not None


async def test_the_email_sent_is_announced_by_a_notification_sent_event(world: World) -> None:
    event = return_submitted(defective=True)

    await world.notifier.on_return_submitted(event)

    [message] = world.publisher.published
    assert isinstance(message, NotificationSent)
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

    [email] = world.sender.sent
    assert email.subject == "[Defective return] Order CMD-2026-0042 - Léa Dupont"


async def test_a_classic_return_sends_nothing(world: World) -> None:
    done = await world.notifier.on_return_submitted(return_submitted(defective=False))

    assert done == []
    assert world.sender.sent == []
    assert world.publisher.published == []
    assert world.sent_emails.records == {}


async def test_a_redelivered_event_sends_nothing_more(world: World) -> None:
    event = return_submitted(defective=True)

    await world.notifier.on_return_submitted(event)
    await world.notifier.on_return_submitted(event)

    assert len(world.sender.sent) == 1
    assert len(world.publisher.published) == 1


async def test_an_email_recorded_as_sent_is_not_sent_again(world: World) -> None:
    event = return_submitted(defective=True)
    await world.notifier.on_return_submitted(event)
    world.sender.sent.clear()
    world.publisher.published.clear()

    [record] = await world.notifier.on_return_submitted(event)

    assert record.status == "sent"
    assert world.sender.sent == []
    assert world.publisher.published == []


async def test_a_sent_email_whose_event_may_not_have_left_is_only_announced_again(
    world: World,
) -> None:
    event = return_submitted(defective=True)
    await world.notifier.on_return_submitted(event)
    world.sender.sent.clear()
    [first] = world.publisher.published
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

    [email] = world.sender.sent
    assert email.message_id == "<recorded-before-the-crash@returns.test>"
    assert world.sent_emails.records[crashed.key].status == "sent"
    [message] = world.publisher.published
    assert isinstance(message, NotificationSent)
    assert message.payload.message_id == "<recorded-before-the-crash@returns.test>"


async def test_a_failed_send_leaves_the_intent_and_the_retry_sends_once(world: World) -> None:
    event = return_submitted(defective=True)
    world.sender.failures = 1

    with pytest.raises(ConnectionError):
        await world.notifier.on_return_submitted(event)
    assert world.sent_emails.records[_key(event)].status == "sending"
    assert world.publisher.published == []

    await world.notifier.on_return_submitted(event)

    [email] = world.sender.sent
    assert email.message_id == _message_id(event)
    assert world.sent_emails.records[_key(event)].status == "sent"
    assert len(world.publisher.published) == 1


# --- failures --------------------------------------------------------------------------------


async def test_an_unknown_merchant_is_retried_not_dead_lettered() -> None:
    world = World()

    with pytest.raises(MerchantNotKnownYet) as raised:
        await world.notifier.on_return_submitted(return_submitted(defective=True))

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
    assert world.sent_emails.records == {}
    assert world.sender.sent == []
