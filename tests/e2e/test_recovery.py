"""Recovery: the services come back by themselves when a server they use dies and comes back.

The faults are real: the store (FerretDB, every process of it) is killed with SIGKILL and
started again with the command line `returns-infra` uses; the broker is stopped the same way.
Nothing is mocked. Each test puts everything back before it ends, so the tests after it find
the servers and the four services as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from returns_contracts import ReturnSubmitted, parse_message
from returns_contracts.service_kit.settings import ServiceSettings
from returns_declaration.entrypoints.demo import DEMO_ADMIN_TOKEN, configure_merchant, put_order
from returns_infra import Infra
from returns_infra.fixtures import RunningServices
from returns_infra.kafka_probe import records_up_to_now
from returns_infra.processes import read_pid
from returns_infra.services import start_services, stop_services

pytestmark = pytest.mark.e2e

ADMIN_TOKEN = os.environ.get("ADMIN_API_TOKEN", DEMO_ADMIN_TOKEN)
EMAIL = "rio@example.com"
# How long a fault lasts: long enough for requests to pile up against the missing server.
OUTAGE_SECONDS = 6.0
# "Answers within seconds" once the server is back; generous for a loaded 2-core machine.
RECOVERY_SECONDS = 30.0


def _embedded(component: str, address: str) -> Infra:
    """The test profile's servers, if `address` is the embedded `component` this run started."""
    infra = Infra.for_profile("test")
    (server,) = infra.components([component])
    if read_pid(server.pid_path) is None or server.address().rstrip("/") not in address:
        pytest.skip(f"{address} is not an embedded {component} this test may kill")
    return infra


def _not_ready(urls: dict[str, str]) -> dict[str, str]:
    """Services whose /readyz does not answer 200 now, with what they said."""
    failing: dict[str, str] = {}
    for name, url in urls.items():
        try:
            response = httpx.get(f"{url}/readyz", timeout=10)
            if response.status_code != 200:
                failing[name] = response.text
        except httpx.HTTPError as error:
            failing[name] = repr(error)
    return failing


def _all_ready_within(urls: dict[str, str], seconds: float) -> dict[str, str]:
    """Poll every /readyz until all answer 200 (returns {}) or the deadline (what failed)."""
    deadline = time.monotonic() + seconds
    while True:
        failing = _not_ready(urls)
        if not failing or time.monotonic() > deadline:
            return failing
        time.sleep(0.5)


@pytest.fixture
def restore_services(services: RunningServices) -> Iterator[None]:
    """A test that fails leaves hung services behind: restart them for the tests after it."""
    yield
    if _all_ready_within(services.urls, 5):
        state_dir = Infra.for_profile("test").settings.state_dir
        stop_services(state_dir)
        start_services("test", state_dir, services.env)


def _shop(declaration_url: str, orders: int) -> tuple[str, str, list[str]]:
    """A fresh merchant with `orders` one-line orders: (merchant id, API key, order numbers)."""
    merchant_id = f"rec-{uuid.uuid4().hex[:10]}"
    settings = {
        "name": "Recovery shop",
        "locale": "en",
        "customer_service_email": f"cs-{merchant_id}@example.com",
        "return_window_days": 30,
        "return_types": ["refund"],
    }
    reasons = {"wrong_size": {"label_fr": "Taille", "label_en": "Wrong size", "defective": False}}
    order = {
        "ordered_on": time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3 * 86400)),
        "customer": {"name": "Rio", "email": EMAIL},
        "lines": [
            {"line_id": "1", "sku": "MUG", "name": "Mug", "quantity": 1, "unit_price_cents": 900}
        ],
    }
    numbers = [f"R-{index}" for index in range(orders)]
    with httpx.Client(base_url=declaration_url, timeout=30) as http:
        api_key = configure_merchant(http, ADMIN_TOKEN, merchant_id, settings, reasons)
        for number in numbers:
            put_order(http, api_key, merchant_id, number, order)
    return merchant_id, api_key, numbers


async def _draft(
    http: httpx.AsyncClient, merchant_id: str, number: str
) -> tuple[dict[str, str], str]:
    """A portal session and a draft ready to submit on order `number`."""
    portal = f"/v1/portal/{merchant_id}"
    session = await http.post(f"{portal}/sessions", json={"order_number": number, "email": EMAIL})
    session.raise_for_status()
    auth = {"Authorization": f"Bearer {session.json()['session_token']}"}
    draft = await http.post(
        f"{portal}/drafts", json={"lines": [{"line_id": "1", "quantity": 1}]}, headers=auth
    )
    draft.raise_for_status()
    draft_id = draft.json()["draft_id"]
    line = f"{portal}/drafts/{draft_id}/lines/1"
    for path, body in (
        ("reason", {"reason_code": "wrong_size"}),
        ("return-type", {"return_type": "refund"}),
    ):
        (await http.put(f"{line}/{path}", json=body, headers=auth)).raise_for_status()
    return auth, draft_id


async def test_every_service_answers_within_seconds_after_the_store_restarts_under_load(
    services: RunningServices, mongodb_url: str, restore_services: None
) -> None:
    """Issue 13: the store killed and restarted while requests came in left declaration hung
    for good (`/readyz` 503 "mongodb: no answer within 2.0s" with an idle store).

    While the store is down, clients keep calling declaration and give up after a second or
    two, and probes poll every service's /readyz, as a load balancer would. Once the store is
    back, every service must be ready again within seconds and a write must succeed.
    """
    infra = _embedded("mongo", mongodb_url)
    declaration = services.urls["declaration"]
    merchant_id, _, numbers = await asyncio.to_thread(_shop, declaration, 21)
    # The last order is kept for the write after the outage: the clients' sign-ins count
    # against their orders' attempt limit (10 per order), and may use it up.
    loaded, kept = numbers[:-1], numbers[-1]
    outage_over = asyncio.Event()

    async def impatient_client(http: httpx.AsyncClient) -> None:
        while not outage_over.is_set():
            number = random.choice(loaded)
            with contextlib.suppress(httpx.HTTPError):
                await http.post(
                    f"/v1/portal/{merchant_id}/sessions",
                    json={"order_number": number, "email": EMAIL},
                    timeout=random.uniform(0.5, 3.0),
                )

    async def probe(http: httpx.AsyncClient, url: str) -> None:
        while not outage_over.is_set():
            with contextlib.suppress(httpx.HTTPError):
                await http.get(f"{url}/readyz", timeout=10)
            await asyncio.sleep(0.2)

    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=declaration, limits=limits) as http:
        load = [asyncio.create_task(impatient_client(http)) for _ in range(50)]
        load += [
            asyncio.create_task(probe(http, url)) for url in services.urls.values() for _ in "ab"
        ]
        try:
            killed = await asyncio.to_thread(infra.kill, ["mongo"])
            assert killed == ["mongo"]
            await asyncio.sleep(OUTAGE_SECONDS)
            await asyncio.to_thread(infra.start, ["mongo"])
        finally:
            outage_over.set()
            await asyncio.gather(*load)

    failing = await asyncio.to_thread(_all_ready_within, services.urls, RECOVERY_SECONDS)
    assert failing == {}, f"not ready {RECOVERY_SECONDS}s after the store came back: {failing}"
    async with httpx.AsyncClient(base_url=declaration, timeout=30) as http:
        auth, draft_id = await _draft(http, merchant_id, kept)
        submitted = await http.post(
            f"/v1/portal/{merchant_id}/drafts/{draft_id}/submit", headers=auth
        )
    assert submitted.status_code == 201, submitted.text


async def _published(bootstrap_servers: str, topic: str, return_id: str) -> list[ReturnSubmitted]:
    found: list[ReturnSubmitted] = []
    for record in await records_up_to_now(bootstrap_servers, [topic]):
        message = parse_message(record.value)
        if isinstance(message, ReturnSubmitted) and message.payload.return_id == return_id:
            found.append(message)
    return found


async def test_a_submit_answers_while_the_broker_is_down_and_its_event_leaves_once_it_is_back(
    services: RunningServices,
    kafka_bootstrap_servers: str,
    restore_services: None,
) -> None:
    """Issue 13: submits waited on a dead broker. The outbox decouples them: the return and
    its ReturnSubmitted are stored together and the submit answers; the relay publishes the
    event (the stored event id) once the broker is back."""
    infra = _embedded("kafka", kafka_bootstrap_servers)
    declaration = services.urls["declaration"]
    topic = ServiceSettings().topics.for_message(ReturnSubmitted)
    merchant_id, api_key, numbers = await asyncio.to_thread(_shop, declaration, 1)
    async with httpx.AsyncClient(base_url=declaration, timeout=30) as http:
        auth, draft_id = await _draft(http, merchant_id, numbers[0])
        try:
            assert await asyncio.to_thread(infra.kill, ["kafka"]) == ["kafka"]
            # A client that gives up after 10 s, as the one of the issue did after 20 s.
            submitted = await http.post(
                f"/v1/portal/{merchant_id}/drafts/{draft_id}/submit", headers=auth, timeout=10
            )
            assert submitted.status_code == 201, submitted.text
            return_id = submitted.json()["return_id"]
            record = await http.get(
                f"/v1/merchants/{merchant_id}/returns/{return_id}",
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=10,
            )
            assert record.status_code == 200, record.text
            (entry,) = [e for e in record.json()["timeline"] if e["kind"] == "submitted"]
        finally:
            await asyncio.to_thread(infra.start, ["kafka"])

    deadline = time.monotonic() + 60
    while not (published := await _published(kafka_bootstrap_servers, topic, return_id)):
        assert time.monotonic() < deadline, "ReturnSubmitted not published 60s after the broker"
        await asyncio.sleep(0.5)
    assert {str(message.event_id) for message in published} == {entry["event_id"]}
    failing = await asyncio.to_thread(_all_ready_within, services.urls, RECOVERY_SECONDS)
    assert failing == {}, f"not ready {RECOVERY_SECONDS}s after the broker came back: {failing}"
