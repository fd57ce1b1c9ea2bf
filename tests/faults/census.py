"""After the faults: count what every submitted return became, and say what was lost or doubled.

Everything is read from the servers themselves, for one merchant made for the run:
- declaration's store (`returns`, by `merchant_id`): each order's return, stored once, and its
  listing number (the back-office lists a merchant's returns by them): each return's own, no
  two returns with one number, and the number's listing entry names the return;
- `ReturnSubmitted` on Kafka between the offsets taken before the load and after it settled:
  each return's event, and every copy of it (a republished copy must carry the same event_id);
- Mailpit's API: the customer-service e-mails to the merchant's address, matched to their order
  by the subject and to their event by the Message-ID (`<event_id.template@domain>`): one per
  defective return, and a second one only as the same e-mail again (same Message-ID);
- labels' store and `LabelGenerated`: one live label for each classic return, first generation,
  none voided, and no label at all for a defective one (none was asked for);
- Mailpit's API again, the customer's e-mails, matched to their return by the event in their
  Message-ID (the customer's address is shared by every merchant of the runs, the events are
  this merchant's): the acknowledgement of each defective return and the confirmation of each
  classic one (from its ReturnSubmitted), and the label e-mail of each classic return (from its
  LabelGenerated); none of them twice but as the same e-mail again.

The census waits until nothing more can come (`settle`): every expected record is there and
every consumer group of the services has committed up to the end of its topics.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import TopicPartition
from pymongo import AsyncMongoClient

from returns_admin.kafka_ops import Kafka
from returns_bench.journey import CUSTOMER_EMAIL
from returns_contracts import LabelGenerated, ReturnSubmitted, parse_message
from returns_contracts.topics import Topics
from returns_declaration.adapters.listing import entry_id
from returns_declaration.adapters.repository import RETURNS_BY_MERCHANT
from returns_infra.kafka_probe import end_offsets, records_between

from .portal import Journey
from .tables import aligned

CUSTOMER_SERVICE_TEMPLATE = "customer_service_defective"
ACKNOWLEDGEMENT_TEMPLATE = "customer_defective_acknowledgement"
CONFIRMATION_TEMPLATE = "customer_return_confirmation"
LABEL_TEMPLATE = "customer_label"
SERVICE_GROUPS = ("declaration.", "media.", "notifier.", "labels.")
_ORDER_IN_SUBJECT = re.compile(r"(?:Commande|Order) (\S+) - ")
Row = tuple[str, int, int, int, int, int]


@dataclass(frozen=True)
class Email:
    mailpit_id: str
    message_id: str
    subject: str

    @property
    def cause(self) -> tuple[str, str]:
        """(event_id, template) of a Message-ID of the notifier, `event_id.template@domain`."""
        local = self.message_id.partition("@")[0]
        event_id, _, template = local.partition(".")
        return event_id, template


@dataclass
class Census:
    merchant_id: str
    journeys: Sequence[Journey]
    stored: dict[str, list[str]] = field(default_factory=dict)
    """order number -> the return ids stored for it."""
    defective: dict[str, bool] = field(default_factory=dict)
    events: dict[str, list[str]] = field(default_factory=dict)
    """return id -> the event_id of each copy of its ReturnSubmitted."""
    emails: dict[str, list[Email]] = field(default_factory=dict)
    """order number -> its customer-service e-mails."""
    unmatched_emails: list[Email] = field(default_factory=list)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    """return id -> labels' document of the return."""
    label_events: dict[str, list[str]] = field(default_factory=dict)
    """return id -> the label_id of each LabelGenerated copy."""
    label_event_ids: dict[str, list[str]] = field(default_factory=dict)
    """return id -> the event_id of each LabelGenerated copy."""
    customer_emails: list[Email] = field(default_factory=list)
    """Every e-mail to the customers' address (other merchants' included: they share it)."""
    listing: dict[str, int | None] = field(default_factory=dict)
    """return id -> the listing number stored in the return."""
    listed: dict[int, str] = field(default_factory=dict)
    """listing number -> the return id its entry in the merchant's listing names."""

    # -- what each row counts ----------------------------------------------------------------

    @property
    def returns(self) -> dict[str, str]:
        """return id -> order number, for every return stored."""
        return {rid: order for order, ids in self.stored.items() for rid in ids}

    def missing_events(self) -> list[str]:
        return [rid for rid in self.returns if not self.events.get(rid)]

    def missing_emails(self) -> list[str]:
        return [
            order
            for rid, order in self.returns.items()
            if self.defective.get(rid) and not self.emails.get(order)
        ]

    def unlisted(self) -> list[str]:
        """Returns without a number of their own in the merchant's listing: the back-office
        list would not show them."""
        return [
            rid
            for rid in self.returns
            if (number := self.listing.get(rid)) is None or self.listed.get(number) != rid
        ]

    def _customer_mails(self) -> tuple[dict[str, list[Email]], dict[str, list[Email]]]:
        """This merchant's customer e-mails by return: (from its ReturnSubmitted, from its
        LabelGenerated); e-mails caused by another merchant's events are left out."""
        submitted = {eid: rid for rid, ids in self.events.items() for eid in ids}
        labelled = {eid: rid for rid, ids in self.label_event_ids.items() for eid in ids}
        about_return: dict[str, list[Email]] = defaultdict(list)
        about_label: dict[str, list[Email]] = defaultdict(list)
        for email in self.customer_emails:
            event_id, _template = email.cause
            if event_id in submitted:
                about_return[submitted[event_id]].append(email)
            elif event_id in labelled:
                about_label[labelled[event_id]].append(email)
        return about_return, about_label

    def _first_customer_template(self, return_id: str) -> str:
        return ACKNOWLEDGEMENT_TEMPLATE if self.defective.get(return_id) else CONFIRMATION_TEMPLATE

    def missing_customer_emails(self) -> list[str]:
        """Returns without their acknowledgement or confirmation, classic ones without their
        label e-mail."""
        about_return, about_label = self._customer_mails()
        missing = []
        for rid in self.returns:
            wanted = self._first_customer_template(rid)
            first = any(mail.cause[1] == wanted for mail in about_return.get(rid, []))
            label = self.defective.get(rid) or any(
                mail.cause[1] == LABEL_TEMPLATE for mail in about_label.get(rid, [])
            )
            if not (first and label):
                missing.append(rid)
        return missing

    def missing_labels(self) -> list[str]:
        return [
            rid
            for rid in self.returns
            if not self.defective.get(rid)
            and (
                (self.labels.get(rid) or {}).get("label") is None or not self.label_events.get(rid)
            )
        ]

    def complete(self) -> bool:
        journeys_ok = [journey for journey in self.journeys if journey.ok]
        return (
            len(self.returns) >= len(journeys_ok)
            and not self.missing_events()
            and not self.missing_emails()
            and not self.missing_labels()
            and not self.missing_customer_emails()
            and not self.unlisted()
        )

    def rows(self) -> list[Row]:
        """(what, expected, found once or more, missing, extra copies, duplicates) per row.

        An extra copy is the same thing again (a republished event with its event_id, an
        e-mail with its twin's Message-ID, a LabelGenerated of the same label); a duplicate is
        a second one of its own (another return for an order, another event_id, another
        Message-ID, another label).
        """
        journeys = list(self.journeys)
        orders = {journey.order_number for journey in journeys if journey.ok}
        returns = self.returns
        defective = [rid for rid in returns if self.defective.get(rid)]
        classic = [rid for rid in returns if not self.defective.get(rid)]

        stored_found = sum(1 for order in orders if self.stored.get(order))
        stored_dupes = sum(len(ids) - 1 for ids in self.stored.values() if len(ids) > 1)

        event_found = sum(1 for rid in returns if self.events.get(rid))
        event_copies = sum(len(ids) - len(set(ids)) for ids in self.events.values())
        event_dupes = sum(len(set(ids)) - 1 for ids in self.events.values() if ids)

        mail_found = 0
        mail_copies = 0
        mail_dupes = len(self.unmatched_emails)
        for rid in defective:
            mails = self.emails.get(returns[rid], [])
            ids = {mail.message_id for mail in mails}
            mail_found += 1 if mails else 0
            mail_copies += len(mails) - len(ids)
            mail_dupes += max(len(ids) - 1, 0)
            # The same e-mail again carries its twin's Message-ID, made from the event's id.
            prefix = self._message_id_prefix(rid)
            if prefix is not None and not all(one.startswith(prefix) for one in ids):
                mail_dupes += 1
        for rid in classic:
            mail_dupes += len(self.emails.get(returns[rid], []))

        numbers = [self.listing.get(rid) for rid in returns]
        taken = [number for number in numbers if number is not None]
        listed_found = len(returns) - len(self.unlisted())
        listed_dupes = len(taken) - len(set(taken))

        label_found = 0
        label_copies = 0
        label_dupes = 0
        for rid in classic:
            document = self.labels.get(rid) or {}
            made = self.label_events.get(rid, [])
            if document.get("label") is not None and made:
                label_found += 1
            label_copies += len(made) - len(set(made))
            label_dupes += max(len(set(made)) - 1, 0)
            label_dupes += max(int(document.get("label_generation", 0)) - 1, 0)
            label_dupes += len(document.get("voided_labels", []))
        first_row, label_row = self._customer_rows(defective, classic)
        defective_labelled = sum(
            1
            for rid in defective
            if (self.labels.get(rid) or {}).get("label") is not None or self.label_events.get(rid)
        )

        def row(what: str, expected: int, found: int, copies: int, dupes: int) -> Row:
            return (what, expected, found, expected - found, copies, dupes)

        return [
            row("journeys submitted (portal API)", len(journeys), len(orders), 0, 0),
            row("returns stored (declaration)", len(orders), stored_found, 0, stored_dupes),
            row("listing numbers (declaration)", len(returns), listed_found, 0, listed_dupes),
            row("ReturnSubmitted published", len(returns), event_found, event_copies, event_dupes),
            row(
                "customer-service e-mails (Mailpit)",
                len(defective),
                mail_found,
                mail_copies,
                mail_dupes,
            ),
            row(
                "customer acknowledgements and confirmations (Mailpit)",
                len(returns),
                *first_row,
            ),
            row("customer label e-mails (Mailpit)", len(classic), *label_row),
            row("labels of classic returns", len(classic), label_found, label_copies, label_dupes),
            row("labels of defective returns", 0, 0, 0, defective_labelled),
        ]

    def _customer_rows(
        self, defective: list[str], classic: list[str]
    ) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        """(found, extra copies, duplicates) of the customer's first e-mail and of the label
        e-mail. A copy has its twin's Message-ID; a duplicate is another one: a second
        Message-ID, or an e-mail the return does not call for (a confirmation of a defective
        return, a label e-mail of a defective one)."""
        about_return, about_label = self._customer_mails()
        first = [0, 0, 0]
        label = [0, 0, 0]
        for rid in [*defective, *classic]:
            wanted = self._first_customer_template(rid)
            mails = about_return.get(rid, [])
            right = [mail for mail in mails if mail.cause[1] == wanted]
            ids = {mail.message_id for mail in right}
            first[0] += 1 if right else 0
            first[1] += len(right) - len(ids)
            first[2] += max(len(ids) - 1, 0) + len(mails) - len(right)
            mails = about_label.get(rid, [])
            if self.defective.get(rid):
                label[2] += len(mails)
                continue
            right = [mail for mail in mails if mail.cause[1] == LABEL_TEMPLATE]
            ids = {mail.message_id for mail in right}
            label[0] += 1 if right else 0
            label[1] += len(right) - len(ids)
            label[2] += max(len(ids) - 1, 0) + len(mails) - len(right)
        return (first[0], first[1], first[2]), (label[0], label[1], label[2])

    def _message_id_prefix(self, return_id: str) -> str | None:
        events = set(self.events.get(return_id, []))
        if len(events) != 1:
            return None
        [event_id] = events
        return f"{event_id}.{CUSTOMER_SERVICE_TEMPLATE}@"

    def failures(self) -> list[str]:
        """What the suite fails on: any loss, and any duplicate that is not the same again."""
        found = []
        for what, _expected, _found, missing, _copies, dupes in self.rows():
            if missing:
                found.append(f"{what}: {missing} missing")
            if dupes:
                found.append(f"{what}: {dupes} duplicate(s)")
        for journey in self.journeys:
            if journey.ok and journey.return_id not in self.returns:
                found.append(f"journey {journey.index}: return {journey.return_id} not stored")
        return found

    def table(self) -> str:
        header = ("what", "expected", "found", "missing", "extra copies", "duplicates")
        return aligned(header, [[str(cell) for cell in row] for row in self.rows()])


# -- reading the servers ---------------------------------------------------------------------


async def _stored(census: Census, mongodb_url: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_url, serverSelectionTimeoutMS=10_000
    )
    try:
        stored: dict[str, list[str]] = defaultdict(list)
        declaration = client["declaration"]
        cursor = declaration["returns"].find(
            {"merchant_id": census.merchant_id},
            {"order_number": 1, "defective": 1, "listing_number": 1},
        )
        listing: dict[str, int | None] = {}
        async for document in cursor:
            stored[str(document["order_number"])].append(str(document["_id"]))
            census.defective[str(document["_id"])] = bool(document["defective"])
            number = document.get("listing_number")
            listing[str(document["_id"])] = None if number is None else int(number)
        census.stored = dict(stored)
        census.listing = listing
        entries = {
            entry_id(census.merchant_id, number): number
            for number in listing.values()
            if number is not None
        }
        found = declaration[RETURNS_BY_MERCHANT].find({"_id": {"$in": list(entries)}})
        census.listed = {
            entries[str(entry["_id"])]: str(entry["listed_id"]) async for entry in found
        }
        labels: dict[str, dict[str, Any]] = {}
        cursor = client["labels"]["returns"].find({"merchant_id": census.merchant_id})
        async for document in cursor:
            labels[str(document["_id"])] = document
        census.labels = labels
    finally:
        await client.close()


async def _records(
    census: Census,
    bootstrap_servers: str,
    start: Mapping[TopicPartition, int],
) -> None:
    end = await end_offsets(bootstrap_servers, sorted({partition.topic for partition in start}))
    events: dict[str, list[str]] = defaultdict(list)
    labels: dict[str, list[str]] = defaultdict(list)
    label_event_ids: dict[str, list[str]] = defaultdict(list)
    for record in await records_between(bootstrap_servers, start, end):
        message = parse_message(record.value)
        if message.merchant_id != census.merchant_id:
            continue
        if isinstance(message, ReturnSubmitted):
            events[message.payload.return_id].append(str(message.event_id))
        elif isinstance(message, LabelGenerated):
            labels[message.payload.return_id].append(message.payload.label_id)
            label_event_ids[message.payload.return_id].append(str(message.event_id))
    census.events = dict(events)
    census.label_events = dict(labels)
    census.label_event_ids = dict(label_event_ids)


def _search(mailpit_url: str, address: str) -> list[Email]:
    """Every e-mail Mailpit holds for `address`."""
    found_all: list[Email] = []
    start, page, total = 0, 200, 1
    while start < total:
        response = httpx.get(
            f"{mailpit_url}/api/v1/search",
            params={"query": f'to:"{address}"', "start": start, "limit": page},
            timeout=30,
        )
        response.raise_for_status()
        found = response.json()
        total = int(found["messages_count"])
        messages: list[dict[str, Any]] = found["messages"]
        found_all.extend(
            Email(
                str(summary["ID"]), str(summary["MessageID"]).strip("<>"), str(summary["Subject"])
            )
            for summary in messages
        )
        if not messages:
            break
        start += len(messages)
    return found_all


def _emails(census: Census, mailpit_url: str, address: str, customer: str) -> None:
    emails: dict[str, list[Email]] = defaultdict(list)
    unmatched: list[Email] = []
    for email in _search(mailpit_url, address):
        match = _ORDER_IN_SUBJECT.search(email.subject)
        if match is None:
            unmatched.append(email)
        else:
            emails[match.group(1)].append(email)
    census.emails = dict(emails)
    census.unmatched_emails = unmatched
    census.customer_emails = _search(mailpit_url, customer)


async def take(
    census: Census,
    *,
    mongodb_url: str,
    bootstrap_servers: str,
    start: Mapping[TopicPartition, int],
    mailpit_url: str,
    customer_service: str,
    customer: str = CUSTOMER_EMAIL,
) -> None:
    await _stored(census, mongodb_url)
    await _records(census, bootstrap_servers, start)
    await asyncio.to_thread(_emails, census, mailpit_url, customer_service, customer)


async def services_lag(bootstrap_servers: str) -> int:
    """Messages the services' consumer groups have not committed yet, over all their topics."""
    entries = await Kafka(bootstrap_servers, Topics()).lag()
    return sum(entry.lag for entry in entries if entry.group.startswith(SERVICE_GROUPS))


async def settle(
    census: Census,
    within: float,
    *,
    mongodb_url: str,
    bootstrap_servers: str,
    start: Mapping[TopicPartition, int],
    mailpit_url: str,
    customer_service: str,
) -> float:
    """Take the census until it is complete and no consumer has anything left to read, or
    for `within` seconds; returns the seconds waited (the last census stays in `census`)."""
    began = time.monotonic()
    while True:
        await take(
            census,
            mongodb_url=mongodb_url,
            bootstrap_servers=bootstrap_servers,
            start=start,
            mailpit_url=mailpit_url,
            customer_service=customer_service,
        )
        if census.complete() and await services_lag(bootstrap_servers) == 0:
            # One more look after the consumers are idle: what they did last is in it.
            await take(
                census,
                mongodb_url=mongodb_url,
                bootstrap_servers=bootstrap_servers,
                start=start,
                mailpit_url=mailpit_url,
                customer_service=customer_service,
            )
            return time.monotonic() - began
        if time.monotonic() - began > within:
            return time.monotonic() - began
        await asyncio.sleep(1.0)


def write(text: str, *paths: Path) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
