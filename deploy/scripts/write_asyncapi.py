"""Write every service's AsyncAPI document under docs/asyncapi/ (`make docs`).

Each app serves the same document at /asyncapi.json; building the apps without starting them
reads it without any server running.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from returns_declaration.entrypoints.app import create_app as declaration_app
from returns_labels.entrypoints.app import create_app as labels_app
from returns_media.entrypoints.app import create_app as media_app
from returns_notifier.entrypoints.app import create_app as notifier_app

APPS: dict[str, Callable[[], FastAPI]] = {
    "declaration": declaration_app,
    "media": media_app,
    "notifier": notifier_app,
    "labels": labels_app,
}


async def _document(name: str) -> Any:
    # The ASGI transport sends no lifespan events, so nothing connects to Kafka or MongoDB.
    transport = httpx.ASGITransport(app=APPS[name]())
    async with httpx.AsyncClient(transport=transport, base_url="http://docs") as client:
        response = await client.get("/asyncapi.json")
        response.raise_for_status()
        return response.json()


def main() -> int:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/asyncapi")
    target.mkdir(parents=True, exist_ok=True)
    for name in APPS:
        path = target / f"{name}.json"
        document = asyncio.run(_document(name))
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
