"""In-memory stand-ins for the notifier's ports (MongoDB, SMTP, Kafka, media, labels), and the
notifier built on them by the composition root, for unit tests of the use cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from returns_contracts import MerchantUpdated
from returns_contracts.service_kit.testing import FakeClock, RecordingPublisher
from returns_notifier.bootstrap import Adapters, build_container
from returns_notifier.config import NotifierSettings
from returns_notifier.domain.emails import OutgoingEmail, SentEmail
from returns_notifier.domain.model import Merchant, PhotoLink, ReturnRecord, is_newer
from returns_notifier.service.errors import DependencyUnavailable

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


class FakeReturnStore:
    def __init__(self) -> None:
        self.records: dict[str, ReturnRecord] = {}

    async def save(self, record: ReturnRecord) -> None:
        self.records[record.return_id] = record

    async def get(self, return_id: str) -> ReturnRecord | None:
        return self.records.get(return_id)


class FakePhotoDirectory:
    """Media knows the photos in `known`, each of one merchant."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {"media-1": "m-atelier", "media-2": "m-atelier"}
        self.down = False
        self.calls: list[tuple[str, list[str]]] = []
        self.thumbnails_gone: set[str] = set()

    async def lookup(self, merchant_id: str, photo_ids: Sequence[str]) -> dict[str, PhotoLink]:
        self.calls.append((merchant_id, list(photo_ids)))
        if self.down:
            raise DependencyUnavailable("media does not answer")
        return {
            photo_id: PhotoLink(
                photo_id,
                f"https://media.test/p/{photo_id}/full?sig=x",
                f"https://media.test/p/{photo_id}/thumb?sig=x",
            )
            for photo_id in photo_ids
            if self.known.get(photo_id) == merchant_id
        }

    async def thumbnail(self, photo: PhotoLink) -> tuple[str, bytes] | None:
        if photo.photo_id in self.thumbnails_gone:
            return None
        return ("image/jpeg", f"jpeg of {photo.photo_id}".encode())


class FakeLabelFiles:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.downloads: list[str] = []

    async def download(self, url: str) -> bytes:
        self.downloads.append(url)
        return self.files[url]


class FakeSentEmailStore:
    def __init__(self) -> None:
        self.records: dict[str, SentEmail] = {}
        self.leases: dict[str, tuple[str, datetime]] = {}

    async def begin(
        self, planned: SentEmail, lease: tuple[str, datetime] | None = None
    ) -> tuple[SentEmail, bool]:
        if planned.key in self.records:
            return self.records[planned.key], False
        self.records[planned.key] = planned
        if lease is not None:
            self.leases[planned.key] = lease
        return planned, True

    async def claim(self, key: str, owner: str, now: datetime, until: datetime) -> bool:
        record = self.records[key]
        held = self.leases.get(key)
        if record.status != "sending" or (held and held[0] != owner and held[1] > now):
            return False
        self.leases[key] = (owner, until)
        return True

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


class RecordingMetrics:
    """The DeliveryMetrics port: what was counted, in order."""

    def __init__(self) -> None:
        self.counted_sent: list[tuple[str, timedelta | None]] = []
        self.counted_failed: list[str] = []

    def sent(self, template: str, since_submitted: timedelta | None) -> None:
        self.counted_sent.append((template, since_submitted))

    def failed(self, template: str) -> None:
        self.counted_failed.append(template)


class World:
    def __init__(self, settings: NotifierSettings | None = None) -> None:
        self.metrics = RecordingMetrics()
        self.merchants = FakeMerchantStore()
        self.returns = FakeReturnStore()
        self.sent_emails = FakeSentEmailStore()
        self.sender = FakeSender()
        self.publisher = RecordingPublisher()
        self.photos = FakePhotoDirectory()
        self.labels = FakeLabelFiles()
        self.settings = settings or NotifierSettings(
            mail_from="Returns <returns@demo-shop.example>", message_id_domain=DOMAIN
        )
        self.notifier = build_container(
            self.settings,
            Adapters(
                merchants=self.merchants,
                returns=self.returns,
                sent_emails=self.sent_emails,
                photos=self.photos,
                labels=self.labels,
                sender=self.sender,
                publisher=self.publisher,
                clock=FakeClock(START, tick=timedelta(seconds=1)),
                metrics=self.metrics,
            ),
        ).notifier
