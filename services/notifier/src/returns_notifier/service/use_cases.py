"""Use cases of the notifier: keep a copy of each merchant, send the e-mails a return calls for.

Sending is at-least-once towards SMTP and exactly-once as far as a redelivery goes: the intent
is recorded (status "sending") before the e-mail leaves and marked "sent" after, so a redelivered
message finds it and does not send again. Only a crash between the SMTP acceptance and the "sent"
write can send twice, and then with the same Message-ID, so mail clients show one e-mail.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from returns_contracts import (
    MerchantUpdated,
    NotificationSent,
    NotificationSentPayload,
    ReturnSubmitted,
)
from returns_notifier.domain.emails import (
    CUSTOMER_SERVICE_DEFECTIVE,
    EmailIntent,
    Mailbox,
    OutgoingEmail,
    SentEmail,
    customer_service_context,
    email_key,
    intents_for_return_submitted,
    is_deliverable_address,
    message_id_for,
    next_step,
    notification_event_id,
    one_line,
    subject_for,
)
from returns_notifier.domain.model import Merchant
from returns_notifier.service.errors import InvalidRecipient, MerchantNotKnownYet
from returns_notifier.service.ports import (
    EmailRenderer,
    EmailSender,
    EventPublisher,
    MerchantStore,
    SentEmailStore,
)

PRODUCER = "notifier"

logger = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Notifier:
    def __init__(
        self,
        *,
        merchants: MerchantStore,
        sent_emails: SentEmailStore,
        sender: EmailSender,
        renderer: EmailRenderer,
        publisher: EventPublisher,
        mail_from: str,
        message_id_domain: str,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.merchants = merchants
        self.sent_emails = sent_emails
        self.sender = sender
        self.renderer = renderer
        self.publisher = publisher
        self.mail_from = mail_from
        self.message_id_domain = message_id_domain
        self.clock = clock

    async def record_merchant(self, update: MerchantUpdated) -> bool:
        """Keep the merchant's newest snapshot; an older or repeated revision changes nothing."""
        stored = await self.merchants.save_if_newer(update)
        if not stored:
            logger.info(
                "merchant snapshot ignored: not newer than ours",
                extra={"merchant_id": update.merchant_id, "revision": update.payload.revision},
            )
        return stored

    async def on_return_submitted(self, event: ReturnSubmitted) -> list[SentEmail]:
        """Send every e-mail the return calls for, each once; returns what was done."""
        done: list[SentEmail] = []
        for intent in intents_for_return_submitted(event.payload):
            done.append(await self._deliver(event, intent))
        return done

    async def _deliver(self, event: ReturnSubmitted, intent: EmailIntent) -> SentEmail:
        merchant = await self.merchants.get(event.merchant_id)
        if merchant is None:
            raise MerchantNotKnownYet(event.merchant_id)
        recipient = self._recipient(event, intent, merchant)
        planned = SentEmail(
            key=email_key(event.event_id, intent.template),
            event_id=event.event_id,
            template=intent.template,
            merchant_id=event.merchant_id,
            return_id=event.payload.return_id,
            recipient=recipient,
            message_id=message_id_for(event.event_id, intent.template, self.message_id_domain),
            status="sending",
            created_at=self.clock(),
        )
        record = await self.sent_emails.begin(planned)
        step = next_step(record)
        if step == "done":
            logger.info("e-mail already sent", extra=_log_fields(record))
            return record
        if step == "send":
            # A record left "sending" by a crash keeps its Message-ID.
            email = self._compose(event, intent, merchant, recipient, record.message_id)
            await self.sender.send(email)
            sent_at = self.clock()
            await self.sent_emails.mark_sent(record.key, recipient, sent_at)
            record = dataclasses.replace(
                record, status="sent", recipient=recipient, sent_at=sent_at
            )
            logger.info("e-mail sent", extra=_log_fields(record))
        await self.publisher.publish(notification_sent(event, record))
        published_at = self.clock()
        await self.sent_emails.mark_published(record.key, published_at)
        return dataclasses.replace(record, published_at=published_at)

    def _recipient(self, event: ReturnSubmitted, intent: EmailIntent, merchant: Merchant) -> str:
        if intent.recipient == "customer_service":
            address = merchant.customer_service_email
        else:
            address = event.payload.customer.email
        if not is_deliverable_address(address):
            raise InvalidRecipient(
                f"cannot send {intent.template} for return {event.payload.return_id}: "
                f"{intent.recipient} address {address!r} is not deliverable"
            )
        return address

    def _compose(
        self,
        event: ReturnSubmitted,
        intent: EmailIntent,
        merchant: Merchant,
        recipient: str,
        message_id: str,
    ) -> OutgoingEmail:
        payload = event.payload
        locale = payload.locale
        if intent.template == CUSTOMER_SERVICE_DEFECTIVE:
            context = customer_service_context(payload, merchant.name, locale)
            customer = payload.customer
            reply_to = (
                Mailbox(address=customer.email, name=one_line(customer.name))
                if is_deliverable_address(customer.email)
                else None
            )
        else:
            raise ValueError(f"no wording for template {intent.template!r}")
        body = self.renderer.render(intent.template, locale, context)
        return OutgoingEmail(
            message_id=message_id,
            sender=self.mail_from,
            recipient=recipient,
            reply_to=reply_to,
            subject=subject_for(intent.template, locale, payload),
            text=body.text,
            html=body.html,
        )


def notification_sent(event: ReturnSubmitted, record: SentEmail) -> NotificationSent:
    """The timeline event about one sent e-mail (R14); identical on every republish."""
    return NotificationSent(
        event_id=notification_event_id(record.event_id, record.template),
        occurred_at=record.sent_at or record.created_at,
        merchant_id=event.merchant_id,
        correlation_id=event.correlation_id,
        producer=PRODUCER,
        payload=NotificationSentPayload(
            return_id=event.payload.return_id,
            template=record.template,
            recipient=record.recipient,
            message_id=record.message_id,
            caused_by_event_id=event.event_id,
        ),
    )


def _log_fields(record: SentEmail) -> dict[str, object]:
    return {
        "event_id": str(record.event_id),
        "template": record.template,
        "return_id": record.return_id,
        "message_id": record.message_id,
    }
