"""The customer's journey through the public portal API, exactly as the portal makes it.

One merchant with a defective and a classic reason is created with the operator token, then
one order per journey with its API key (the portal allows a few sign-ins per order and window,
so each journey signs in on an order of its own). A journey: session, draft with both lines,
a reason per line, for a defective return a JPEG uploaded to media with the draft token and
the comment via the defect step (the other line a return type), the summary, then the submit
with an Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from returns_bench.http import TRANSPORT_ERRORS, Answer, Http, Upload

DEFECTIVE_REASON = "damaged"
CLASSIC_REASON = "wrong_size"
REASONS: dict[str, dict[str, Any]] = {
    DEFECTIVE_REASON: {"label_fr": "Article abîmé", "label_en": "Damaged", "defective": True},
    CLASSIC_REASON: {"label_fr": "Mauvaise taille", "label_en": "Wrong size", "defective": False},
}
CUSTOMER_EMAIL = "bench.customer@example.com"
COMMENT = "Arrivé fêlé le long de l'anse."


class JourneyFailed(Exception):
    """A step answered an error: the journey stops there and is counted as failed."""


@dataclass(frozen=True)
class Shop:
    merchant_id: str
    api_key: str
    customer_service: str


@dataclass
class JourneyResult:
    """Times are `time.time()` seconds; `due` is when the journey was scheduled to start."""

    index: int
    defective: bool
    due: float
    started: float = 0.0
    submit_due: float = 0.0
    submit_sent: float = 0.0
    submit_done: float = 0.0
    finished: float = 0.0
    return_id: str | None = None
    error: str | None = None
    requests: int = 0
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.return_id is not None


def _check(answer: Answer) -> dict[str, Any]:
    if answer.is_error:
        raise JourneyFailed(
            f"{answer.method} {answer.path} answered {answer.status}: {answer.text[:200]}"
        )
    body: dict[str, Any] = answer.json()
    return body


async def create_shop(http: Http, declaration_url: str, admin_token: str) -> Shop:
    """A fresh merchant with both reasons and an API key, through the operator API."""
    merchant_id = f"bench-{uuid.uuid4().hex[:10]}"
    customer_service = f"cs-{merchant_id}@example.com"
    operator = {"Authorization": f"Bearer {admin_token}"}
    path = f"{declaration_url}/v1/merchants/{merchant_id}"
    settings = {
        "name": "Bench shop",
        "locale": "fr",
        "customer_service_email": customer_service,
        "return_window_days": 30,
        "return_types": ["refund", "exchange"],
        # Labels makes a classic return's label only once it knows where parcels go.
        "return_address": {
            "name": "Bench shop returns",
            "line1": "1 rue du Banc",
            "postal_code": "75011",
            "city": "Paris",
            "country": "FR",
        },
    }
    _check(await http.request("PUT", path, json=settings, headers=operator))
    for code, reason in REASONS.items():
        _check(await http.request("PUT", f"{path}/reasons/{code}", json=reason, headers=operator))
    key = _check(await http.request("POST", f"{path}/api-keys", headers=operator))
    return Shop(merchant_id, str(key["api_key"]), customer_service)


def order_body() -> dict[str, Any]:
    return {
        "ordered_on": (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
        "customer": {"name": "Camille Bench", "email": CUSTOMER_EMAIL},
        "lines": [
            {"line_id": "1", "sku": "MUG", "name": "Mug", "quantity": 2, "unit_price_cents": 900},
            {
                "line_id": "2",
                "sku": "TEE",
                "name": "T-shirt",
                "quantity": 1,
                "unit_price_cents": 1900,
            },
        ],
    }


async def create_orders(
    http: Http,
    declaration_url: str,
    shop: Shop,
    count: int,
    concurrency: int,
    on_done: Callable[[], None] = lambda: None,
) -> list[str]:
    """`count` orders of two lines through the back-office API, `concurrency` at a time."""
    numbers = [f"B-{index:07d}" for index in range(count)]
    headers = {"Authorization": f"Bearer {shop.api_key}"}
    base = f"{declaration_url}/v1/merchants/{shop.merchant_id}/orders"
    queue = iter(numbers)

    async def worker() -> None:
        for number in queue:
            order = order_body()
            _check_empty(await http.request("PUT", f"{base}/{number}", json=order, headers=headers))
            on_done()

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, count)))))
    return numbers


def _check_empty(answer: Answer) -> None:
    if answer.is_error:
        _check(answer)


@dataclass(frozen=True)
class Portal:
    declaration_url: str
    media_url: str
    shop: Shop
    photo: bytes


@dataclass(frozen=True)
class Prepared:
    """A journey walked up to its summary: what its submit needs."""

    draft_id: str
    session_token: str


class _Steps:
    """Sends one journey's requests and books their time in its result."""

    def __init__(self, http: Http, result: JourneyResult) -> None:
        self.http = http
        self.result = result

    async def call(self, step: str, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        began = time.time()
        try:
            answer = await self.http.request(method, url, **kwargs)
        except TRANSPORT_ERRORS as error:
            seconds = time.time() - began
            raise JourneyFailed(f"{step}: {type(error).__name__} after {seconds:.0f} s") from error
        self.result.requests += 1
        self.result.steps[step] = self.result.steps.get(step, 0.0) + time.time() - began
        return _check(answer)


def _portal_api(portal: Portal) -> str:
    return f"{portal.declaration_url}/v1/portal/{portal.shop.merchant_id}"


async def _prepare(steps: _Steps, portal: Portal, order_number: str, defective: bool) -> Prepared:
    call = steps.call
    shop = portal.shop
    api = _portal_api(portal)
    session = await call(
        "session",
        "POST",
        f"{api}/sessions",
        json={"order_number": order_number, "email": CUSTOMER_EMAIL},
    )
    auth = {"Authorization": f"Bearer {session['session_token']}"}
    lines = [{"line_id": "1", "quantity": 1}, {"line_id": "2", "quantity": 1}]
    draft = await call("draft", "POST", f"{api}/drafts", json={"lines": lines}, headers=auth)
    draft_id = draft["draft_id"]
    first = DEFECTIVE_REASON if defective else CLASSIC_REASON
    for line_id, reason in (("1", first), ("2", CLASSIC_REASON)):
        line = f"{api}/drafts/{draft_id}/lines/{line_id}"
        await call("reason", "PUT", f"{line}/reason", json={"reason_code": reason}, headers=auth)
        if reason == DEFECTIVE_REASON:
            photo = await call(
                "photo",
                "POST",
                f"{portal.media_url}/v1/merchants/{shop.merchant_id}/drafts/{draft_id}/photos",
                params={"line_id": line_id},
                upload=Upload("file", "photo.jpg", portal.photo, "image/jpeg"),
                headers={"Authorization": f"Bearer {draft['draft_token']}"},
            )
            await call(
                "defect",
                "PUT",
                f"{line}/defect",
                json={"comment": COMMENT, "photo_ids": [photo["photo_id"]]},
                headers=auth,
            )
        else:
            await call(
                "return_type",
                "PUT",
                f"{line}/return-type",
                json={"return_type": "refund"},
                headers=auth,
            )
    await call("summary", "GET", f"{api}/drafts/{draft_id}", headers=auth)
    return Prepared(str(draft_id), str(session["session_token"]))


async def _submit(steps: _Steps, portal: Portal, prepared: Prepared) -> None:
    result = steps.result
    result.submit_sent = time.time()
    answer = await steps.call(
        "submit",
        "POST",
        f"{_portal_api(portal)}/drafts/{prepared.draft_id}/submit",
        headers={
            "Authorization": f"Bearer {prepared.session_token}",
            "Idempotency-Key": f"bench-{prepared.draft_id}",
        },
    )
    result.submit_done = time.time()
    result.return_id = str(answer["return_id"])
    if bool(answer.get("defective")) != result.defective:
        result.error = f"the return came back defective={answer.get('defective')}"


async def _recorded(result: JourneyResult, work: Awaitable[object]) -> None:
    """Run `work`, writing an HTTP or protocol error into `result` rather than raising."""
    try:
        await work
    except JourneyFailed as error:
        result.error = f"{error}"
    except (*TRANSPORT_ERRORS, KeyError, ValueError) as error:
        result.error = f"{type(error).__name__}: {error}"


async def walk(
    http: Http, portal: Portal, order_number: str, result: JourneyResult
) -> JourneyResult:
    """One whole journey on `order_number`; fills `result` and returns it (never raises for
    an HTTP error: the error is recorded)."""
    result.started = time.time()
    steps = _Steps(http, result)

    async def whole() -> None:
        prepared = await _prepare(steps, portal, order_number, result.defective)
        result.submit_due = time.time()
        await _submit(steps, portal, prepared)

    await _recorded(result, whole())
    result.finished = time.time()
    return result


async def prepare(
    http: Http, portal: Portal, order_number: str, result: JourneyResult
) -> Prepared | None:
    """A burst's first phase: the journey up to its summary (None, with the error recorded in
    `result`, when a step failed)."""
    result.started = time.time()
    steps = _Steps(http, result)
    prepared: list[Prepared] = []

    async def walk_to_summary() -> None:
        prepared.append(await _prepare(steps, portal, order_number, result.defective))

    await _recorded(result, walk_to_summary())
    if not prepared:
        result.finished = time.time()
        return None
    return prepared[0]


async def submit_prepared(
    http: Http, portal: Portal, prepared: Prepared, result: JourneyResult
) -> JourneyResult:
    """A burst's second phase: the submit alone; `result.submit_due` is its scheduled time."""
    await _recorded(result, _submit(_Steps(http, result), portal, prepared))
    result.finished = time.time()
    return result
