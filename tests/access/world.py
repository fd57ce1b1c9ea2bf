"""Two merchants, A and B, with data of every kind, made through the running services.

Each has: settings, a defective and a classic reason, an API key, a back-office user, an order,
a submitted defective return with a photo, a submitted classic return with its label, and an
open draft with a photo; plus the credentials of every kind a caller can hold (API key,
back-office session cookie, portal session, draft token) and signed links (photos, label).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from returns_declaration.entrypoints.demo import (
    DEMO_ADMIN_TOKEN,
    LineChoice,
    add_back_office_user,
    declare,
    demo_photo,
    open_session,
    upload_photo,
)
from returns_infra.testing import eventually

WAIT = 90.0
PASSWORD = "isolation-matrix-password"


@dataclass
class Merchant:
    id: str
    name: str
    customer_service: str
    customer_name: str
    customer_email: str
    order_number: str
    user_email: str
    reason_labels: tuple[str, ...]
    comment: str
    api_key: str = ""
    key_id: str = ""
    back_office_cookie: str = ""
    portal_token: str = ""
    defective_return: str = ""
    classic_return: str = ""
    photo_ids: list[str] = field(default_factory=list)
    photo_url: str = ""
    label_id: str = ""
    label_url: str = ""
    draft_id: str = ""
    draft_token: str = ""
    draft_photo_id: str = ""

    def private_markers(self) -> set[str]:
        """What must never appear in an answer to anyone but this merchant's own callers."""
        return {
            self.customer_name,
            self.customer_email,
            self.order_number,
            self.user_email,
            self.customer_service,
            self.comment,
            *self.reason_labels,
            self.defective_return,
            self.classic_return,
            self.draft_id,
            self.draft_photo_id,
            self.label_id,
            *self.photo_ids,
        } - {""}


def new_merchant(tag: str) -> Merchant:
    suffix = uuid.uuid4().hex[:8]
    merchant_id = f"iso-{tag.lower()}-{suffix}"
    return Merchant(
        id=merchant_id,
        name=f"Shop {tag} {suffix}",
        customer_service=f"cs-{merchant_id}@shop.example",
        customer_name=f"Customer{tag} Zq{suffix}",
        customer_email=f"customer-{merchant_id}@mail.example",
        order_number=f"ORD-{tag}-{suffix}",
        user_email=f"user-{merchant_id}@shop.example",
        reason_labels=(f"Damaged {tag}{suffix}", f"Too small {tag}{suffix}"),
        comment=f"The lamp of {tag}{suffix} arrived broken in two pieces.",
    )


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.is_success, f"{response.request.url}: {response.status_code} {response.text}"
    body: dict[str, Any] = response.json() if response.content else {}
    return body


def _settings(shop: Merchant) -> dict[str, Any]:
    return {
        "name": shop.name,
        "locale": "en",
        "customer_service_email": shop.customer_service,
        "return_window_days": 30,
        "return_types": ["refund", "exchange"],
        "return_address": {
            "name": shop.name,
            "line1": "1 rue des Retours",
            "postal_code": "69007",
            "city": "Lyon",
            "country": "FR",
        },
    }


def _order(shop: Merchant) -> dict[str, Any]:
    return {
        "ordered_on": (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
        "customer": {
            "name": shop.customer_name,
            "email": shop.customer_email,
            "address": {
                "line1": "3 place Bellecour",
                "postal_code": "69002",
                "city": "Lyon",
                "country": "FR",
            },
        },
        "lines": [
            {
                "line_id": "1",
                "sku": "LAMP",
                "name": "Lamp",
                "quantity": 3,
                "unit_price_cents": 4900,
            },
            {
                "line_id": "2",
                "sku": "TEE",
                "name": "T-shirt",
                "quantity": 2,
                "unit_price_cents": 1900,
            },
        ],
    }


def set_up(declaration: httpx.Client, media: httpx.Client, shop: Merchant) -> None:
    operator = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}
    base = f"/v1/merchants/{shop.id}"
    _ok(declaration.put(base, json=_settings(shop), headers=operator))
    damaged, small = shop.reason_labels
    for code, label, defective in (("damaged", damaged, True), ("too_small", small, False)):
        reason = {"label_fr": label, "label_en": label, "defective": defective}
        _ok(declaration.put(f"{base}/reasons/{code}", json=reason, headers=operator))
    key = _ok(declaration.post(f"{base}/api-keys", headers=operator))
    shop.api_key, shop.key_id = key["api_key"], key["key_id"]
    add_back_office_user(declaration, DEMO_ADMIN_TOKEN, shop.id, shop.user_email, PASSWORD)
    auth = {"Authorization": f"Bearer {shop.api_key}"}
    order = _order(shop)
    answer = declaration.put(f"{base}/orders/{shop.order_number}", json=order, headers=auth)
    assert answer.status_code == 204, answer.text

    broken = LineChoice("1", 1, "damaged", comment=shop.comment, photos=[demo_photo()])
    done = declare(declaration, media, shop.id, shop.order_number, shop.customer_email, [broken])
    shop.defective_return = _ok(done.submitted)["return_id"]
    shop.photo_ids = done.photo_ids
    classic = LineChoice("2", 1, "too_small", return_type="refund")
    done = declare(declaration, media, shop.id, shop.order_number, shop.customer_email, [classic])
    shop.classic_return = _ok(done.submitted)["return_id"]

    # An open draft with a photo, and the customer's portal session.
    session = open_session(declaration, shop.id, shop.order_number, shop.customer_email)
    shop.portal_token = session["Authorization"].removeprefix("Bearer ")
    draft = _ok(
        declaration.post(
            f"/v1/portal/{shop.id}/drafts",
            json={"lines": [{"line_id": "1", "quantity": 1}]},
            headers=session,
        )
    )
    shop.draft_id, shop.draft_token = draft["draft_id"], draft["draft_token"]
    shop.draft_photo_id = upload_photo(
        media, shop.id, shop.draft_id, shop.draft_token, "1", demo_photo(rgb=(10, 200, 90))
    )

    # The back-office session cookie of the merchant's user.
    with httpx.Client(base_url=str(declaration.base_url), timeout=15) as browser:
        page = browser.get("/back-office/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        signed_in = browser.post(
            "/back-office/login",
            data={"csrf": csrf.group(1), "email": shop.user_email, "password": PASSWORD},
        )
        assert signed_in.status_code == 303, signed_in.text
        shop.back_office_cookie = browser.cookies["back_office_session"]


def wait_for_label_and_photos(declaration: httpx.Client, shop: Merchant) -> None:
    auth = {"Authorization": f"Bearer {shop.api_key}"}
    base = f"/v1/merchants/{shop.id}/returns"

    def labelled() -> dict[str, Any] | None:
        record = _ok(declaration.get(f"{base}/{shop.classic_return}", headers=auth))
        return record if record["label_status"] == "generated" else None

    record = eventually(labelled, WAIT, f"the label of {shop.id}'s classic return")
    shop.label_id = record["label"]["label_id"]
    shop.label_url = record["label"]["download_url"]
    defective = _ok(declaration.get(f"{base}/{shop.defective_return}", headers=auth))
    [photo] = defective["lines"][0]["photos"]
    shop.photo_url = photo["url"]
