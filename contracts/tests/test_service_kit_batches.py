"""The kit's batches: one key's records in order, different keys side by side, nothing lost
when one of them fails. Records are built by hand: this tests the batch logic, not Kafka
(`test_service_kit_batches_integration.py` drives the real broker)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from returns_contracts.service_kit.kafka import Delivery, consume_batch

# Far longer than the test needs; only a broken batch waits it out, and then it fails.
DEADLINE_SECONDS = 5.0


def _record(key: bytes | None, body: bytes, partition: int = 0) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(
        topic="returns.submitted",
        partition=partition,
        offset=0,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=body,
        checksum=None,
        serialized_key_size=len(key or b""),
        serialized_value_size=len(body),
        headers=[("x-event-id", b"e-1")],
    )


async def test_one_keys_records_are_handled_in_order_one_after_the_other() -> None:
    handled: list[bytes] = []
    in_flight: set[bytes] = set()
    overlapped: list[bytes] = []

    async def consume(delivery: Delivery) -> None:
        if delivery.key in in_flight:
            overlapped.append(delivery.body)
        in_flight.add(delivery.key or b"")
        # Gives every other lane the loop before this record ends.
        for _ in range(5):
            await asyncio.sleep(0)
        handled.append(delivery.body)
        in_flight.discard(delivery.key or b"")

    records = [_record(b"r-1", f"r-1:{n}".encode()) for n in range(5)]
    await consume_batch(consume, records)

    assert handled == [f"r-1:{n}".encode() for n in range(5)]
    assert overlapped == []


async def test_different_keys_are_handled_side_by_side() -> None:
    """Each handler waits until all four keys are in flight: one at a time, the first one
    times out and the batch fails."""
    in_flight = 0
    all_in = asyncio.Event()
    seen_together: list[int] = []

    async def consume(delivery: Delivery) -> None:
        nonlocal in_flight
        in_flight += 1
        if in_flight == 4:
            all_in.set()
        await asyncio.wait_for(all_in.wait(), DEADLINE_SECONDS)
        seen_together.append(in_flight)
        in_flight -= 1

    records = [_record(f"r-{n}".encode(), b"{}", partition=n % 2) for n in range(4)]
    await consume_batch(consume, records)

    assert seen_together[0] == 4


async def test_a_failing_lane_lets_the_others_finish_then_fails_the_batch() -> None:
    """The batch must not be committed (it raises), and no other record is cut short."""
    finished: list[bytes] = []

    async def consume(delivery: Delivery) -> None:
        if delivery.key == b"r-bad":
            raise RuntimeError("the dead-letter topic is unreachable")
        await asyncio.sleep(0)
        finished.append(delivery.body)

    records = [_record(b"r-bad", b"bad"), _record(b"r-1", b"one"), _record(b"r-2", b"two")]
    with pytest.raises(RuntimeError, match="unreachable"):
        await consume_batch(consume, records)

    assert sorted(finished) == [b"one", b"two"]


def test_a_delivery_keeps_the_records_text_headers() -> None:
    delivery = Delivery.of(_record(b"r-1", b"{}"))
    assert (delivery.topic, delivery.key, delivery.headers) == (
        "returns.submitted",
        b"r-1",
        {"x-event-id": "e-1"},
    )
