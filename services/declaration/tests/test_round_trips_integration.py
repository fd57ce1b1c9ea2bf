"""Store round trips of one submission and of one whole portal journey, counted on the wire.

A PyMongo command listener counts the commands the use cases send to the real server. The
budgets below are today's counts: a change that adds round trips to the hot path fails here
and has to say why (each one is a network hop and, on FerretDB, a SQLite statement). Issue 11
took them from 11 to 9 (submit) and from 26 to 20 (journey): the merchant is read once per
process and second, and a submit looks for an earlier return only after an earlier attempt.
Submits in flight at once share their commands: each step of theirs goes in one command.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from returns_contracts.examples import notification_sent
from returns_contracts.service_kit.testing import CommandLog
from returns_declaration.domain.model import MerchantSettings
from returns_declaration.domain.rules import RequestedQuantity
from returns_declaration.service.sessions import PortalSession

from .builders import merchant, order
from .test_outbox_integration import Flow

pytestmark = pytest.mark.integration

# Submit: +2 since the reservation reconciler (an insert of the submit's note before the
# reservation and its delete after the insert): without them a crash between the reservation
# and the insert left the quantities reserved for good.
SUBMIT_BUDGET = 11
# Journey: 22 -> 21 when signing in stopped reading the order's reservations it never used.
JOURNEY_BUDGET = 21
# Round trips waited one after the other (CommandLog.waits). A submit waited on each of its 11
# commands; now it reads its draft, order and reservations together, sends the outbox marker
# beside its listing number, and settles its note beside marking its draft: 7. Each step of
# the journey reads its draft and order together: 21 -> 14 for the whole journey. Then the
# note went beside the idempotency key's claim, and the reservation beside the listing number
# and the outbox marker: 5 and 12. Then the note and the claim went beside the reads: 4 and 11.
SUBMIT_WAITS = 4
JOURNEY_WAITS = 11
# Submits in flight at once in one process send each step together (the kit's grouped store
# helpers): 20 at once sent 220 commands before, 71 with the grouping (the first of each step
# goes alone and the groups drift apart, hence a few per step). Timing moves it a little.
CONCURRENT_SUBMITS = 20
CONCURRENT_SUBMIT_BUDGET = 5 * CONCURRENT_SUBMITS
# Timeline changes handled side by side (the consumer's batch): one guarded update each alone,
# 20 for twenty; grouped, the first goes alone and the others together.
CONCURRENT_TIMELINE_CHANGES = 20
CONCURRENT_TIMELINE_BUDGET = 8


async def _shop(flow: Flow) -> None:
    shop = merchant()
    settings = MerchantSettings.model_validate(
        shop.model_dump(include=set(MerchantSettings.model_fields))
    )
    await flow.service.merchants.configure_merchant("shop", settings, "c")
    for reason in shop.reasons:
        await flow.service.merchants.put_reason("shop", reason, "c")
    the_order = order(ordered_on=date.today() - timedelta(days=2))
    line = the_order.lines[1].model_copy(update={"quantity": 5})
    await flow.service.merchants.save_order(
        the_order.model_copy(update={"lines": (the_order.lines[0], line)})
    )


async def _to_summary(flow: Flow, order_number: str = "A-1") -> tuple[PortalSession, str]:
    """A journey walked up to its summary: its session and draft id, ready to submit."""
    opened = await flow.service.portal.open_session(
        "shop", order_number, "ana@example.com", "127.0.0.1"
    )
    session = opened.session
    view = await flow.service.portal.create_draft(session, [RequestedQuantity("2", 1)])
    await flow.service.portal.choose_reason(session, view.draft.id, "2", "too_big")
    await flow.service.portal.choose_return_type(session, view.draft.id, "2", "refund")
    return session, view.draft.id


async def _orders_at_summary(
    flow: Flow, prefix: str, count: int
) -> list[tuple[PortalSession, str]]:
    """`count` more orders of the shop, each walked up to its summary."""
    the_order = order(ordered_on=date.today() - timedelta(days=2))
    ready: list[tuple[PortalSession, str]] = []
    for index in range(count):
        number = f"{prefix}-{index}"
        await flow.service.merchants.save_order(the_order.model_copy(update={"number": number}))
        ready.append(await _to_summary(flow, number))
    return ready


async def _journey(flow: Flow, key: str) -> None:
    session, draft_id = await _to_summary(flow)
    await flow.service.portal.submit(session, draft_id, key, "c")


async def test_round_trips_of_a_submission_and_a_journey(
    counted: tuple[AsyncDatabase[dict[str, Any]], CommandLog],
) -> None:
    database, listener = counted
    # A running process keeps the merchant it read for a while (merchant_cache_seconds): here
    # longer than the test, so the counts do not depend on the machine's speed.
    flow = Flow(database, merchant_cache_seconds=600.0)
    await _shop(flow)
    # A first journey warms what a running process keeps (the merchant, its listing head).
    await _journey(flow, "warm")
    # And a second: the first opens the connections a submit's reads and writes need at once
    # (the driver opens two at a time). A submit measured while the pool still grows waits for
    # a connection, not for a round trip, and a read it sends beside the others counts as one
    # more wait.
    await _journey(flow, "warm-pool")

    session, draft_id = await _to_summary(flow)
    listener.clear()
    await flow.service.portal.submit(session, draft_id, "submit", "c")
    submit, submit_waits = list(listener.sent), listener.waits

    listener.clear()
    await _journey(flow, "journey")
    journey, journey_waits = list(listener.sent), listener.waits

    report = (
        f"submit: {len(submit)} in {submit_waits} waits {dict(Counter(submit))}\n"
        f"journey: {len(journey)} in {journey_waits} waits {dict(Counter(journey))}"
    )
    print(report)
    assert len(submit) <= SUBMIT_BUDGET, report
    assert len(journey) <= JOURNEY_BUDGET, report
    assert submit_waits <= SUBMIT_WAITS, report
    assert journey_waits <= JOURNEY_WAITS, report


async def test_submits_in_flight_at_once_share_their_store_commands(
    counted: tuple[AsyncDatabase[dict[str, Any]], CommandLog],
) -> None:
    database, listener = counted
    flow = Flow(database, merchant_cache_seconds=600.0)
    await _shop(flow)
    ready = await _orders_at_summary(flow, "B", CONCURRENT_SUBMITS)
    listener.clear()

    submitted = await asyncio.gather(
        *(
            flow.service.portal.submit(session, draft_id, f"key-{draft_id}", "c")
            for session, draft_id in ready
        )
    )

    assert all(submission.created for submission in submitted)
    report = f"{len(listener.sent)} {dict(Counter(listener.sent))}"
    print(report)
    assert len(listener.sent) <= CONCURRENT_SUBMIT_BUDGET, report
    drafts = [await flow.repository.get_draft("shop", draft_id) for _, draft_id in ready]
    assert all(draft is not None and draft.submitted_return_id == draft.id for draft in drafts)


async def test_timeline_changes_handled_side_by_side_share_their_commands_and_apply_once(
    counted: tuple[AsyncDatabase[dict[str, Any]], CommandLog],
) -> None:
    database, listener = counted
    flow = Flow(database, merchant_cache_seconds=600.0)
    await _shop(flow)
    return_ids: list[str] = []
    for session, draft_id in await _orders_at_summary(flow, "T", CONCURRENT_TIMELINE_CHANGES // 2):
        submitted = await flow.service.portal.submit(session, draft_id, f"key-{draft_id}", "c")
        return_ids.append(submitted.record.declared.id)
    events = [
        notification_sent(merchant_id="shop", return_id=return_id)
        for return_id in return_ids
        for _ in range(2)
    ]
    listener.clear()

    await asyncio.gather(*(flow.service.timeline.record_notification_sent(e) for e in events))
    changes = list(listener.sent)
    # A redelivered batch, some of it applied already: nothing is added twice.
    await asyncio.gather(*(flow.service.timeline.record_notification_sent(e) for e in events[::3]))

    report = f"{len(changes)} {dict(Counter(changes))}"
    print(report)
    assert len(changes) <= CONCURRENT_TIMELINE_BUDGET, report
    for return_id in return_ids:
        record = await flow.repository.get_return("shop", return_id)
        assert record is not None
        applied = sorted(
            e.event_id for e in record.timeline if e.kind == "customer_service_notified"
        )
        expected = sorted(str(e.event_id) for e in events if e.payload.return_id == return_id)
        assert applied == expected, return_id
