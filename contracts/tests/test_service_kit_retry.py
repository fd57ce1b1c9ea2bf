"""The kit's consumer loop: bounded attempts for failures, patient waiting for outages.

The broker here is a stand-in that records dead-lettered messages: this tests the retry loop,
not Kafka (the end-to-end tests drive the real broker).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from returns_contracts import Message, ReturnSubmitted, Topics
from returns_contracts.examples import return_submitted
from returns_contracts.service_kit.kafka import (
    HEADER_ATTEMPTS,
    HEADER_ERROR_TYPE,
    ConsumerMetrics,
    Delivery,
    NotYet,
    PermanentError,
    Retry,
    Routes,
    Unavailable,
    reliable,
)


@dataclass
class DeadLetters:
    published: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    async def publish(self, body: bytes, *, topic: str, key: Any, headers: dict[str, str]) -> None:
        self.published.append((topic, headers))


def _delivery(body: bytes) -> Delivery:
    return Delivery(topic="returns.submitted", key=b"r-000123", headers={}, body=body)


class Flaky:
    """Raises each of `errors` in turn, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.handled: list[Message] = []

    async def __call__(self, message: ReturnSubmitted) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        self.handled.append(message)


FAST = {"unavailable_cap_seconds": 0.001}


async def _consume(
    handler: Flaky,
    retry: Retry,
    body: bytes | None = None,
    metrics: ConsumerMetrics | None = None,
) -> DeadLetters:
    dead_letters = DeadLetters()
    consume = reliable(
        consumer="test",
        broker=cast(KafkaBroker, dead_letters),
        topics=Topics(),
        retry=retry,
        routes=Routes().on(ReturnSubmitted, handler),
        metrics=metrics,
    )
    body = return_submitted().model_dump_json().encode() if body is None else body
    await consume(_delivery(body))
    return dead_letters


async def test_an_outage_longer_than_the_attempt_bound_delays_but_loses_nothing() -> None:
    handler = Flaky(*[Unavailable("SMTP down") for _ in range(20)])

    dead_letters = await _consume(handler, Retry(3, 0.0001, **FAST))

    assert handler.calls == 21
    assert len(handler.handled) == 1
    assert dead_letters.published == []


async def test_ordinary_failures_still_go_to_the_dlq_after_the_bound() -> None:
    handler = Flaky(*[RuntimeError("bug") for _ in range(5)])

    dead_letters = await _consume(handler, Retry(3, 0.0001, **FAST))

    assert handler.calls == 3
    [(topic, headers)] = dead_letters.published
    assert topic == "returns.submitted.dlq"
    assert (headers[HEADER_ERROR_TYPE], headers[HEADER_ATTEMPTS]) == ("RuntimeError", "3")


async def test_outage_tries_do_not_count_against_the_attempt_bound() -> None:
    handler = Flaky(RuntimeError("1"), Unavailable("down"), Unavailable("down"), RuntimeError("2"))

    dead_letters = await _consume(handler, Retry(3, 0.0001, **FAST))

    assert len(handler.handled) == 1
    assert dead_letters.published == []


async def test_an_outage_budget_ends_in_the_dlq() -> None:
    handler = Flaky(*[Unavailable("down") for _ in range(10_000)])

    dead_letters = await _consume(
        handler, Retry(3, 0.0001, unavailable_cap_seconds=0.001, unavailable_budget_seconds=0.05)
    )

    assert handler.handled == []
    [(_, headers)] = dead_letters.published
    assert headers[HEADER_ERROR_TYPE] == "Unavailable"


async def test_a_permanent_error_is_dead_lettered_at_once() -> None:
    handler = Flaky(PermanentError("no address"))

    dead_letters = await _consume(handler, Retry(3, 0.0001, **FAST))

    assert handler.calls == 1
    assert len(dead_letters.published) == 1


WAIT_FAST = {"waiting_cap_seconds": 0.001}


async def test_a_message_waiting_for_what_it_refers_to_is_not_dead_lettered_by_the_attempts() -> (
    None
):
    """The label before its return: many more tries than the attempt bound, then it comes."""
    handler = Flaky(*[NotYet("return not known yet") for _ in range(50)])
    registry = CollectorRegistry()

    dead_letters = await _consume(
        handler, Retry(3, 0.0001, **WAIT_FAST), metrics=ConsumerMetrics(registry)
    )

    assert handler.calls == 51
    assert len(handler.handled) == 1
    assert dead_letters.published == []
    labels = {"consumer": "test", "topic": "returns.submitted"}
    assert registry.get_sample_value("consumer_waits_total", labels) == 50
    assert registry.get_sample_value("consumer_messages_waiting", labels) == 0


async def test_a_wait_past_its_horizon_ends_in_the_dlq() -> None:
    handler = Flaky(*[NotYet("never comes") for _ in range(100_000)])
    registry = CollectorRegistry()

    dead_letters = await _consume(
        handler,
        Retry(3, 0.0001, waiting_cap_seconds=0.001, waiting_budget_seconds=0.05),
        metrics=ConsumerMetrics(registry),
    )

    assert handler.handled == []
    [(_, headers)] = dead_letters.published
    assert headers[HEADER_ERROR_TYPE] == "NotYet"
    assert handler.calls > 3
    labels = {"consumer": "test", "topic": "returns.submitted", "error_type": "NotYet"}
    assert registry.get_sample_value("consumer_dead_letters_total", labels) == 1
    waiting = {"consumer": "test", "topic": "returns.submitted"}
    assert registry.get_sample_value("consumer_messages_waiting", waiting) == 0


async def test_waiting_tries_do_not_count_against_the_attempt_bound() -> None:
    handler = Flaky(RuntimeError("1"), NotYet("lag"), NotYet("lag"), RuntimeError("2"))

    dead_letters = await _consume(handler, Retry(3, 0.0001, **WAIT_FAST))

    assert len(handler.handled) == 1
    assert dead_letters.published == []


def test_waiting_delays_stay_under_their_own_cap() -> None:
    retry = Retry(8, 0.5, waiting_cap_seconds=5.0)

    assert 0.25 <= retry.waiting_delay(1) <= 0.5
    assert all(2.5 <= retry.waiting_delay(n) <= 5.0 for n in (5, 40, 5000))


def test_outage_delays_grow_and_stay_under_the_cap() -> None:
    retry = Retry(8, 0.5, unavailable_cap_seconds=30.0)

    assert 0.25 <= retry.outage_delay(1) <= 0.5
    assert all(15.0 <= retry.outage_delay(n) <= 30.0 for n in (7, 40, 5000))


async def _consume_unparseable(routes: Routes) -> DeadLetters:
    dead_letters = DeadLetters()
    consume = reliable(
        consumer="test",
        broker=cast(KafkaBroker, dead_letters),
        topics=Topics(),
        retry=Retry(3, 0.0001, **FAST),
        routes=routes,
    )
    await consume(_delivery(b"{not json"))
    return dead_letters


async def test_an_unparseable_message_goes_to_the_dlq_at_once() -> None:
    dead_letters = await _consume_unparseable(Routes().on(ReturnSubmitted, Flaky()))
    [(topic, headers)] = dead_letters.published
    assert (topic, headers[HEADER_ATTEMPTS]) == ("returns.submitted.dlq", "1")


async def test_a_topic_handler_can_take_an_unparseable_message_instead_of_the_dlq() -> None:
    seen: list[bytes] = []

    async def answer_sender(body: bytes, error: Exception) -> bool:
        seen.append(body)
        return True

    routes = (
        Routes().on(ReturnSubmitted, Flaky()).on_unparseable("returns.submitted", answer_sender)
    )
    dead_letters = await _consume_unparseable(routes)
    assert (seen, dead_letters.published) == ([b"{not json"], [])


async def test_an_unparseable_message_its_handler_declines_or_fails_on_is_dead_lettered() -> None:
    async def decline(body: bytes, error: Exception) -> bool:
        return False

    async def fail(body: bytes, error: Exception) -> bool:
        raise RuntimeError("cannot answer")

    for handler in (decline, fail):
        routes = Routes().on(ReturnSubmitted, Flaky()).on_unparseable("returns.submitted", handler)
        assert len((await _consume_unparseable(routes)).published) == 1


async def test_fields_a_newer_producer_added_reach_the_handler_not_the_dlq() -> None:
    """Rolling deploys: the consumer loop reads unknown fields tolerantly, at every depth."""
    event = return_submitted()
    data = json.loads(event.model_dump_json())
    data["added_by_a_newer_producer"] = "x"
    data["payload"]["items"][0]["added_by_a_newer_producer"] = {"nested": True}
    handler = Flaky()
    dead_letters = await _consume(handler, Retry(3, 0.0001, **FAST), json.dumps(data).encode())
    assert dead_letters.published == []
    assert handler.handled == [event]


async def test_a_message_that_does_not_parse_is_still_dead_lettered_at_once() -> None:
    data = json.loads(return_submitted().model_dump_json())
    data["payload"]["items"][0]["quantity"] = "many"
    handler = Flaky()
    dead_letters = await _consume(handler, Retry(3, 0.0001, **FAST), json.dumps(data).encode())
    assert handler.calls == 0
    [(topic, headers)] = dead_letters.published
    assert topic == "returns.submitted.dlq"
    assert (headers[HEADER_ERROR_TYPE], headers[HEADER_ATTEMPTS]) == ("InvalidMessageError", "1")
