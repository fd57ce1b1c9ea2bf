"""The four services' FastAPI apps, built as their processes build them, without any server.

`create_app` only creates clients (Kafka, MongoDB, S3, SMTP), which connect in the lifespan;
nothing here runs a lifespan, so the route tables and OpenAPI documents are read offline.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from returns_declaration.entrypoints.app import create_app as declaration_app
from returns_labels.entrypoints.app import create_app as labels_app
from returns_media.entrypoints.app import create_app as media_app
from returns_notifier.entrypoints.app import create_app as notifier_app

SERVICE_APPS: dict[str, Callable[[], FastAPI]] = {
    "declaration": declaration_app,
    "media": media_app,
    "notifier": notifier_app,
    "labels": labels_app,
}

# What every service serves through the service kit, so an empty walk cannot pass unnoticed.
KIT_ROUTES = ("/healthz", "/readyz", "/metrics", "/asyncapi", "/asyncapi.json", "/docs")


def build_apps() -> dict[str, FastAPI]:
    return {name: build() for name, build in SERVICE_APPS.items()}
