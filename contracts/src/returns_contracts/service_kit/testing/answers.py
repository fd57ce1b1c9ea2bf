"""What every service's refusals look like to a client: the one error shape of the kit."""

from __future__ import annotations

from typing import Any

import httpx


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The error of a refusal in the one error shape (`{"error": {"code", "message",
    "fields"}}`), with the expected status and code and a message a person can read."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error.get("fields", []), list)
    return error
