"""The HTTP surface every service shares: correlation ids and request metrics."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from returns_contracts.service_kit.http import CORRELATION_HEADER, install_operations
from returns_contracts.service_kit.logging import correlation_id_var


def _app() -> tuple[FastAPI, CollectorRegistry]:
    app = FastAPI()
    registry = CollectorRegistry()
    install_operations(app, checks={}, registry=registry, timeout_seconds=1.0)

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str | None]:
        return {"thing": thing_id, "correlation_id": correlation_id_var.get()}

    return app, registry


async def test_a_request_is_handled_under_its_correlation_id_and_answers_with_it() -> None:
    app, _ = _app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        given = await client.get("/things/a", headers={CORRELATION_HEADER: "c-123"})
        fresh = await client.get("/things/b")
    assert given.headers[CORRELATION_HEADER] == "c-123"
    assert given.json() == {"thing": "a", "correlation_id": "c-123"}
    assert fresh.headers[CORRELATION_HEADER] == fresh.json()["correlation_id"] != "c-123"
    assert len(fresh.headers.get_list(CORRELATION_HEADER)) == 1


async def test_requests_are_counted_by_route_template_and_status() -> None:
    app, registry = _app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        for thing in ("a", "b"):
            assert (await client.get(f"/things/{thing}")).status_code == 200
        assert (await client.get("/nowhere")).status_code == 404

    def count(route: str, status: str) -> float | None:
        labels = {"method": "GET", "route": route, "status": status}
        return registry.get_sample_value("http_requests_total", labels)

    assert count("/things/{thing_id}", "200") == 2
    assert count("unmatched", "404") == 1
    latency = {"method": "GET", "route": "/things/{thing_id}"}
    assert registry.get_sample_value("http_request_duration_seconds_count", latency) == 2
