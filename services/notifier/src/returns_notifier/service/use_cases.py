"""Use cases of the notifier: keep a copy of each merchant and return, send the e-mails each
message calls for.

Sending is at-least-once towards SMTP and exactly-once as far as a redelivery goes: the intent
is recorded (status "sending") before the e-mail leaves and marked "sent" after, so a redelivered
message finds it and does not send again. Only a crash between the SMTP acceptance and the "sent"
write can send twice, and then with the same Message-ID, so mail clients show one e-mail.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from returns_contracts import (
    LabelGenerated,
    Locale,
    MerchantUpdated,
    NotificationSent,
    NotificationSentPayload,
    ReturnResolved,
    ReturnSubmitted,
)
from returns_contracts.service_kit.clock import Clock, utc_now
from returns_contracts.service_kit.kafka import PermanentError
from returns_contracts.service_kit.publisher import EventPublisher
from returns_notifier.domain.emails import (
    CUSTOMER_SERVICE_DEFECTIVE,
    EmailIntent,
    Mailbox,
    OutgoingEmail,
    SentEmail,
    customer_return_context,
    customer_service_context,
    email_key,
    intents_for_label_generated,
    intents_for_return_submitted,
    is_deliverable_address,
    label_context,
    label_filename,
    message_id_for,
    next_step,
    notification_event_id,
    one_line,
    photo_ids_of,
    sender_for,
    subject_for,
    thumbnail_content_id,
    with_brand,
)
from returns_notifier.domain.model import (
    Attachment,
    InlineImage,
    Merchant,
    PhotoLink,
    ReturnRecord,
)
from returns_notifier.domain.resolution_emails import (
    resolution_context,
    resolution_email_templates,
)
from returns_notifier.service.errors import (
    InvalidRecipient,
    MerchantNotKnownYet,
    ReturnNotKnownYet,
    ReturnOfAnotherMerchant,
    SendInProgress,
)
from returns_notifier.service.ports import (
    DeliveryMetrics,
    EmailRenderer,
    EmailSender,
    LabelFiles,
    MerchantStore,
    NoDeliveryMetrics,
    PhotoDirectory,
    ReturnStore,
    SentEmailStore,
)

PRODUCER = "notifier"
PDF_MAGIC = b"%PDF-"

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Cause:
    """The message an e-mail answers: what its record and its NotificationSent refer to."""

    event_id: UUID
    merchant_id: str
    return_id: str
    correlation_id: str
    # When the return was submitted, for the end-to-end time of its e-mails (None: not known).
    submitted_at: datetime | None = None


Compose = Callable[[str], Awaitable[OutgoingEmail]]
"""Builds the e-mail for a Message-ID; called only when the e-mail is really to be sent."""


class Notifier:
    def __init__(
        self,
        *,
        merchants: MerchantStore,
        returns: ReturnStore,
        sent_emails: SentEmailStore,
        sender: EmailSender,
        renderer: EmailRenderer,
        publisher: EventPublisher,
        photos: PhotoDirectory,
        labels: LabelFiles,
        mail_from: str,
        message_id_domain: str,
        clock: Clock = utc_now,
        send_lease: timedelta = timedelta(seconds=60),
        owner: str | None = None,
        metrics: DeliveryMetrics | None = None,
    ) -> None:
        self.merchants = merchants
        self.returns = returns
        self.sent_emails = sent_emails
        self.sender = sender
        self.renderer = renderer
        self.publisher = publisher
        self.photos = photos
        self.labels = labels
        self.mail_from = mail_from
        self.message_id_domain = message_id_domain
        self.clock = clock
        # Longer than one try at sending (compose, then SMTP within its timeout); a holder that
        # died is taken over when it ends, with the same Message-ID.
        self.send_lease = send_lease
        self.owner = owner or uuid4().hex
        self.metrics = metrics or NoDeliveryMetrics()

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
        payload = event.payload
        await self.returns.save(ReturnRecord.from_payload(event.merchant_id, payload))
        merchant = await self._merchant(event.merchant_id)
        cause = Cause(
            event.event_id,
            event.merchant_id,
            payload.return_id,
            event.correlation_id,
            submitted_at=payload.submitted_at,
        )
        customer = Mailbox(payload.customer.email, one_line(payload.customer.name))

        async def compose(intent: EmailIntent, recipient: str, message_id: str) -> OutgoingEmail:
            locale = payload.locale
            attachments: tuple[Attachment, ...] = ()
            inline_images: tuple[InlineImage, ...] = ()
            if intent.template == CUSTOMER_SERVICE_DEFECTIVE:
                photos, inline_thumbnails, inline_images = await self.photos_for_email(
                    cause, photo_ids_of(payload)
                )
                context = customer_service_context(
                    payload, merchant, locale, photos, inline_thumbnails
                )
                reply_to = customer if is_deliverable_address(customer.address) else None
            else:
                context = customer_return_context(payload, merchant, locale)
                reply_to = _customer_service_mailbox(merchant)
            return compose_email(
                self.renderer,
                self.mail_from,
                intent.template,
                locale,
                context,
                merchant=merchant,
                recipient=recipient,
                message_id=message_id,
                reply_to=reply_to,
                order_number=payload.order_number,
                customer_name=payload.customer.name,
                attachments=attachments,
                inline_images=inline_images,
            )

        recipients = {
            "customer_service": merchant.customer_service_email,
            "customer": payload.customer.email,
        }
        return await self._deliver_all(
            cause, intents_for_return_submitted(payload), recipients, compose
        )

    async def on_label_generated(self, event: LabelGenerated) -> list[SentEmail]:
        """E-mail the customer their label, attached and linked (R10, R11), once per label."""
        label = event.payload
        record = await self.returns.get(label.return_id)
        if record is None:
            # Labels reads ReturnSubmitted too and may be quicker than us: wait for our copy.
            raise ReturnNotKnownYet(label.return_id)
        if record.merchant_id != event.merchant_id:
            raise ReturnOfAnotherMerchant(
                f"label {label.label_id} is for return {label.return_id} of merchant "
                f"{event.merchant_id!r}, which the notifier knows under another merchant"
            )
        merchant = await self._merchant(event.merchant_id)
        cause = Cause(event.event_id, event.merchant_id, label.return_id, event.correlation_id)

        async def compose(intent: EmailIntent, recipient: str, message_id: str) -> OutgoingEmail:
            pdf = await self.labels.download(label.download_url)
            if not pdf.startswith(PDF_MAGIC):
                raise PermanentError(
                    f"the label {label.label_id} of return {label.return_id} is not a PDF"
                )
            attachment = Attachment(
                filename=label_filename(record.order_number, record.locale),
                content_type="application/pdf",
                data=pdf,
            )
            return compose_email(
                self.renderer,
                self.mail_from,
                intent.template,
                record.locale,
                label_context(record, label, merchant),
                merchant=merchant,
                recipient=recipient,
                message_id=message_id,
                reply_to=_customer_service_mailbox(merchant),
                order_number=record.order_number,
                customer_name=record.customer_name,
                attachments=(attachment,),
            )

        recipients = {"customer": record.customer_email}
        return await self._deliver_all(cause, intents_for_label_generated(), recipients, compose)

    async def on_return_resolved(self, event: ReturnResolved) -> list[SentEmail]:
        """E-mail the customer the merchant's resolution of their defective return, once per
        event (issue 15). A label resolution's e-mail is the label e-mail (LabelGenerated)."""
        resolved = event.payload
        templates = resolution_email_templates(resolved)
        if not templates:
            return []
        record = await self.returns.get(resolved.return_id)
        if record is None or record.merchant_id != event.merchant_id:
            raise ReturnNotKnownYet(resolved.return_id)
        merchant = await self._merchant(event.merchant_id)
        cause = Cause(event.event_id, event.merchant_id, resolved.return_id, event.correlation_id)

        async def compose(intent: EmailIntent, recipient: str, message_id: str) -> OutgoingEmail:
            return compose_email(
                self.renderer,
                self.mail_from,
                intent.template,
                record.locale,
                with_brand(merchant, resolution_context(record, resolved, merchant)),
                merchant=merchant,
                recipient=recipient,
                message_id=message_id,
                reply_to=_customer_service_mailbox(merchant),
                order_number=record.order_number,
                customer_name=record.customer_name,
                attachments=(),
            )

        intents = [EmailIntent(template, "customer") for template in templates]
        recipients = {"customer": record.customer_email}
        return await self._deliver_all(cause, intents, recipients, compose)

    async def photos_for_email(
        self, cause: Cause, photo_ids: list[str]
    ) -> tuple[dict[str, PhotoLink], dict[str, str], tuple[InlineImage, ...]]:
        """Media's links to the photos, the thumbnails the e-mail carries and, for each photo
        carried, its Content-ID. A photo media does not know is logged, and listed by the
        e-mail without link; one whose thumbnail cannot be fetched is shown from its link."""
        photos = await self.photos.lookup(cause.merchant_id, photo_ids)
        missing = [photo_id for photo_id in photo_ids if photo_id not in photos]
        if missing:
            logger.warning(
                "photos unknown to media, listed without link",
                extra={"return_id": cause.return_id, "photo_ids": missing},
            )
        inline: dict[str, str] = {}
        images: list[InlineImage] = []
        for photo_id in photo_ids:
            if photo_id not in photos:
                continue
            thumbnail = await self.photos.thumbnail(photos[photo_id])
            if thumbnail is None:
                continue
            content_id = thumbnail_content_id(
                cause.event_id, len(images) + 1, self.message_id_domain
            )
            images.append(InlineImage(content_id, thumbnail[0], thumbnail[1]))
            inline[photo_id] = content_id
        return photos, inline, tuple(images)

    async def _merchant(self, merchant_id: str) -> Merchant:
        merchant = await self.merchants.get(merchant_id)
        if merchant is None:
            raise MerchantNotKnownYet(merchant_id)
        return merchant

    async def _deliver_all(
        self,
        cause: Cause,
        intents: list[EmailIntent],
        recipients: dict[str, str],
        compose: Callable[[EmailIntent, str, str], Awaitable[OutgoingEmail]],
    ) -> list[SentEmail]:
        """Deliver the intents side by side; one that fails does not stop the others.

        Side by side so customer service's e-mail about a defective return (R9) does not wait
        for the customer's acknowledgement to be sent, recorded and announced first. A failure
        to retry (SMTP or the store away) is raised once every intent has had its try, so the
        redelivery sends only what is still missing; otherwise the first permanent failure is
        raised, so the message is dead-lettered with its reason.
        """
        deliveries = [
            self._deliver_intent(cause, intent, recipients[intent.recipient], compose)
            for intent in intents
        ]
        outcomes = await asyncio.gather(*deliveries, return_exceptions=True)
        done = [outcome for outcome in outcomes if isinstance(outcome, SentEmail)]
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        to_retry = [failure for failure in failures if not isinstance(failure, PermanentError)]
        if to_retry:
            raise to_retry[0]
        if failures:
            for later in failures[1:]:
                logger.error("e-mail cannot be sent", extra={"error": str(later)})
            raise failures[0]
        return done

    async def _deliver_intent(
        self,
        cause: Cause,
        intent: EmailIntent,
        address: str,
        compose: Callable[[EmailIntent, str, str], Awaitable[OutgoingEmail]],
    ) -> SentEmail:
        if not is_deliverable_address(address):
            raise InvalidRecipient(
                f"cannot send {intent.template} for return {cause.return_id}: "
                f"{intent.recipient} address {address!r} is not deliverable"
            )

        async def build(message_id: str) -> OutgoingEmail:
            return await compose(intent, address, message_id)

        return await self._deliver(cause, intent.template, address, build)

    async def _deliver(
        self, cause: Cause, template: str, recipient: str, compose: Compose
    ) -> SentEmail:
        planned = SentEmail(
            key=email_key(cause.event_id, template),
            event_id=cause.event_id,
            template=template,
            merchant_id=cause.merchant_id,
            return_id=cause.return_id,
            recipient=recipient,
            message_id=message_id_for(cause.event_id, template, self.message_id_domain),
            status="sending",
            created_at=self.clock(),
        )
        # Two members of the group can hold the same message at once (a rebalance after one
        # stayed busy past max.poll.interval.ms): the lease lets one of them send. The record's
        # creator holds it from the start; whoever finds the record already there claims it.
        now = self.clock()
        record, leased = await self.sent_emails.begin(planned, (self.owner, now + self.send_lease))
        step = next_step(record)
        if step == "done":
            logger.info("e-mail already sent", extra=_log_fields(record))
            return record
        if step == "send":
            if not leased and not await self.sent_emails.claim(
                record.key, self.owner, now, now + self.send_lease
            ):
                raise SendInProgress(f"another consumer is sending {record.key}")
            # A record left "sending" by a crash keeps its Message-ID.
            email = await compose(record.message_id)
            try:
                await self.sender.send(email)
            except Exception:
                self.metrics.failed(template)
                raise
            sent_at = self.clock()
            self.metrics.sent(
                template, None if cause.submitted_at is None else sent_at - cause.submitted_at
            )
            await self.sent_emails.mark_sent(record.key, recipient, sent_at)
            record = dataclasses.replace(
                record, status="sent", recipient=recipient, sent_at=sent_at
            )
            logger.info("e-mail sent", extra=_log_fields(record))
        await self.publisher.publish(notification_sent(cause, record))
        published_at = self.clock()
        await self.sent_emails.mark_published(record.key, published_at)
        return dataclasses.replace(record, published_at=published_at)


def compose_email(
    renderer: EmailRenderer,
    mail_from: str,
    template: str,
    locale: Locale,
    context: dict[str, object],
    *,
    merchant: Merchant,
    recipient: str,
    message_id: str,
    reply_to: Mailbox | None,
    order_number: str,
    customer_name: str,
    attachments: tuple[Attachment, ...],
    inline_images: tuple[InlineImage, ...] = (),
) -> OutgoingEmail:
    """One e-mail from a template's context: its body, sender, subject and parts (also what
    `scripts/render_bench.py` times)."""
    body = renderer.render(template, locale, context)
    return OutgoingEmail(
        message_id=message_id,
        sender=sender_for(mail_from, merchant.name),
        recipient=recipient,
        reply_to=reply_to,
        subject=subject_for(
            template,
            locale,
            order_number=order_number,
            customer=customer_name,
            merchant=merchant.name,
        ),
        text=body.text,
        html=body.html,
        attachments=attachments,
        inline_images=inline_images,
    )


def _customer_service_mailbox(merchant: Merchant) -> Mailbox | None:
    """Customers' replies go to the merchant's customer service, not to this service."""
    address = merchant.customer_service_email
    return Mailbox(address, one_line(merchant.name)) if is_deliverable_address(address) else None


def notification_sent(cause: Cause, record: SentEmail) -> NotificationSent:
    """The timeline event about one sent e-mail (R14); identical on every republish."""
    return NotificationSent(
        event_id=notification_event_id(record.event_id, record.template),
        occurred_at=record.sent_at or record.created_at,
        merchant_id=cause.merchant_id,
        correlation_id=cause.correlation_id,
        producer=PRODUCER,
        payload=NotificationSentPayload(
            return_id=cause.return_id,
            template=record.template,
            recipient=record.recipient,
            message_id=record.message_id,
            caused_by_event_id=cause.event_id,
        ),
    )


def _log_fields(record: SentEmail) -> dict[str, object]:
    return {
        "event_id": str(record.event_id),
        "template": record.template,
        "return_id": record.return_id,
        "message_id": record.message_id,
    }
