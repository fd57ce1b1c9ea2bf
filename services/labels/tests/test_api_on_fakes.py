"""The labels HTTP answers on in-memory fakes, assembled by the composition root as the process
does: the label status (internal token only) and the signed PDF link."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from returns_contracts.examples import merchant_updated, return_submitted
from returns_contracts.service_kit.http import install_operations
from returns_contracts.service_kit.testing import FakeClock
from returns_labels.bootstrap import Container
from returns_labels.config import LabelsSettings
from returns_labels.entrypoints.app import install_routes
from returns_labels.service.use_cases import UseCases

from .fakes import world_on_fakes

NOW = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)
NOT_FOUND = {"error": {"code": "not_found", "message": "No such return.", "fields": []}}
INTERNAL_TOKEN = "test-internal-token"
INTERNAL = {"X-Internal-Token": INTERNAL_TOKEN}
INTERNAL_ONLY = {
    "error": {
        "code": "invalid_token",
        "message": "This endpoint is for the other services of the platform only.",
        "fields": [],
    }
}
STATUS = "/internal/v1/merchants/{merchant_id}/returns/{return_id}/label"


@pytest.fixture
def container() -> Container:
    settings = LabelsSettings(
        labels_base_url="http://labels",
        label_link_secret="test-secret",
        internal_api_token=INTERNAL_TOKEN,
    )
    return world_on_fakes(settings, FakeClock(NOW)).container


@pytest.fixture
def service(container: Container) -> UseCases:
    return container.use_cases


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_operations(app, checks={}, registry=CollectorRegistry(), timeout_seconds=1.0)
    install_routes(app, container)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://labels") as client:
        yield client


def status_url(merchant_id: str, return_id: str) -> str:
    return STATUS.format(merchant_id=merchant_id, return_id=return_id)


async def test_the_label_status_answers_only_the_internal_token(
    service: UseCases, client: httpx.AsyncClient
) -> None:
    # The status carries the signed link to a PDF with the customer's name and address: no
    # caller without the platform's internal token may read it, whatever the ids.
    await service.automatic.record_merchant(merchant_updated())
    await service.automatic.record_submitted(return_submitted(return_id="r-1"))
    url = status_url("m-atelier", "r-1")

    anonymous = await client.get(url)
    wrong = await client.get(url, headers={"X-Internal-Token": "guess"})
    bearer = await client.get(url, headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
    unknown_anonymous = await client.get(status_url("m-atelier", "r-2"))
    allowed = await client.get(url, headers=INTERNAL)

    for refused in (anonymous, wrong, bearer, unknown_anonymous):
        assert (refused.status_code, refused.json()) == (401, INTERNAL_ONLY)
        assert "r-1" not in refused.text and "download_url" not in refused.text
    assert allowed.status_code == 200
    assert allowed.json()["label"]["download_url"].startswith("http://labels/l/")
    # The old public path is gone, not merely hidden.
    assert (await client.get("/v1/merchants/m-atelier/returns/r-1/label")).status_code == 404


async def test_the_status_of_a_defective_return_without_label(
    service: UseCases, client: httpx.AsyncClient
) -> None:
    await service.automatic.record_submitted(return_submitted(return_id="r-1", defective=True))

    found = await client.get(status_url("m-atelier", "r-1"), headers=INTERNAL)

    assert found.status_code == 200
    assert found.json() == {
        "return_id": "r-1",
        "merchant_id": "m-atelier",
        "status": "awaiting_merchant",
        "defective": True,
        "label": None,
        "voided_label_ids": [],
    }


async def test_another_merchant_s_return_answers_like_an_unknown_one(
    service: UseCases, client: httpx.AsyncClient
) -> None:
    await service.automatic.record_submitted(return_submitted(return_id="r-1"))

    unknown = await client.get(status_url("m-atelier", "r-2"), headers=INTERNAL)
    foreign = await client.get(status_url("m-other", "r-1"), headers=INTERNAL)

    assert (unknown.status_code, unknown.json()) == (404, NOT_FOUND)
    assert (foreign.status_code, foreign.json()) == (404, NOT_FOUND)


async def test_the_label_is_downloaded_through_its_signed_link_only(
    service: UseCases, client: httpx.AsyncClient
) -> None:
    await service.automatic.record_merchant(merchant_updated())
    await service.automatic.record_submitted(return_submitted(return_id="r-1"))
    status = (await client.get(status_url("m-atelier", "r-1"), headers=INTERNAL)).json()
    label = status["label"]
    assert status["status"] == "generated"

    download = await client.get(label["download_url"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.content == f"PDF {label['label_id']}".encode()

    tampered = label["download_url"].replace("sig=", "sig=x")
    no_signature = label["download_url"].split("?")[0]
    for url in (tampered, no_signature):
        refused = await client.get(url)
        assert refused.status_code == 404
        assert refused.json()["error"]["message"] == "This label link is not valid or has expired."


async def test_a_link_past_its_lifetime_answers_404_by_the_container_s_clock(
    container: Container, service: UseCases, client: httpx.AsyncClient
) -> None:
    # The route checks links against the injected clock, the same as the one that signs them.
    await service.automatic.record_merchant(merchant_updated())
    await service.automatic.record_submitted(return_submitted(return_id="r-1"))
    label = await service.queries.label_status("m-atelier", "r-1")
    assert label is not None and label.label is not None
    lifetime = timedelta(days=container.settings.label_link_lifetime_days)
    url = container.links.url(label.label.label_id, NOW - lifetime - timedelta(seconds=1))
    fresh = container.links.url(label.label.label_id, NOW)

    expired = await client.get(url)
    valid = await client.get(fresh)

    assert expired.status_code == 404
    assert valid.status_code == 200
