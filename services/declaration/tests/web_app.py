"""How the unit tests of the entrypoints assemble the app on fakes: the composition root with
in-memory adapters, and the routes as the process installs them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from returns_declaration.bootstrap import Adapters, Container, build_container
from returns_declaration.config import DeclarationSettings
from returns_declaration.entrypoints.app import install_routes
from returns_declaration.service.ports import (
    DeclarationStore,
    PhotoCatalog,
    PhotoUploader,
    RateLimiter,
    UserStore,
)


def build_test_app(
    *,
    store: DeclarationStore,
    catalog: PhotoCatalog,
    limiter: RateLimiter,
    users: UserStore,
    uploader: PhotoUploader,
    clock: Callable[[], datetime],
    secret: str,
    operator_token: str,
    attempts_per_order: int = 10,
    trust_forwarded_for: bool = False,
    failures_per_client: int = 100,
) -> tuple[FastAPI, Container]:
    settings = DeclarationSettings(
        back_office_base_url="http://bo.example/back-office",
        portal_token_secret=secret,
        admin_api_token=operator_token,
        portal_attempts_per_order=attempts_per_order,
        portal_failures_per_client=failures_per_client,
        trust_forwarded_for=trust_forwarded_for,
    )
    container = build_container(
        settings,
        Adapters(
            store=store,
            photos=catalog,
            limiter=limiter,
            users=users,
            uploader=uploader,
            clock=clock,
        ),
    )
    app = FastAPI()
    install_routes(app, container)
    return app, container
