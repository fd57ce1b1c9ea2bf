"""Declaration as two processes (`PROCESS_ROLE`): the API and pages in one, the timeline
consumer in the other, which serves only the operations endpoints. Building the apps connects to
nothing; the end-to-end tests run both processes on the real servers."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from returns_declaration.config import DeclarationSettings
from returns_declaration.entrypoints.app import create_app


async def _status(app: FastAPI, path: str) -> int:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://declaration") as client:
        return (await client.get(path)).status_code


async def test_the_consumers_process_serves_operations_but_not_the_api() -> None:
    app = create_app(DeclarationSettings(process_role="consumers"))

    assert await _status(app, "/healthz") == 200
    assert await _status(app, "/v1/merchants/demo-shop") == 404
    assert await _status(app, "/portal/demo-shop") == 404
    assert "/v1/merchants/{merchant_id}" not in app.openapi()["paths"]


async def test_the_api_process_serves_the_api() -> None:
    app = create_app(DeclarationSettings(process_role="api"))

    assert "/v1/merchants/{merchant_id}" in app.openapi()["paths"]
    assert await _status(app, "/healthz") == 200
