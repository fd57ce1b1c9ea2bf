"""The composition root on in-memory fakes: what the settings say reaches the use cases (the
sending address, the Message-ID domain, the send lease), and the clock is the injected one."""

from __future__ import annotations

from datetime import timedelta

from returns_contracts import NotificationSent
from returns_contracts.examples import merchant_updated, return_submitted
from returns_notifier.config import NotifierSettings
from returns_notifier.domain.emails import CUSTOMER_SERVICE_DEFECTIVE, email_key

from .fakes import START, World

SETTINGS = NotifierSettings(
    mail_from="Shop returns <ship@mail.example>",
    message_id_domain="mail.example",
    send_lease_seconds=7,
)


async def test_the_settings_reach_every_email_the_container_sends() -> None:
    world = World(SETTINGS)
    await world.notifier.record_merchant(merchant_updated())
    event = return_submitted(defective=True)

    await world.notifier.on_return_submitted(event)

    assert len(world.sender.sent) == 2  # customer service and the customer (R9)
    for email in world.sender.sent:
        assert email.sender.address == "ship@mail.example"
        assert email.message_id.endswith("@mail.example>")
    published = [m for m in world.publisher.published if isinstance(m, NotificationSent)]
    assert len(published) == 2


async def test_the_send_lease_and_the_clock_come_from_the_container() -> None:
    world = World(SETTINGS)
    await world.notifier.record_merchant(merchant_updated())
    event = return_submitted(defective=True)

    await world.notifier.on_return_submitted(event)

    key = email_key(event.event_id, CUSTOMER_SERVICE_DEFECTIVE)
    owner, until = world.sent_emails.leases[key]
    record = world.sent_emails.records[key]
    assert record.sent_at is not None and START <= record.sent_at < START + timedelta(minutes=1)
    # The lease runs for the configured seconds from the moment it was claimed (fake clock).
    assert timedelta(seconds=7) <= until - START <= timedelta(seconds=7 + 60)
    assert owner == world.notifier.owner
