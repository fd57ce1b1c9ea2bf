"""What the use cases need from the outside; MongoDB, SMTP, Kafka and the test fakes provide it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from returns_contracts import Locale, MerchantUpdated
from returns_notifier.domain.emails import OutgoingEmail, SentEmail
from returns_notifier.domain.model import Merchant, PhotoLink, ReturnRecord


class MerchantStore(Protocol):
    async def save_if_newer(self, update: MerchantUpdated) -> bool:
        """Store the snapshot unless the stored revision is the same or newer; True if stored."""
        ...

    async def get(self, merchant_id: str) -> Merchant | None: ...


class ReturnStore(Protocol):
    async def save(self, record: ReturnRecord) -> None:
        """Keep the return (a redelivery writes the same values again)."""
        ...

    async def get(self, return_id: str) -> ReturnRecord | None: ...


class PhotoDirectory(Protocol):
    async def lookup(self, merchant_id: str, photo_ids: Sequence[str]) -> dict[str, PhotoLink]:
        """Freshly signed links of the merchant's photos among `photo_ids`, by photo id.

        Unknown ids and other merchants' photos are absent. Raises `Unavailable` when media
        does not answer.
        """
        ...

    async def thumbnail(self, photo: PhotoLink) -> tuple[str, bytes] | None:
        """The thumbnail image (content type, bytes) to carry in the e-mail, or None when it
        cannot be carried (gone, not JPEG or PNG): the e-mail then links to it instead."""
        ...


class LabelFiles(Protocol):
    async def download(self, url: str) -> bytes:
        """The label PDF behind `url`. Raises `Unavailable` when labels does not answer."""
        ...


class SentEmailStore(Protocol):
    async def begin(
        self, planned: SentEmail, lease: tuple[str, datetime] | None = None
    ) -> tuple[SentEmail, bool]:
        """Record `planned` (status "sending") and return it with True, its send lease already
        held by `lease` (owner, until) when given: the write that creates the record takes the
        lease, so the first sender needs no `claim`. If its key is already recorded, return that
        record, untouched, with False."""
        ...

    async def claim(self, key: str, owner: str, now: datetime, until: datetime) -> bool:
        """Take the right to send the e-mail of `key` until `until`, atomically: True when it
        is still "sending" and no other owner's lease is live at `now` (the same owner renews
        its own). Held by whoever sends, so two consumers of one message send it once."""
        ...

    async def mark_sent(self, key: str, recipient: str, sent_at: datetime) -> None: ...

    async def mark_published(self, key: str, published_at: datetime) -> None: ...


class DeliveryMetrics(Protocol):
    """What the operators' dashboards count: e-mails handed to SMTP or refused by it, and how
    long after the return's submission each one left."""

    def sent(self, template: str, since_submitted: timedelta | None) -> None: ...

    def failed(self, template: str) -> None: ...


class NoDeliveryMetrics:
    def sent(self, template: str, since_submitted: timedelta | None) -> None:
        pass

    def failed(self, template: str) -> None:
        pass


class EmailSender(Protocol):
    async def send(self, email: OutgoingEmail) -> None:
        """Hand the e-mail to the mail server; raise if it was not accepted."""
        ...


@dataclass(frozen=True, slots=True)
class RenderedBody:
    text: str
    html: str


class EmailRenderer(Protocol):
    def render(
        self, template: str, locale: Locale, context: Mapping[str, object]
    ) -> RenderedBody: ...
