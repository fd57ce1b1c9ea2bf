"""The media process: its S3 bucket and the operations endpoints (photo upload comes later).

Media has no Kafka role yet, so it has no broker and no AsyncAPI document.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from returns_contracts.service_kit.app import mongo_check, new_mongo_client
from returns_contracts.service_kit.http import install_operations
from returns_contracts.service_kit.logging import configure_logging
from returns_media.adapters.s3 import PhotoBucket, new_minio_client
from returns_media.config import MediaSettings


def create_app(settings: MediaSettings | None = None) -> FastAPI:
    settings = settings or MediaSettings()
    configure_logging(settings.service_name, settings.log_level)
    registry = CollectorRegistry()
    mongo = new_mongo_client(settings)
    bucket = PhotoBucket(
        new_minio_client(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            region=settings.s3_region,
            connect_timeout=settings.s3_connect_timeout_seconds,
            read_timeout=settings.s3_read_timeout_seconds,
        ),
        settings.s3_bucket,
        settings.s3_region,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await bucket.ensure_exists()
        try:
            yield
        finally:
            await mongo.close()

    app = FastAPI(
        title="Returns - media",
        version="0.1.0",
        description="Photos of returned items, stored in S3.",
        lifespan=lifespan,
    )
    install_operations(
        app,
        checks={"mongodb": mongo_check(mongo), "s3": bucket.check},
        registry=registry,
        timeout_seconds=settings.readiness_timeout_seconds,
    )
    return app
