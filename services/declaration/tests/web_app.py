"""How the unit tests of the entrypoints assemble the app on fakes (the one place to change when
the composition root changes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
from fastapi import FastAPI

from returns_declaration.adapters.media import MediaPhotoUploader
from returns_declaration.entrypoints.http import (
    back_office_router,
    install_error_handlers,
    portal_router,
)
from returns_declaration.entrypoints.pages import (
    LandingLinks,
    Pages,
    back_office_pages,
    landing_page,
    portal_pages,
)
from returns_declaration.service.ports import DeclarationStore, PhotoCatalog, RateLimiter
from returns_declaration.service.use_cases import DeclarationService, PortalLimits
from returns_declaration.service.users import MerchantUsers, UserStore


def build_test_app(
    *,
    store: DeclarationStore,
    catalog: PhotoCatalog,
    limiter: RateLimiter,
    users: UserStore,
    media_http: httpx.AsyncClient,
    clock: Callable[[], datetime],
    secret: str,
    operator_token: str,
    attempts_per_order: int,
) -> tuple[FastAPI, DeclarationService, MerchantUsers]:
    service = DeclarationService(
        store,
        catalog,
        limiter,
        lambda: None,
        back_office_base_url="http://bo.example/back-office",
        portal_token_secret=secret,
        limits=PortalLimits(attempts_per_order=attempts_per_order),
        clock=clock,
    )
    merchant_users = MerchantUsers(users)
    pages = Pages(
        service,
        merchant_users,
        MediaPhotoUploader(media_http),
        secret,
        LandingLinks("shop", "A-1", "ana@example.com", "julie@shop.example", None),
        trust_forwarded_for=False,
    )
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(back_office_router(service, operator_token, merchant_users))
    app.include_router(portal_router(service, False))
    app.include_router(landing_page(pages, "/docs"))
    app.include_router(portal_pages(pages))
    app.include_router(back_office_pages(pages))
    return app, service, merchant_users
