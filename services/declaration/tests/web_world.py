"""The declaration app (JSON API and pages) on in-memory fakes, for unit tests of the entrypoints.

No server: requests go over httpx's ASGI transport (the lifespan, Kafka and MongoDB never run);
media's upload answers from an httpx mock transport; the clock is the kit's FakeClock.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from returns_contracts.service_kit.testing import FakeClock
from returns_declaration.adapters.media import MediaPhotoUploader
from returns_declaration.domain.model import MerchantSettings
from returns_declaration.service.errors import InvalidCursor
from returns_declaration.service.ports import MerchantUser, ReturnFilter, ReturnPage

from .builders import NOW, merchant, order
from .fakes import FakePhotoCatalog, InMemoryRateLimiter, InMemoryStore
from .test_users import InMemoryUsers

SECRET = "portal-secret-of-this-test"
OPERATOR_TOKEN = "operator-token-of-this-test"
CSRF = "csrf-of-this-test"
USER_EMAIL = "julie@shop.example"
USER_PASSWORD = "correct horse battery"
ATTEMPTS_PER_ORDER = 3


class CursorCheckingStore(InMemoryStore):
    """The in-memory store, refusing a cursor it did not give out as the real one does."""

    async def list_returns(
        self, merchant_id: str, where: ReturnFilter, limit: int, cursor: str | None
    ) -> ReturnPage:
        if cursor is not None and not cursor.isdigit():
            raise InvalidCursor(cursor)
        return await super().list_returns(merchant_id, where, limit, cursor)


@dataclass
class FakeMedia:
    """Media's upload and delete routes, as the uploader calls them."""

    uploads: list[tuple[str, str, bytes]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    refuse_with: int | None = None
    down: bool = False
    catalog: FakePhotoCatalog = field(default_factory=FakePhotoCatalog)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            return httpx.Response(503, json={"error": {"code": "down", "message": "down"}})
        if self.refuse_with is not None:
            return httpx.Response(
                self.refuse_with, json={"error": {"code": "refused", "message": "no"}}
            )
        parts = request.url.path.split("/")
        if request.method == "DELETE":
            self.removed.append(parts[-1])
            return httpx.Response(204)
        merchant_id, draft_id = parts[3], parts[5]
        line_id = request.url.params["line_id"]
        photo_id = f"photo-{len(self.uploads) + 1}"
        self.uploads.append((draft_id, line_id, request.read()))
        self.catalog.add(photo_id, merchant_id, draft_id)
        return httpx.Response(
            201,
            content=json.dumps({"photo_id": photo_id, "thumbnail_url": f"https://t/{photo_id}"}),
        )


@dataclass
class World:
    client: httpx.AsyncClient
    store: CursorCheckingStore
    media: FakeMedia
    clock: FakeClock
    users: InMemoryUsers

    async def api_session(self, order_number: str = "A-1") -> dict[str, str]:
        answer = await self.client.post(
            "/v1/portal/shop/sessions",
            json={"order_number": order_number, "email": "ana@example.com"},
        )
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['session_token']}"}

    async def api_return(self, headers: dict[str, str] | None = None) -> str:
        """A classic return of line 2 submitted through the portal API; its id."""
        headers = headers or await self.api_session()
        draft = await self.client.post(
            "/v1/portal/shop/drafts",
            json={"lines": [{"line_id": "2", "quantity": 1}]},
            headers=headers,
        )
        assert draft.status_code == 201, draft.text
        line = f"/v1/portal/shop/drafts/{draft.json()['draft_id']}/lines/2"
        for path, body in (
            ("reason", {"reason_code": "too_big"}),
            ("return-type", {"return_type": "refund"}),
        ):
            chosen = await self.client.put(f"{line}/{path}", json=body, headers=headers)
            assert chosen.status_code == 200, chosen.text
        submitted = await self.client.post(
            f"/v1/portal/shop/drafts/{draft.json()['draft_id']}/submit", headers=headers
        )
        assert submitted.status_code == 201, submitted.text
        return str(submitted.json()["return_id"])

    async def page_sign_in(self) -> None:
        answer = await self.client.post(
            "/portal/shop", data={"csrf": CSRF, "order_number": "A-1", "email": "ana@example.com"}
        )
        assert answer.status_code == 303, answer.text

    async def back_office_sign_in(self) -> None:
        answer = await self.client.post(
            "/back-office/login",
            data={"csrf": CSRF, "email": USER_EMAIL, "password": USER_PASSWORD, "next": ""},
        )
        assert answer.status_code == 303, answer.text


_HASHED_USER: list[MerchantUser] = []


@asynccontextmanager
async def world(*, csrf: bool = True) -> AsyncIterator[World]:
    from .web_app import build_test_app

    store = CursorCheckingStore()
    media = FakeMedia()
    clock = FakeClock(NOW)
    users = InMemoryUsers()
    media_http = httpx.AsyncClient(
        base_url="http://media.invalid", transport=httpx.MockTransport(media.handle)
    )
    app, container = build_test_app(
        store=store,
        catalog=media.catalog,
        limiter=InMemoryRateLimiter(),
        users=users,
        uploader=MediaPhotoUploader(media_http),
        clock=clock,
        secret=SECRET,
        operator_token=OPERATOR_TOKEN,
        attempts_per_order=ATTEMPTS_PER_ORDER,
    )
    service, merchant_users = container, container.users
    for shop in (merchant(), merchant(locale="en", merchant_id="other")):
        settings = MerchantSettings.model_validate(
            shop.model_dump(include=set(MerchantSettings.model_fields))
        )
        await service.merchants.configure_merchant(shop.id, settings, "c")
        for reason in shop.reasons:
            await service.merchants.put_reason(shop.id, reason, "c")
    await service.merchants.save_order(order())
    await service.merchants.save_order(order(merchant_id="other"))
    if not _HASHED_USER:  # scrypt is slow on purpose: hash once for the whole run
        _HASHED_USER.append(
            await merchant_users.set_user("shop", USER_EMAIL, USER_PASSWORD, "Julie")
        )
    await users.save_user(_HASHED_USER[0])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://declaration") as client:
        if csrf:
            client.cookies.set("csrf", CSRF)
        yield World(client, store, media, clock, users)
    await media_http.aclose()
