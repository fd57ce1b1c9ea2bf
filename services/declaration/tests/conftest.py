"""The declaration app without its lifespan, for what is refused before storage."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from returns_declaration.config import DeclarationSettings
from returns_declaration.entrypoints.app import create_app

OPERATOR_TOKEN = "operator-token-of-this-test"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # ASGITransport does not run the lifespan (Kafka, MongoDB), so only what is refused
    # before reaching storage can be asked here.
    app = create_app(DeclarationSettings(admin_api_token=OPERATOR_TOKEN))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://declaration") as client:
        yield client
