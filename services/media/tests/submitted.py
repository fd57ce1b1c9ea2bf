"""Publish a ReturnSubmitted as declaration would, straight onto the real broker."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaProducer

from returns_contracts import ReturnSubmitted, Topics, examples


def return_with_photos(
    merchant_id: str, photo_ids: list[str], return_id: str | None = None
) -> ReturnSubmitted:
    base = examples.return_submitted(
        defective=True,
        merchant_id=merchant_id,
        return_id=return_id or f"ret-{uuid.uuid4().hex[:10]}",
    )
    item = examples.defective_item().model_copy(update={"media_ids": photo_ids})
    return base.model_copy(update={"payload": base.payload.model_copy(update={"items": [item]})})


def publish(bootstrap_servers: str, topic_prefix: str, event: ReturnSubmitted) -> None:
    """Publish and wait for the broker's acknowledgement (for synchronous tests)."""
    asyncio.run(_publish(bootstrap_servers, topic_prefix, event))


async def _publish(bootstrap_servers: str, topic_prefix: str, event: ReturnSubmitted) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            Topics(prefix=topic_prefix).for_message(event),
            event.model_dump_json().encode(),
            key=event.key(),
        )
    finally:
        await producer.stop()
