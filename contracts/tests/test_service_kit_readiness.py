"""/readyz reports a check that overruns its time, and leaves it to finish instead of cancelling
it: cancelling a driver call from outside can leave the driver's locks held (issue 13)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

from returns_contracts.service_kit.http import install_operations


async def test_an_overrunning_check_is_reported_and_not_cancelled() -> None:
    release = asyncio.Event()
    outcome: list[str] = []

    async def slow() -> object:
        try:
            await release.wait()
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        outcome.append("finished")
        return True

    async def fine() -> object:
        return True

    app = FastAPI()
    checks = {"store": slow, "broker": fine}
    install_operations(app, checks=checks, registry=CollectorRegistry(), timeout_seconds=0.2)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"store": "no answer within 0.2s", "broker": "ok"}
    release.set()
    for _ in range(100):
        if outcome:
            break
        await asyncio.sleep(0.01)
    assert outcome == ["finished"]


async def test_a_failing_check_says_why() -> None:
    async def refused() -> object:
        raise ConnectionError("no route")

    app = FastAPI()
    install_operations(
        app, checks={"store": refused}, registry=CollectorRegistry(), timeout_seconds=1.0
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"store": "failed: ConnectionError: no route"}


async def test_a_store_that_does_not_answer_gives_a_503_in_the_error_shape() -> None:
    app = FastAPI()
    install_operations(app, checks={}, registry=CollectorRegistry(), timeout_seconds=1.0)

    @app.get("/down")
    async def down() -> None:
        raise ServerSelectionTimeoutError("127.0.0.1:27017: connection refused")

    @app.get("/broken")
    async def broken() -> None:
        raise OperationFailure("unknown operator: $nope")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        unavailable = await http.get("/down")
        failed = await http.get("/broken")
    assert unavailable.status_code == 503
    assert unavailable.headers["Retry-After"] == "5"
    assert unavailable.json()["error"]["code"] == "store_unavailable"
    assert "27017" not in unavailable.text
    assert failed.status_code == 500
    assert failed.json()["error"]["code"] == "internal_error"


async def test_metrics_tell_prometheus_which_readiness_check_fails() -> None:
    """Alerts read service_ready: each scrape of /metrics runs the readiness checks again."""
    broken = {"now": True}

    async def store() -> object:
        if broken["now"]:
            raise ConnectionError("no route")
        return True

    async def fine() -> object:
        return True

    app = FastAPI()
    registry = CollectorRegistry()
    install_operations(
        app, checks={"store": store, "broker": fine}, registry=registry, timeout_seconds=1.0
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        failing = (await http.get("/metrics")).text
        broken["now"] = False
        passing = (await http.get("/metrics")).text
    assert "service_ready 0.0" in failing
    assert 'readiness_check_ok{check="store"} 0.0' in failing
    assert 'readiness_check_ok{check="broker"} 1.0' in failing
    assert "service_ready 1.0" in passing
    assert 'readiness_check_ok{check="store"} 1.0' in passing
