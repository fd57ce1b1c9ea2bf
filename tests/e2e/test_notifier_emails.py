"""The notifier's e-mails end to end (R9, R10, R11, R15): real broker, Mailpit, media, labels.

The messages declaration would send are published straight to Kafka (declaration's API is not
what is under test here); photos are uploaded to media with a draft token, as the portal would.
Each test uses its own merchant and addresses, so tests do not see each other's mail.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker
from PIL import Image
from pymongo import MongoClient

from returns_contracts import (
    Address,
    Branding,
    LabelGenerated,
    Locale,
    MerchantUpdated,
    NotificationSent,
    ReturnSubmitted,
    Topics,
    parse_message,
)
from returns_contracts.examples import merchant_updated, return_submitted
from returns_contracts.service_kit.kafka import HEADER_CONSUMER, publish
from returns_contracts.service_kit.settings import ServiceSettings
from returns_contracts.signing import issue_draft_token
from returns_infra import Infra
from returns_infra.config import Settings
from returns_infra.fixtures import RunningServices, SmtpServer
from returns_infra.kafka_probe import end_offsets, key_beside, records_between, records_up_to_now
from returns_infra.services import service_logs
from returns_infra.testing import eventually, message_detail, messages_to, wait_for_messages_to

pytestmark = pytest.mark.e2e

TOPICS = Topics()
WAIT = 90.0
HOSTILE_COMMENT = "Le mug est fêlé <script>alert('x')</script> & la anse <b>cassée</b>."


class Shop:
    """A fresh merchant whose events the test publishes itself, as declaration would."""

    def __init__(
        self, broker: KafkaBroker, services: RunningServices, locale: Locale = "fr"
    ) -> None:
        self.id = f"shop-{uuid.uuid4().hex[:10]}"
        self.locale = locale
        self.customer_service = f"cs-{self.id}@example.com"
        self.customer = f"customer-{self.id}@example.com"
        self.broker = broker
        self.media = httpx.Client(base_url=services.urls["media"], timeout=30)

    async def open(self) -> None:
        template = merchant_updated(merchant_id=self.id)
        update = template.model_copy(
            update={
                "payload": template.payload.model_copy(
                    update={
                        "name": f"Boutique {self.id}",
                        "locale": self.locale,
                        "customer_service_email": self.customer_service,
                        "branding": Branding(
                            logo_url="https://shop.example.com/logo.png",
                            signature=f"The {self.id} team",
                        ),
                        # Labels waits for a return address before it makes a classic label.
                        "return_address": Address(
                            name=f"Boutique {self.id} - Returns",
                            line1="1 rue du Dépôt",
                            postal_code="69007",
                            city="Lyon",
                            country="FR",
                        ),
                    }
                )
            }
        )
        assert isinstance(update, MerchantUpdated)
        await publish(self.broker, TOPICS, update)

    def upload_photo(self, draft_id: str, line_id: str, image: bytes) -> dict[str, Any]:
        settings = ServiceSettings()
        token = issue_draft_token(
            settings.portal_token_secret,
            self.id,
            draft_id,
            datetime.now(UTC) + timedelta(hours=1),
        )
        response = self.media.post(
            f"/v1/merchants/{self.id}/drafts/{draft_id}/photos",
            params={"line_id": line_id},
            files={"file": ("photo.jpg", image, "image/jpeg")},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.text
        photo: dict[str, Any] = response.json()
        return photo

    def return_event(
        self, *, defective: bool, media_ids: list[str] | None = None, comment: str | None = None
    ) -> ReturnSubmitted:
        template = return_submitted(
            merchant_id=self.id,
            return_id=f"r-{uuid.uuid4().hex[:12]}",
            defective=defective,
            locale=self.locale,
        )
        payload = template.payload
        items = [
            item.model_copy(
                update={
                    "media_ids": media_ids if media_ids is not None else item.media_ids,
                    "comment": comment or item.comment,
                }
            )
            if item.defective
            else item
            for item in payload.items
        ]
        customer = payload.customer.model_copy(update={"email": self.customer})
        event = template.model_copy(
            update={"payload": payload.model_copy(update={"items": items, "customer": customer})}
        )
        # model_copy skips validation: check the event is still one declaration could send.
        return ReturnSubmitted.model_validate_json(event.model_dump_json())

    async def submit(self, event: ReturnSubmitted) -> ReturnSubmitted:
        await publish(self.broker, TOPICS, event)
        return event


@pytest.fixture
async def shop(broker: KafkaBroker, services: RunningServices) -> Shop:
    shop = Shop(broker, services)
    await shop.open()
    return shop


def _jpeg(color: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _links(html: str, kind: str) -> list[str]:
    """Every `href` (kind "a") or `src` (kind "img") of the HTML, unescaped."""
    attribute = "href" if kind == "a" else "src"
    found = re.findall(rf'<{kind}\s[^>]*?{attribute}="([^"]+)"', html)
    return [link.replace("&amp;", "&") for link in found]


def _with_subject(emails: list[dict[str, Any]], fragment: str) -> list[dict[str, Any]]:
    return [email for email in emails if fragment in email["Subject"]]


async def test_a_mixed_return_with_two_photos_makes_one_email_to_customer_service(
    shop: Shop, smtp_server: SmtpServer
) -> None:
    draft_id = f"d-{uuid.uuid4().hex[:8]}"
    uploads = [
        shop.upload_photo(draft_id, "line-2", _jpeg((200, 30, 30), (640, 480))),
        shop.upload_photo(draft_id, "line-2", _jpeg((30, 30, 200), (480, 640))),
    ]
    event = shop.return_event(
        defective=True,
        media_ids=[photo["photo_id"] for photo in uploads],
        comment=HOSTILE_COMMENT,
    )
    # A redelivery of the same event, then another event of the same return behind it on the
    # same partition: once the second e-mail is there, the redelivery was handled too.
    await shop.submit(event)
    await shop.submit(event)
    await shop.submit(event.model_copy(update={"event_id": uuid.uuid4()}))

    emails = wait_for_messages_to(smtp_server.api_url, shop.customer_service, 2, WAIT)
    assert len(emails) == 2
    [email] = [email for email in emails if str(event.event_id) in email["MessageID"]]
    assert email["Subject"] == "[Retour défectueux] Commande CMD-2026-0042 - Léa Dupont"
    detail = message_detail(smtp_server.api_url, email["ID"])
    assert [reply["Address"] for reply in detail["ReplyTo"]] == [shop.customer]

    # The customer's words are shown as text, never run or rendered as markup.
    html, text = detail["HTML"], detail["Text"]
    assert "<script" not in html and "<b>cassée" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert HOSTILE_COMMENT in text

    # Every photo has a link that downloads the image media stored, and a thumbnail carried in
    # the e-mail (shown even where remote images are blocked), media's own thumbnail.
    thumbnails = _links(html, "img")[1:]  # the first image is the merchant's logo
    assert len(thumbnails) == 2 and all(src.startswith("cid:") for src in thumbnails)
    inline = {part["ContentID"].strip("<>"): part for part in detail["Inline"]}
    async with httpx.AsyncClient(timeout=15) as http:
        for upload, thumbnail_src in zip(uploads, thumbnails, strict=True):
            photo_id = upload["photo_id"]
            [full] = {link for link in _links(html, "a") if f"/p/{photo_id}/full" in link}
            assert full in text
            stored = await http.get(upload["url"])
            linked = await http.get(full)
            assert linked.status_code == 200 and linked.content == stored.content
            with Image.open(io.BytesIO(linked.content)) as image:
                assert image.size == (upload["width"], upload["height"])
            part = inline[thumbnail_src.removeprefix("cid:")]
            carried = await http.get(
                f"{smtp_server.api_url}/api/v1/message/{email['ID']}/part/{part['PartID']}"
            )
            assert carried.content == (await http.get(upload["thumbnail_url"])).content
            with Image.open(io.BytesIO(carried.content)) as image:
                assert max(image.size) < max(upload["width"], upload["height"])
    assert event.payload.back_office_url in _links(html, "a")

    # And one acknowledgement to the customer (per event), saying the merchant will call.
    acknowledgements = wait_for_messages_to(smtp_server.api_url, shop.customer, 2, WAIT)
    [acknowledgement] = [a for a in acknowledgements if str(event.event_id) in a["MessageID"]]
    assert "nous avons bien reçu votre retour" in acknowledgement["Subject"]
    text = message_detail(smtp_server.api_url, acknowledgement["ID"])["Text"]
    assert f"Boutique {shop.id} va vous contacter" in text


async def test_an_english_merchant_gets_english_emails(
    broker: KafkaBroker, services: RunningServices, smtp_server: SmtpServer
) -> None:
    shop = Shop(broker, services, locale="en")
    await shop.open()
    draft_id = f"d-{uuid.uuid4().hex[:8]}"
    photo = shop.upload_photo(draft_id, "line-2", _jpeg((20, 160, 20), (800, 600)))

    await shop.submit(shop.return_event(defective=True, media_ids=[photo["photo_id"]]))
    await shop.submit(shop.return_event(defective=False))

    [to_service] = wait_for_messages_to(smtp_server.api_url, shop.customer_service, 1, WAIT)
    assert to_service["Subject"].startswith("[Defective return] Order CMD-2026-0042")
    to_customer = wait_for_messages_to(smtp_server.api_url, shop.customer, 3, WAIT)
    subjects = sorted(email["Subject"] for email in to_customer)
    name = f"Boutique {shop.id}"
    assert subjects == [
        f"{name}: we received your return (order CMD-2026-0042)",
        f"{name}: your return is confirmed (order CMD-2026-0042)",
        f"{name}: your return label (order CMD-2026-0042)",
    ]
    for email in [to_service, *to_customer]:
        detail = message_detail(smtp_server.api_url, email["ID"])
        assert '<html lang="en">' in detail["HTML"]
        assert f"The {shop.id} team" in detail["Text"]
        assert "Bonjour" not in detail["Text"] and "commande" not in detail["Text"]


async def test_a_classic_return_is_confirmed_then_its_label_arrives_as_a_pdf(
    shop: Shop, smtp_server: SmtpServer, mongodb_url: str, kafka_bootstrap_servers: str
) -> None:
    event = await shop.submit(shop.return_event(defective=False))

    emails = wait_for_messages_to(smtp_server.api_url, shop.customer, 2, WAIT)
    [confirmation] = _with_subject(emails, "votre retour est confirmé")
    [label_email] = _with_subject(emails, "votre étiquette de retour")
    assert confirmation["Attachments"] == 0
    detail = message_detail(smtp_server.api_url, label_email["ID"])
    assert [reply["Address"] for reply in detail["ReplyTo"]] == [shop.customer_service]
    [attachment] = detail["Attachments"]
    assert attachment["FileName"] == "etiquette-retour-CMD-2026-0042.pdf"
    assert attachment["ContentType"] == "application/pdf"
    [download] = [link for link in _links(detail["HTML"], "a") if "/l/" in link]
    assert download in detail["Text"]
    async with httpx.AsyncClient(timeout=15) as http:
        part = await http.get(
            f"{smtp_server.api_url}/api/v1/message/{label_email['ID']}/part/{attachment['PartID']}"
        )
        assert part.content.startswith(b"%PDF-")
        # The link in the e-mail downloads the very same label.
        assert (await http.get(download)).content == part.content

    # Each e-mail is recorded as sent and announced on Kafka (NotificationSent), once.
    records = _sent_records(mongodb_url, shop.id)
    assert sorted(record["template"] for record in records) == [
        "customer_label",
        "customer_return_confirmation",
    ]
    assert all(record["return_id"] == event.payload.return_id for record in records)
    notifications = await _notifications_of(kafka_bootstrap_servers, mongodb_url, shop.id, 2)
    assert sorted((n.payload.template, n.payload.message_id) for n in notifications) == sorted(
        (record["template"], record["message_id"]) for record in records
    )
    assert {n.payload.return_id for n in notifications} == {event.payload.return_id}
    assert {n.payload.recipient for n in notifications} == {shop.customer}


async def _notifications_of(
    bootstrap_servers: str, mongodb_url: str, merchant_id: str, count: int
) -> list[NotificationSent]:
    """The merchant's NotificationSent events, read once its `count` e-mails are recorded as
    announced: the notifier records that only after the broker acknowledged the event, and never
    announces a recorded one again, so every copy there will be is on the topic by then."""

    def all_announced() -> bool | None:
        records = _sent_records(mongodb_url, merchant_id)
        done = len(records) == count and all(r["published_at"] is not None for r in records)
        return True if done else None

    eventually(all_announced, WAIT, f"{count} e-mails of {merchant_id} announced")
    found: list[NotificationSent] = []
    for record in await records_up_to_now(bootstrap_servers, [TOPICS.notification_sent]):
        message = parse_message(record.value)
        if isinstance(message, NotificationSent) and message.merchant_id == merchant_id:
            found.append(message)
    return found


def _sent_records(mongodb_url: str, merchant_id: str) -> list[dict[str, Any]]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_url, tz_aware=True)
    try:
        return list(client["notifier"]["sent_emails"].find({"merchant_id": merchant_id}))
    finally:
        client.close()


@pytest.fixture
def own_mailpit(smtp_server: SmtpServer) -> Iterator[Infra]:
    """This run's own Mailpit, which the test may stop; always running again afterwards."""
    infra = Infra.for_profile("test")
    if smtp_server.port != infra.settings.ports.smtp:
        pytest.skip("the SMTP server is not this run's own Mailpit: not ours to stop")
    try:
        yield infra
    finally:
        infra.start(["smtp"])


async def test_mail_held_up_by_an_smtp_outage_all_arrives_once(
    shop: Shop,
    smtp_server: SmtpServer,
    own_mailpit: Infra,
    mongodb_url: str,
    kafka_bootstrap_servers: str,
) -> None:
    log = service_logs(Settings.for_profile("test").state_dir)["notifier"]

    def count(line: str) -> int:
        return log.read_text().count(line)

    waits_before = count("is unavailable, waiting")
    # The dead-letter topics of what the notifier reads, where they end before the outage.
    dead_letter_topics = [
        TOPICS.dlq(topic)
        for topic in (TOPICS.merchant_updated, TOPICS.return_submitted, TOPICS.label_generated)
    ]
    dead_before = await end_offsets(kafka_bootstrap_servers, dead_letter_topics)
    own_mailpit.stop(["smtp"])

    events = [await shop.submit(shop.return_event(defective=False)) for _ in range(20)]

    # The notifier met the outage and keeps waiting (several tries, growing backoff).
    eventually(
        lambda: True if count("is unavailable, waiting") >= waits_before + 4 else None,
        WAIT,
        "the notifier waiting out the SMTP outage",
    )
    own_mailpit.start(["smtp"])

    emails = wait_for_messages_to(smtp_server.api_url, shop.customer, 40, 240)

    def all_settled() -> list[dict[str, Any]] | None:
        records = _sent_records(mongodb_url, shop.id)
        settled = len(records) == 40 and all(r["published_at"] is not None for r in records)
        return records if settled else None

    eventually(all_settled, WAIT, "every e-mail recorded as sent and announced")
    emails = messages_to(smtp_server.api_url, shop.customer)
    assert len(emails) == 40
    assert len({email["MessageID"] for email in emails}) == 40
    for template in ("customer_return_confirmation", "customer_label"):
        causes = [e["MessageID"] for e in emails if f".{template}@" in e["MessageID"]]
        assert len(causes) == 20
    confirmed = {
        _cause(email["MessageID"]) for email in emails if "confirmation" in email["MessageID"]
    }
    assert confirmed == {str(event.event_id) for event in events}
    # Nothing the notifier read went to a dead-letter topic meanwhile: every message waited.
    dead_after = await end_offsets(kafka_bootstrap_servers, dead_letter_topics)
    dead = await records_between(kafka_bootstrap_servers, dead_before, dead_after)
    by_notifier = [
        record for record in dead if (HEADER_CONSUMER, b"notifier") in (record.headers or ())
    ]
    assert by_notifier == []


def _cause(message_id: str) -> str:
    """The event_id a Message-ID of the notifier was made from (`<event_id.template@domain>`)."""
    found = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", message_id)
    assert found is not None, message_id
    return found.group(0)


async def test_an_smtp_outage_longer_than_the_poll_interval_still_gives_one_email_each(
    broker: KafkaBroker,
    services: RunningServices,
    smtp_server: SmtpServer,
    own_mailpit: Infra,
    own_instance: Callable[..., Any],
    kafka_bootstrap_servers: str,
    mongodb_url: str,
) -> None:
    """Kafka takes a partition away from a consumer busy longer than max.poll.interval.ms
    (here 3 s) and gives it to another member of the group, which is given again what the
    first had not committed; when SMTP is back both hold the same messages. Each return
    still gets exactly one e-mail."""
    slow = {
        "consumer_max_poll_interval_ms": "3000",
        "consumer_outage_cap_seconds": "1",
        "consumer_retry_base_seconds": "0.2",
    }
    first = own_instance("notifier", **slow)
    second = own_instance("notifier", like=first, **slow)
    topics: Topics = first.topics
    topic = topics.return_submitted
    shop = Shop(broker, services)
    await publish(broker, topics, shop_snapshot(shop))
    eventually(
        lambda: _own_merchant(mongodb_url, first.database, shop.id),
        WAIT,
        "the notifier recording the merchant",
    )
    own_mailpit.stop(["smtp"])
    # Every return on one partition: the member holding it is stuck in the outage while the
    # other, idle, keeps polling, so the partition moves to it.
    events = [_keyed(shop.return_event(defective=False), f"r-{uuid.uuid4().hex[:12]}")]
    for _ in range(3):
        beside = await key_beside(kafka_bootstrap_servers, events[0].payload.return_id, [topic])
        events.append(_keyed(shop.return_event(defective=False), beside))
    for event in events:
        await publish(broker, topics, event)

    def both_waited() -> bool | None:
        logs = [str(member.log_path.read_text()) for member in (first, second)]
        moved = any(all(f'"event_id": "{e.event_id}"' in text for text in logs) for e in events)
        return True if moved else None

    eventually(both_waited, WAIT, "the partition moving to the other member")
    own_mailpit.start(["smtp"])

    # A sentinel behind the returns, on their partition.
    sentinel = _keyed(
        shop.return_event(defective=False),
        await key_beside(kafka_bootstrap_servers, events[0].payload.return_id, [topic]),
    )
    await publish(broker, topics, sentinel)
    wait_for_messages_to(smtp_server.api_url, shop.customer, 1, WAIT)

    def sentinel_mailed() -> list[dict[str, Any]] | None:
        emails = messages_to(smtp_server.api_url, shop.customer)
        mailed = {_cause(email["MessageID"]) for email in emails}
        return emails if str(sentinel.event_id) in mailed else None

    eventually(sentinel_mailed, WAIT, "the sentinel's e-mail")
    emails = messages_to(smtp_server.api_url, shop.customer)
    causes = sorted(_cause(email["MessageID"]) for email in emails)
    assert causes == sorted(str(one.event_id) for one in [*events, sentinel])


def _keyed(event: ReturnSubmitted, return_id: str) -> ReturnSubmitted:
    return event.model_copy(
        update={"payload": event.payload.model_copy(update={"return_id": return_id})}
    )


def shop_snapshot(shop: Shop) -> MerchantUpdated:
    """The merchant update `Shop.open` publishes, for topics of the test's own."""
    template = merchant_updated(merchant_id=shop.id)
    payload = template.payload.model_copy(
        update={"name": f"Boutique {shop.id}", "customer_service_email": shop.customer_service}
    )
    update = template.model_copy(update={"payload": payload})
    assert isinstance(update, MerchantUpdated)
    return update


def _own_merchant(mongodb_url: str, database: str, merchant_id: str) -> dict[str, Any] | None:
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_url)
    try:
        return client[database]["merchants"].find_one({"_id": merchant_id})
    finally:
        client.close()


def _lease_of(mongodb_url: str, database: str, key: str) -> dict[str, Any] | None:
    """The e-mail's record once a consumer holds its send lease."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_url, tz_aware=True)
    try:
        record = client[database]["sent_emails"].find_one({"_id": key})
        return record if record is not None and record.get("lease_owner") else None
    finally:
        client.close()


async def test_a_notifier_killed_holding_a_send_lease_sends_at_once_once_restarted(
    broker: KafkaBroker,
    services: RunningServices,
    smtp_server: SmtpServer,
    own_mailpit: Infra,
    own_instance: Callable[..., Any],
    mongodb_url: str,
) -> None:
    """kill -9 while it holds an e-mail's send lease (SMTP down: it keeps trying), then the
    same command line again: the instance (same CONSUMER_INSTANCE_ID) takes its own lease back
    and sends, instead of waiting for the lease to end (600 s here, 60 s by default) with the
    return's partition stalled behind it."""
    notifier = own_instance(
        "notifier",
        consumer_instance_id=f"notifier-lease-{uuid.uuid4().hex[:6]}",
        send_lease_seconds="600",
        consumer_outage_cap_seconds="1",
        consumer_retry_base_seconds="0.2",
    )
    topics: Topics = notifier.topics
    shop = Shop(broker, services)
    await publish(broker, topics, shop_snapshot(shop))
    eventually(
        lambda: _own_merchant(mongodb_url, notifier.database, shop.id),
        WAIT,
        "the notifier recording the merchant",
    )
    own_mailpit.stop(["smtp"])
    event = shop.return_event(defective=False)
    await publish(broker, topics, event)
    key = f"{event.event_id}:customer_return_confirmation"
    held = eventually(
        lambda: _lease_of(mongodb_url, notifier.database, key), WAIT, "the send lease taken"
    )
    assert held["status"] == "sending"

    notifier.kill()
    own_mailpit.start(["smtp"])
    began = time.monotonic()
    notifier.restart()
    answered = time.monotonic()
    [email] = wait_for_messages_to(smtp_server.api_url, shop.customer, 1, WAIT)
    mailed = time.monotonic()
    print(
        f"notifier restarted holding its send lease: answered after {answered - began:.1f} s, "
        f"the e-mail left {mailed - began:.1f} s after the restart (lease 600 s)"
    )
    assert _cause(email["MessageID"]) == str(event.event_id)
    sent = eventually(
        lambda: (
            (record := _lease_of(mongodb_url, notifier.database, key))
            and (record if record["status"] == "sent" else None)
        ),
        WAIT,
        "the e-mail recorded as sent",
    )
    assert sent["lease_owner"] == held["lease_owner"]


async def _label_of(bootstrap_servers: str, return_id: str) -> LabelGenerated | None:
    for record in await records_up_to_now(bootstrap_servers, [TOPICS.label_generated]):
        message = parse_message(record.value)
        if isinstance(message, LabelGenerated) and message.payload.return_id == return_id:
            return message
    return None


async def test_a_label_waits_for_a_lagging_return_longer_than_the_retries_and_is_mailed(
    shop: Shop,
    broker: KafkaBroker,
    smtp_server: SmtpServer,
    own_instance: Callable[..., Any],
    mongodb_url: str,
    kafka_bootstrap_servers: str,
) -> None:
    """The notifier's ReturnSubmitted side lags (a restart, a lease to wait out): its
    LabelGenerated side holds the label until the return comes, far past the attempt bound (2
    here), and the customer gets the label e-mail; nothing goes to the dead-letter topic."""
    # A real label, from the labels service, for a return of the shared topics.
    submitted = await shop.submit(shop.return_event(defective=False))
    return_id = submitted.payload.return_id
    deadline = time.monotonic() + WAIT
    label = await _label_of(kafka_bootstrap_servers, return_id)
    while label is None and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        label = await _label_of(kafka_bootstrap_servers, return_id)
    assert label is not None, "labels made no label"

    notifier = own_instance(
        "notifier",
        consumer_max_attempts="2",
        consumer_retry_base_seconds="0.05",
        consumer_wait_cap_seconds="0.3",
    )
    topics: Topics = notifier.topics
    await publish(broker, topics, shop_snapshot(shop))
    eventually(
        lambda: _own_merchant(mongodb_url, notifier.database, shop.id),
        WAIT,
        "the notifier recording the merchant",
    )
    await publish(broker, topics, label)

    def waited(tries: int) -> bool | None:
        text = notifier.log_path.read_text()
        assert "message dead-lettered" not in text  # this instance reads this test's alone
        lines = [line for line in text.splitlines() if str(label.event_id) in line]
        waits = sum("waits for what it refers to" in line for line in lines)
        return True if waits >= tries else None

    eventually(lambda: waited(6), WAIT, "the label waiting for its return")
    late_customer = f"late-{shop.customer}"
    late = submitted.model_copy(
        update={
            "payload": submitted.payload.model_copy(
                update={
                    "customer": submitted.payload.customer.model_copy(
                        update={"email": late_customer}
                    )
                }
            )
        }
    )
    await publish(broker, topics, late)

    emails = wait_for_messages_to(smtp_server.api_url, late_customer, 2, WAIT)
    [label_email] = _with_subject(emails, "votre étiquette de retour")
    assert _cause(label_email["MessageID"]) == str(label.event_id)
    assert label_email["Attachments"] == 1
    dead = await records_up_to_now(kafka_bootstrap_servers, [topics.dlq(topics.label_generated)])
    assert dead == []
