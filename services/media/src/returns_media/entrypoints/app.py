"""The media process: photo upload, signed links, the internal lookup, the ReturnSubmitted
consumer that keeps submitted photos, and the clean-up of abandoned drafts (or the consumer alone
in a process of its own: `PROCESS_ROLE`). What it runs on is built in `returns_media.bootstrap`;
this module only wires the entrypoints to it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from returns_contracts import CustomerAnswered, ReturnSubmitted
from returns_contracts.service_kit.kafka import Routes
from returns_contracts.service_kit.lifecycle import every
from returns_media.bootstrap import Container, connect
from returns_media.config import MediaSettings
from returns_media.entrypoints.deps import Deps
from returns_media.entrypoints.http import install_error_handlers, media_router


def install_routes(app: FastAPI, container: Container) -> None:
    """The routes, their error answers and the browsers' cross-origin policy, on the
    container's use cases (the unit tests call this with a container built on fakes)."""
    origins = [origin.strip() for origin in container.settings.media_cors_allow_origins.split(",")]
    if any(origins):
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[origin for origin in origins if origin],
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Correlation-ID"],
        )
    install_error_handlers(app)
    app.include_router(media_router(Deps(container)))


def create_app(settings: MediaSettings | None = None) -> FastAPI:
    settings = settings or MediaSettings()
    runtime = connect(settings)
    process = runtime.process
    service = runtime.container.service

    process.subscribe(
        Routes()
        .on(ReturnSubmitted, service.record_submitted)
        .on(CustomerAnswered, service.record_answered),
        description="Keeps the photos of submitted returns and of customers' answers to a "
        "question; the others are deleted later.",
    )
    app = process.app(
        title="Returns - media",
        description="Photos of returned items: checked, upright, stripped of metadata, stored "
        "in a private S3 bucket and shared through signed, expiring links.",
        asyncapi="Consumes ReturnSubmitted and CustomerAnswered.",
        prepare=[runtime.bucket.ensure_exists, runtime.store.create_indexes],
        loops={
            "media-clean-up": every(
                settings.media_cleanup_interval_seconds,
                service.clean_up_abandoned,
                "clean-up of abandoned drafts",
            )
        },
        close=[runtime.normaliser.close],
        checks={"s3": runtime.bucket.check},
    )
    if process.serves_api:
        install_routes(app, runtime.container)
    return app
