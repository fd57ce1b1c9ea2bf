"""CPU per e-mail of what the notifier does to write each kind of e-mail it sends: the context,
the Jinja rendering of both bodies, the MIME message and its checked wire bytes (no network).

    .venv/bin/python services/notifier/scripts/render_bench.py [--count 2000] [--locale fr]

The same functions the service's compose step calls (`Notifier._email` then `checked_wire`),
on the contract examples: a classic return's confirmation, a defective return's acknowledgement,
the customer-service e-mail with two inline thumbnails, and the label e-mail with its PDF.
Prints CPU milliseconds (time.process_time) per e-mail and kind, and how it splits between
rendering and writing the message. Not part of `make test`: a measuring tool (issue 11).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from returns_contracts import Locale
from returns_contracts.examples import label_generated, merchant_updated, return_submitted
from returns_notifier.adapters.rendering import JinjaRenderer
from returns_notifier.adapters.smtp import checked_wire
from returns_notifier.domain.emails import (
    CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT,
    CUSTOMER_LABEL,
    CUSTOMER_RETURN_CONFIRMATION,
    CUSTOMER_SERVICE_DEFECTIVE,
    Mailbox,
    OutgoingEmail,
    customer_return_context,
    customer_service_context,
    label_context,
    label_filename,
    photo_ids_of,
    thumbnail_content_id,
)
from returns_notifier.domain.model import (
    Attachment,
    InlineImage,
    Merchant,
    PhotoLink,
    ReturnRecord,
)
from returns_notifier.service.use_cases import compose_email

DOMAIN = "returns.bench"
MAIL_FROM = "Returns <returns@demo-shop.example>"
# Sizes seen in `make bench`: a 400 px JPEG thumbnail from media, a label PDF from labels.
THUMBNAIL_BYTES = 24_000
LABEL_PDF_BYTES = 30_000


@dataclass(frozen=True)
class Kind:
    name: str
    compose: Callable[[int], OutgoingEmail]


def _kinds(locale: Locale) -> list[Kind]:
    renderer = JinjaRenderer()
    merchant = Merchant.from_snapshot("m-atelier", merchant_updated().payload)
    classic = return_submitted(locale=locale)
    defective = return_submitted(defective=True, locale=locale)
    label = label_generated().payload
    record = ReturnRecord.from_payload("m-atelier", classic.payload)
    noise = random.Random(11)
    thumbnail = b"\xff\xd8\xff\xe0" + noise.randbytes(THUMBNAIL_BYTES)
    pdf = b"%PDF-1.4\n" + noise.randbytes(LABEL_PDF_BYTES)
    customer_service = Mailbox(merchant.customer_service_email, merchant.name)

    def outgoing(
        template: str,
        context: dict[str, object],
        serial: int,
        *,
        recipient: str,
        reply_to: Mailbox | None,
        customer_name: str,
        attachments: tuple[Attachment, ...] = (),
        inline_images: tuple[InlineImage, ...] = (),
    ) -> OutgoingEmail:
        return compose_email(
            renderer,
            MAIL_FROM,
            template,
            locale,
            context,
            merchant=merchant,
            recipient=recipient,
            message_id=f"<bench-{serial}.{template}@{DOMAIN}>",
            reply_to=reply_to,
            order_number=classic.payload.order_number,
            customer_name=customer_name,
            attachments=attachments,
            inline_images=inline_images,
        )

    def confirmation(serial: int) -> OutgoingEmail:
        context = customer_return_context(classic.payload, merchant, locale)
        return outgoing(
            CUSTOMER_RETURN_CONFIRMATION,
            context,
            serial,
            recipient=_customer(serial),
            reply_to=customer_service,
            customer_name=classic.payload.customer.name,
        )

    def acknowledgement(serial: int) -> OutgoingEmail:
        context = customer_return_context(defective.payload, merchant, locale)
        return outgoing(
            CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT,
            context,
            serial,
            recipient=_customer(serial),
            reply_to=customer_service,
            customer_name=defective.payload.customer.name,
        )

    def customer_service_email(serial: int) -> OutgoingEmail:
        photo_ids = photo_ids_of(defective.payload)
        photos = {
            photo_id: PhotoLink(
                photo_id,
                f"https://media.example.com/{photo_id}/full?sig=x",
                f"https://media.example.com/{photo_id}/thumb?sig=x",
            )
            for photo_id in photo_ids
        }
        inline = {
            photo_id: thumbnail_content_id(defective.event_id, index, DOMAIN)
            for index, photo_id in enumerate(photo_ids, start=1)
        }
        images = tuple(InlineImage(cid, "image/jpeg", thumbnail) for cid in inline.values())
        context = customer_service_context(defective.payload, merchant, locale, photos, inline)
        customer = defective.payload.customer
        return outgoing(
            CUSTOMER_SERVICE_DEFECTIVE,
            context,
            serial,
            recipient=merchant.customer_service_email,
            reply_to=Mailbox(_customer(serial), f"{customer.name} {serial}"),
            customer_name=customer.name,
            inline_images=images,
        )

    def label_email(serial: int) -> OutgoingEmail:
        attachment = Attachment(label_filename(record.order_number, locale), "application/pdf", pdf)
        return outgoing(
            CUSTOMER_LABEL,
            label_context(record, label, merchant),
            serial,
            recipient=_customer(serial),
            reply_to=customer_service,
            customer_name=record.customer_name,
            attachments=(attachment,),
        )

    return [
        Kind(CUSTOMER_RETURN_CONFIRMATION, confirmation),
        Kind(CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT, acknowledgement),
        Kind(CUSTOMER_SERVICE_DEFECTIVE, customer_service_email),
        Kind(CUSTOMER_LABEL, label_email),
    ]


def _customer(serial: int) -> str:
    """A customer per e-mail, as in the service: only the merchant's headers repeat."""
    return f"lea.dupont+{serial}@example.com"


def _cpu_ms(count: int, work: Callable[[int], object]) -> float:
    work(0)  # templates compiled, caches warm: the service's steady state
    start = time.process_time()
    for serial in range(count):
        work(serial)
    return (time.process_time() - start) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="e-mails of each kind")
    parser.add_argument("--locale", choices=["fr", "en"], default="fr")
    parser.add_argument("--only", help="one kind (template name), e.g. for a profile")
    arguments = parser.parse_args()
    print(f"CPU ms per e-mail, {arguments.count} of each kind, locale {arguments.locale}")
    print(f"{'kind':36} {'total':>7} {'compose':>8} {'wire':>7} {'bytes':>7}")
    for kind in _kinds(arguments.locale):
        if arguments.only and kind.name != arguments.only:
            continue
        _report(kind, arguments.count)


def _report(kind: Kind, count: int) -> None:
    sample = kind.compose(0)
    size = len(_wire(sample))
    total = _cpu_ms(count, lambda serial: _wire(kind.compose(serial)))
    compose = _cpu_ms(count, kind.compose)
    wire = _cpu_ms(count, lambda _: _wire(sample))
    print(f"{kind.name:36} {total:7.3f} {compose:8.3f} {wire:7.3f} {size:7}")


def _wire(email: OutgoingEmail) -> bytes:
    return checked_wire(email)


if __name__ == "__main__":
    main()
