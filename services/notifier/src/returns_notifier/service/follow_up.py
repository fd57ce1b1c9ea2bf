"""The e-mails of a question to the customer and their answer (issue 15, item 3), on the
notifier's one delivery path: each once per (event, template), recorded before it leaves, a
NotificationSent after, thumbnails carried in the e-mail like the defective-return one's.

Both are written in the merchant's language (R15), to the customer for a question and to the
merchant's customer service for an answer.
"""

from __future__ import annotations

from returns_contracts import CustomerAnswered, InformationRequested
from returns_notifier.domain.emails import (
    EmailIntent,
    Mailbox,
    OutgoingEmail,
    SentEmail,
    is_deliverable_address,
    one_line,
)
from returns_notifier.domain.follow_up_emails import (
    answer_context,
    intents_for_customer_answered,
    intents_for_information_requested,
    question_context,
)
from returns_notifier.domain.model import ReturnRecord
from returns_notifier.service.errors import ReturnNotKnownYet
from returns_notifier.service.use_cases import (
    Cause,
    Notifier,
    _customer_service_mailbox,
    compose_email,
)


class FollowUpMails:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    async def _record(self, merchant_id: str, return_id: str) -> ReturnRecord:
        record = await self.notifier.returns.get(return_id)
        if record is None or record.merchant_id != merchant_id:
            # The question can only follow the return; our copy of it may still be on its way.
            raise ReturnNotKnownYet(return_id)
        return record

    async def on_information_requested(self, event: InformationRequested) -> list[SentEmail]:
        """E-mail the customer support's question with the link to answer it, once."""
        payload = event.payload
        record = await self._record(event.merchant_id, payload.return_id)
        merchant = await self.notifier._merchant(event.merchant_id)
        cause = Cause(event.event_id, event.merchant_id, payload.return_id, event.correlation_id)

        async def compose(intent: EmailIntent, recipient: str, message_id: str) -> OutgoingEmail:
            return compose_email(
                self.notifier.renderer,
                self.notifier.mail_from,
                intent.template,
                merchant.locale,
                question_context(record, payload, merchant, merchant.locale),
                merchant=merchant,
                recipient=recipient,
                message_id=message_id,
                reply_to=_customer_service_mailbox(merchant),
                order_number=record.order_number,
                customer_name=record.customer_name,
                attachments=(),
            )

        recipients = {"customer": record.customer_email}
        return await self.notifier._deliver_all(
            cause, intents_for_information_requested(), recipients, compose
        )

    async def on_customer_answered(self, event: CustomerAnswered) -> list[SentEmail]:
        """E-mail customer service the customer's answer with a link to every new photo."""
        payload = event.payload
        record = await self._record(event.merchant_id, payload.return_id)
        merchant = await self.notifier._merchant(event.merchant_id)
        cause = Cause(event.event_id, event.merchant_id, payload.return_id, event.correlation_id)
        customer = Mailbox(record.customer_email, one_line(record.customer_name))

        async def compose(intent: EmailIntent, recipient: str, message_id: str) -> OutgoingEmail:
            photos, inline, images = await self.notifier.photos_for_email(
                cause, list(dict.fromkeys(payload.media_ids))
            )
            return compose_email(
                self.notifier.renderer,
                self.notifier.mail_from,
                intent.template,
                merchant.locale,
                answer_context(record, payload, merchant, merchant.locale, photos, inline),
                merchant=merchant,
                recipient=recipient,
                message_id=message_id,
                reply_to=customer if is_deliverable_address(customer.address) else None,
                order_number=record.order_number,
                customer_name=record.customer_name,
                attachments=(),
                inline_images=images,
            )

        recipients = {"customer_service": merchant.customer_service_email}
        return await self.notifier._deliver_all(
            cause, intents_for_customer_answered(), recipients, compose
        )
