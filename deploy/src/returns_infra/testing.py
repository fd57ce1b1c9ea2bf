"""Helpers for tests that talk to the real servers: read Mailpit, poll with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Call `probe` until it returns something other than None; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        time.sleep(0.25)


def messages_to(api_url: str, address: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{api_url}/api/v1/search", params={"query": f'to:"{address}"', "limit": 200}, timeout=10
    )
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()["messages"]
    return found


def wait_for_messages_to(
    api_url: str, address: str, count: int, timeout: float = 60.0
) -> list[dict[str, Any]]:
    """Poll until at least `count` messages reached `address`; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = messages_to(api_url, address)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(
                f"expected {count} e-mail(s) to {address} within {timeout}s, got {len(found)}"
            )
        time.sleep(0.25)


def message_detail(api_url: str, message_id: str) -> dict[str, Any]:
    response = httpx.get(f"{api_url}/api/v1/message/{message_id}", timeout=10)
    response.raise_for_status()
    detail: dict[str, Any] = response.json()
    return detail


def raw_message(api_url: str, message_id: str) -> bytes:
    """The message exactly as the SMTP server received it (headers and body, unparsed)."""
    response = httpx.get(f"{api_url}/api/v1/message/{message_id}/raw", timeout=10)
    response.raise_for_status()
    return response.content
