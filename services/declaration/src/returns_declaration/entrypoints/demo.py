"""Walk the customer's four steps over HTTP, as the portal does: `returns-demo-return`.

Signs in with the order number and e-mail, creates a draft (step 1), sets each line's reason
(step 2), its return type or its comment and photo - uploaded to media with the draft token
(step 3), reads the summary and submits it (step 4). The same functions serve the end-to-end
tests, so the demo and the tests go through one path.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx

DEMO_MERCHANT_ID = "demo-shop"
DEMO_CUSTOMER_EMAIL = "camille.martin@example.com"
DEMO_BACK_OFFICE_USER = "support@demo-shop.example"
# Demo value only (make run prints it); DEMO_BACK_OFFICE_PASSWORD replaces it.
DEMO_BACK_OFFICE_PASSWORD = "demo-shop-password"
# The service's own demo default; a real deployment sets ADMIN_API_TOKEN in both places.
DEMO_ADMIN_TOKEN = "demo-admin-token-change-me"


def demo_photo(
    width: int = 96, height: int = 64, rgb: tuple[int, int, int] = (200, 80, 40)
) -> bytes:
    """A small, valid PNG made without an imaging library (the demo needs only one photo)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


@dataclass
class LineChoice:
    """What the customer chooses for one order line."""

    line_id: str
    quantity: int
    reason_code: str
    return_type: str | None = None
    comment: str | None = None
    photos: list[bytes] = field(default_factory=list)


@dataclass
class Declaration:
    draft: dict[str, Any]
    summary: dict[str, Any]
    submitted: httpx.Response
    photo_ids: list[str]


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.is_error:
        raise httpx.HTTPStatusError(
            f"{response.request.method} {response.request.url} answered {response.status_code}: "
            f"{response.text}",
            request=response.request,
            response=response,
        )
    body: dict[str, Any] = response.json()
    return body


def configure_merchant(
    declaration: httpx.Client,
    admin_token: str,
    merchant_id: str,
    settings: dict[str, Any],
    reasons: dict[str, dict[str, Any]],
) -> str:
    """Create or update a merchant and its reasons with the operator token; a new API key."""
    operator = {"Authorization": f"Bearer {admin_token}"}
    path = f"/v1/merchants/{merchant_id}"
    _ok(declaration.put(path, json=settings, headers=operator))
    for code, reason in reasons.items():
        _ok(declaration.put(f"{path}/reasons/{code}", json=reason, headers=operator))
    return str(_ok(declaration.post(f"{path}/api-keys", headers=operator))["api_key"])


def add_back_office_user(
    declaration: httpx.Client,
    admin_token: str,
    merchant_id: str,
    email: str,
    password: str,
    display_name: str | None = None,
) -> None:
    """Create (or reset) a merchant user's back-office login with the operator token."""
    _ok(
        declaration.put(
            f"/v1/merchants/{merchant_id}/users/{email}",
            json={"password": password, "display_name": display_name},
            headers={"Authorization": f"Bearer {admin_token}"},
        )
    )


def put_order(
    declaration: httpx.Client, api_key: str, merchant_id: str, number: str, order: dict[str, Any]
) -> None:
    """Create or replace one order with the merchant's API key."""
    response = declaration.put(
        f"/v1/merchants/{merchant_id}/orders/{number}",
        json=order,
        headers={"Authorization": f"Bearer {api_key}"},
    )
    if response.is_error:
        _ok(response)


def open_session(
    declaration: httpx.Client, merchant_id: str, order_number: str, email: str
) -> dict[str, str]:
    """The Authorization header of a portal session."""
    session = _ok(
        declaration.post(
            f"/v1/portal/{merchant_id}/sessions",
            json={"order_number": order_number, "email": email},
        )
    )
    return {"Authorization": f"Bearer {session['session_token']}"}


def declare(
    declaration: httpx.Client,
    media: httpx.Client,
    merchant_id: str,
    order_number: str,
    email: str,
    lines: list[LineChoice],
    idempotency_key: str | None = None,
) -> Declaration:
    """The four steps; the submit answer is returned as is (201, or 200 when repeated)."""
    auth = open_session(declaration, merchant_id, order_number, email)
    portal = f"/v1/portal/{merchant_id}"
    draft = _ok(
        declaration.post(
            f"{portal}/drafts",
            json={"lines": [{"line_id": c.line_id, "quantity": c.quantity} for c in lines]},
            headers=auth,
        )
    )
    draft_id = draft["draft_id"]
    photo_ids: list[str] = []
    for choice in lines:
        line_path = f"{portal}/drafts/{draft_id}/lines/{choice.line_id}"
        _ok(
            declaration.put(
                f"{line_path}/reason", json={"reason_code": choice.reason_code}, headers=auth
            )
        )
        if choice.photos or choice.comment is not None:
            ids = [
                upload_photo(media, merchant_id, draft_id, draft["draft_token"], choice.line_id, p)
                for p in choice.photos
            ]
            photo_ids.extend(ids)
            _ok(
                declaration.put(
                    f"{line_path}/defect",
                    json={"comment": choice.comment, "photo_ids": ids},
                    headers=auth,
                )
            )
        else:
            _ok(
                declaration.put(
                    f"{line_path}/return-type",
                    json={"return_type": choice.return_type},
                    headers=auth,
                )
            )
    summary = _ok(declaration.get(f"{portal}/drafts/{draft_id}", headers=auth))
    headers = dict(auth)
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    submitted = declaration.post(f"{portal}/drafts/{draft_id}/submit", headers=headers)
    return Declaration(draft, summary, submitted, photo_ids)


def upload_photo(
    media: httpx.Client,
    merchant_id: str,
    draft_id: str,
    draft_token: str,
    line_id: str,
    photo: bytes,
) -> str:
    answer = _ok(
        media.post(
            f"/v1/merchants/{merchant_id}/drafts/{draft_id}/photos",
            params={"line_id": line_id},
            files={"file": ("photo.png", photo, "image/png")},
            headers={"Authorization": f"Bearer {draft_token}"},
        )
    )
    return str(answer["photo_id"])


def demo_lines(
    declaration: httpx.Client, order_number: str, email: str, classic_only: bool
) -> list[LineChoice]:
    """One item of each line still returnable: the first defective (unless classic_only), the
    next classic, so the demo can run again until the order is fully returned."""
    auth = open_session(declaration, DEMO_MERCHANT_ID, order_number, email)
    order = _ok(declaration.get(f"/v1/portal/{DEMO_MERCHANT_ID}/order", headers=auth))
    selectable = [line["line_id"] for line in order["lines"] if line["selectable"]]
    if not selectable:
        raise LookupError(f"nothing is left to return on {order_number}; try --order DEMO-1002")
    lines: list[LineChoice] = []
    if not classic_only:
        comment = "Le mug est arrivé fêlé."
        lines.append(
            LineChoice(selectable.pop(0), 1, "damaged", comment=comment, photos=[demo_photo()])
        )
    if selectable:
        lines.append(LineChoice(selectable[0], 1, "wrong_size", return_type="refund"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="declaration API")
    parser.add_argument("--media-url", default="http://127.0.0.1:8002", help="media API")
    parser.add_argument("--order", default="DEMO-1001")
    parser.add_argument("--email", default=DEMO_CUSTOMER_EMAIL)
    parser.add_argument(
        "--classic", action="store_true", help="a classic return (a label follows) instead"
    )
    arguments = parser.parse_args()
    try:
        with (
            httpx.Client(base_url=arguments.url, timeout=15.0) as declaration,
            httpx.Client(base_url=arguments.media_url, timeout=30.0) as media,
        ):
            lines = demo_lines(declaration, arguments.order, arguments.email, arguments.classic)
            done = declare(
                declaration, media, DEMO_MERCHANT_ID, arguments.order, arguments.email, lines
            )
            answer = _ok(done.submitted)
    except (httpx.HTTPError, LookupError) as error:
        print(f"demo return failed: {error}", file=sys.stderr)
        raise SystemExit(1) from error
    print(json.dumps(answer, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
