"""Tenant isolation, generated from the four services' route tables (issue 10; R12).

Two merchants, A and B, with data of every kind (`world.py`), on the real services. For every
route that touches merchant data, `CASES` makes attempts on B's data with merchant A's
credentials, with none, and with a credential of the wrong kind (B's own, even: a portal
session where an API key is expected, a draft token on the back-office, a signed link altered
to another id...). Each attempt must be refused (401/403/404 in the one error shape, or a
sign-in redirect or "not found" page for pages) and its body must carry no data of B. A route
of the route table with no case fails the test: "new route X has no isolation case".

Then a `LabelRequested` published on the topic, naming merchant A with B's return, must make
no label; and afterwards B's data must be exactly as it was.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker

from returns_contracts import (
    Actor,
    LabelGenerated,
    LabelRejected,
    LabelRequested,
    LabelRequestedPayload,
    Topics,
    parse_message,
)
from returns_contracts.examples import return_submitted
from returns_contracts.service_kit.access import INTERNAL_TOKEN_HEADER, Access, route_access
from returns_contracts.service_kit.kafka import publish, server_list
from returns_contracts.service_kit.settings import ServiceSettings
from returns_declaration.config import DeclarationSettings
from returns_declaration.entrypoints.demo import DEMO_ADMIN_TOKEN, demo_photo
from returns_declaration.service.customer_links import CustomerLinks
from returns_infra.fixtures import RunningServices
from returns_infra.kafka_probe import key_beside

from .apps import build_apps
from .world import PASSWORD, Merchant, new_merchant, set_up, wait_for_label_and_photos

pytestmark = pytest.mark.e2e

CSRF = "isolation-matrix-csrf"
OPERATOR = os.environ.get("ADMIN_API_TOKEN", DEMO_ADMIN_TOKEN)
INTERNAL_TOKEN = ServiceSettings().internal_api_token
RouteKey = tuple[str, str, str]  # (service, METHOD, path template)


@dataclass(frozen=True)
class World:
    a: Merchant
    b: Merchant
    urls: dict[str, str]


@dataclass
class Attempt:
    """One request that must be refused."""

    case: str
    service: str
    method: str
    path: str
    expect: str
    """"api": 401/403/404 in the one error shape; "page": sign-in redirect or a 403/404 page;
    "sign_in": a refused sign-in (401/422 in the one shape, or the form again)."""
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    form: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    params: dict[str, str] | None = None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def fill(template: str, **values: str) -> str:
    return template.format(**values)


# --- the cases, by kind of route -----------------------------------------------------------


def back_office_api(
    body: Callable[[World], Any] | None = None, operator_only: bool = False
) -> Callable[[World, str, str], list[Attempt]]:
    """Merchant API key (or operator) routes: A's key on B, none, B's portal session and draft
    token in place of a key (and B's own key where only the operator may)."""

    def cases(world: World, method: str, template: str) -> list[Attempt]:
        a, b = world.a, world.b
        url = fill(
            template,
            merchant_id=b.id,
            return_id=b.defective_return,
            code="damaged",
            key_id=b.key_id,
            email=b.user_email,
            order_number=b.order_number,
        )
        payload = body(world) if body else None

        def attempt(case: str, headers: dict[str, str]) -> Attempt:
            return Attempt(case, "declaration", method, url, "api", headers, json_body=payload)

        made = [
            attempt("A's API key on B", bearer(a.api_key)),
            attempt("no credentials", {}),
            attempt("B's portal session as an API key", bearer(b.portal_token)),
            attempt("B's draft token as an API key", bearer(b.draft_token)),
            attempt("the internal token as an API key", bearer(INTERNAL_TOKEN)),
        ]
        if operator_only:
            made.append(attempt("B's own API key where the operator is needed", bearer(b.api_key)))
        return made

    return cases


def portal_api(body: Callable[[World], Any] | None = None) -> Callable[..., list[Attempt]]:
    """Portal session routes: A's session on B (and on B's draft under A's own path), none,
    B's API key and draft token in place of a session."""

    def cases(world: World, method: str, template: str) -> list[Attempt]:
        a, b = world.a, world.b
        values = {"draft_id": b.draft_id, "line_id": "1"}
        url = fill(template, merchant_id=b.id, **values)
        payload = body(world) if body else None

        def attempt(case: str, path: str, headers: dict[str, str]) -> Attempt:
            return Attempt(case, "declaration", method, path, "api", headers, json_body=payload)

        made = [
            attempt("A's portal session on B", url, bearer(a.portal_token)),
            attempt("no credentials", url, {}),
            attempt("B's API key as a portal session", url, bearer(b.api_key)),
            attempt("B's draft token as a portal session", url, bearer(b.draft_token)),
        ]
        if "{draft_id}" in template:
            own_path = fill(template, merchant_id=a.id, **values)
            made.append(
                attempt("A's portal session on B's draft", own_path, bearer(a.portal_token))
            )
        return made

    return cases


def sign_in_api(world: World, method: str, template: str) -> list[Attempt]:
    a, b = world.a, world.b
    url = fill(template, merchant_id=b.id)
    return [
        Attempt(
            "A's order and e-mail at B",
            "declaration",
            method,
            url,
            "sign_in",
            json_body={"order_number": a.order_number, "email": a.customer_email},
        ),
        Attempt(
            "B's order with A's customer's e-mail",
            "declaration",
            method,
            url,
            "sign_in",
            json_body={"order_number": b.order_number, "email": a.customer_email},
        ),
    ]


def portal_page(form: dict[str, str] | None = None, photo_call: bool = False) -> Callable[..., Any]:
    """Portal pages (session cookie): A's session on B and on B's draft, none, B's back-office
    cookie and B's API key in place of the portal session."""

    def cases(world: World, method: str, template: str) -> list[Attempt]:
        a, b = world.a, world.b
        values = {
            "draft_id": b.draft_id,
            "line_id": "1",
            "photo_id": b.draft_photo_id,
            "return_id": b.classic_return,
        }
        url = fill(template, merchant_id=b.id, **values)
        expect = "api" if photo_call else "page"
        headers = {"X-CSRF-Token": CSRF} if photo_call else {}
        files = (
            {"file": ("p.png", demo_photo(), "image/png")}
            if photo_call and method == "POST"
            else None
        )
        data = {"csrf": CSRF, **(form or {})} if method == "POST" and not photo_call else None

        def attempt(case: str, path: str, cookie: str | None, extra: dict[str, str]) -> Attempt:
            cookies = {"csrf": CSRF}
            if cookie is not None:
                cookies["portal_session"] = cookie
            return Attempt(
                case,
                "declaration",
                method,
                path,
                expect,
                {**headers, **extra},
                cookies,
                form=data,
                files=files,
            )

        made = [
            attempt("A's portal session on B", url, a.portal_token, {}),
            attempt("no credentials", url, None, {}),
            attempt("B's back-office session as a portal session", url, b.back_office_cookie, {}),
            attempt("B's API key in place of a portal session", url, None, bearer(b.api_key)),
        ]
        if "{draft_id}" in template or "{return_id}" in template:
            own = fill(template, merchant_id=a.id, **values)
            made.append(
                attempt("A's portal session on B's draft or return", own, a.portal_token, {})
            )
        return made

    return cases


def sign_in_page(world: World, method: str, template: str) -> list[Attempt]:
    a, b = world.a, world.b
    url = fill(template, merchant_id=b.id)
    if method == "GET":
        # The sign-in form itself is public; with someone's order in the query it shows nothing
        # but what the query said.
        return [
            Attempt(
                "B's sign-in form asked about A's order",
                "declaration",
                method,
                url,
                "sign_in",
                params={"order": a.order_number, "email": a.customer_email},
            )
        ]
    return [
        Attempt(
            "A's order and e-mail at B",
            "declaration",
            method,
            url,
            "sign_in",
            cookies={"csrf": CSRF},
            form={"csrf": CSRF, "order_number": a.order_number, "email": a.customer_email},
        )
    ]


def back_office_page(form: dict[str, str] | None = None) -> Callable[..., list[Attempt]]:
    """Back-office pages (sign-in cookie): A's user on B, none, B's portal session and B's API
    key in place of the back-office session."""

    def cases(world: World, method: str, template: str) -> list[Attempt]:
        a, b = world.a, world.b
        url = fill(template, merchant_id=b.id, return_id=b.defective_return, code="damaged")
        data = {"csrf": CSRF, **(form or {})} if method == "POST" else None

        def attempt(case: str, cookie: str | None, extra: dict[str, str]) -> Attempt:
            cookies = {"csrf": CSRF}
            if cookie is not None:
                cookies["back_office_session"] = cookie
            return Attempt(case, "declaration", method, url, "page", extra, cookies, form=data)

        return [
            attempt("A's back-office user on B", a.back_office_cookie, {}),
            attempt("no credentials", None, {}),
            attempt("B's portal session as a back-office session", b.portal_token, {}),
            attempt("B's API key in place of a back-office session", None, bearer(b.api_key)),
        ]

    return cases


def back_office_sign_in(world: World, method: str, template: str) -> list[Attempt]:
    return [
        Attempt(
            "B's user with A's password",
            "declaration",
            method,
            template,
            "sign_in",
            cookies={"csrf": CSRF},
            form={"csrf": CSRF, "email": world.b.user_email, "password": PASSWORD + "-a"},
        )
    ]


def draft_token_route(world: World, method: str, template: str) -> list[Attempt]:
    """Media's draft-token routes: A's draft token on B's draft (and under A's merchant), none,
    B's portal session and API key in place of the draft token."""
    a, b = world.a, world.b
    values = {"draft_id": b.draft_id, "photo_id": b.draft_photo_id}
    url = fill(template, merchant_id=b.id, **values)
    own = fill(template, merchant_id=a.id, **values)
    files = {"file": ("p.png", demo_photo(), "image/png")} if method == "POST" else None
    params = {"line_id": "1"} if method == "POST" else None

    def attempt(case: str, path: str, headers: dict[str, str]) -> Attempt:
        return Attempt(case, "media", method, path, "api", headers, files=files, params=params)

    return [
        attempt("A's draft token on B's draft", url, bearer(a.draft_token)),
        attempt("A's draft token on B's draft under A's merchant", own, bearer(a.draft_token)),
        attempt("no credentials", url, {}),
        attempt("B's portal session as a draft token", url, bearer(b.portal_token)),
        attempt("B's API key as a draft token", url, bearer(b.api_key)),
    ]


def internal_route(service: str, body: Callable[[World], Any] | None = None) -> Callable[..., Any]:
    """Internal-token routes: no token, and every other kind of credential in its place."""

    def cases(world: World, method: str, template: str) -> list[Attempt]:
        b = world.b
        url = fill(template, merchant_id=b.id, return_id=b.classic_return)
        payload = body(world) if body else None

        def attempt(case: str, headers: dict[str, str]) -> Attempt:
            return Attempt(case, service, method, url, "api", headers, json_body=payload)

        return [
            attempt("no credentials", {}),
            attempt("B's API key as a bearer", bearer(b.api_key)),
            attempt("B's API key as the internal token", {INTERNAL_TOKEN_HEADER: b.api_key}),
            attempt("the operator token as the internal token", {INTERNAL_TOKEN_HEADER: OPERATOR}),
            attempt(
                "B's draft token as the internal token", {INTERNAL_TOKEN_HEADER: b.draft_token}
            ),
        ]

    return cases


def _swap_path(url: str, old: str, new: str) -> str:
    parts = urlsplit(url)
    return parts.path.replace(old, new) + "?" + parts.query


def _without(url: str, name: str) -> str:
    parts = urlsplit(url)
    kept = "&".join(item for item in parts.query.split("&") if not item.startswith(f"{name}="))
    return f"{parts.path}?{kept}"


def _altered(url: str, name: str) -> str:
    """The link with the first character of `name`'s value changed (always other bytes)."""
    parts = urlsplit(url)

    def change(item: str) -> str:
        if not item.startswith(f"{name}="):
            return item
        value = item.split("=", 1)[1]
        first = "2" if value[:1] == "1" else "1"
        return f"{name}={first}{value[1:]}"

    return f"{parts.path}?" + "&".join(change(item) for item in parts.query.split("&"))


def _respelled(url: str) -> str:
    """The link with its signature spelled otherwise for the same bytes (spare base64 bits)."""
    parts = urlsplit(url)
    query = dict(item.split("=", 1) for item in parts.query.split("&"))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sig = query["sig"]
    query["sig"] = sig[:-1] + alphabet[alphabet.index(sig[-1]) ^ 1]  # 43 chars: 2 spare bits
    return parts.path + "?" + "&".join(f"{key}={value}" for key, value in query.items())


def signed_link(service: str, kind: str) -> Callable[..., list[Attempt]]:
    """Signed links: A's link altered to B's id, B's link with its signature or expiry altered
    or its signature left out."""

    def cases(world: World, method: str, template: str) -> list[Attempt]:
        a, b = world.a, world.b
        if kind == "photo":
            mine, theirs = a.photo_url, b.photo_url
            a_id, b_id = a.photo_ids[0], b.photo_ids[0]
        else:
            mine, theirs = a.label_url, b.label_url
            a_id, b_id = a.label_id, b.label_id
        paths = {
            "A's link altered to B's id": _swap_path(mine, a_id, b_id),
            "B's link with an altered signature": _altered(theirs, "sig"),
            "B's link with its expiry changed": _altered(theirs, "exp"),
            "B's link without its signature": _without(theirs, "sig"),
            "B's link with its signature respelled": _respelled(theirs),
        }
        return [Attempt(case, service, method, path, "api") for case, path in paths.items()]

    return cases


def customer_link(world: World, method: str, template: str) -> list[Attempt]:
    """The customer's signed links (issue 15): A's link moved to B's return, B's link with its
    signature or expiry altered, left out, or signed with another secret. The question is one
    nobody asked: a link that held would still open nothing."""
    a, b = world.a, world.b
    base = world.urls["declaration"] + "/portal"
    links = CustomerLinks(DeclarationSettings().customer_link_secret, base)
    forged = CustomerLinks("not-the-customer-link-secret", base)
    now = datetime.now(UTC)
    question = "q-matrix"

    def link(maker: CustomerLinks, merchant: Merchant) -> str:
        if template.endswith("/status"):
            return maker.status(merchant.id, merchant.defective_return, now).url
        return maker.answer(merchant.id, merchant.defective_return, question, now).url

    mine, theirs = link(links, a), link(links, b)
    paths = {
        "A's link moved to B's return": _swap_path(
            mine,
            f"/{a.id}/returns/{a.defective_return}/",
            f"/{b.id}/returns/{b.defective_return}/",
        ),
        "B's link with an altered signature": _altered(theirs, "sig"),
        "B's link with its expiry changed": _altered(theirs, "exp"),
        "B's link without its signature": _without(theirs, "sig"),
        "B's link signed with another secret": urlsplit(link(forged, b)).path
        + "?"
        + urlsplit(link(forged, b)).query,
    }
    form = {"csrf": CSRF, "comment": "An answer written by someone else."}
    return [
        Attempt(
            case,
            "declaration",
            method,
            path,
            "page",
            cookies={"csrf": CSRF},
            form=form if method == "POST" else None,
        )
        for case, path in paths.items()
    ]


def _settings_body(world: World) -> dict[str, Any]:
    return {"name": "Taken over", "customer_service_email": "thief@evil.example", "locale": "en"}


def _reason_body(world: World) -> dict[str, Any]:
    return {"label_fr": "Volé", "label_en": "Stolen", "defective": False}


def _order_body(world: World) -> dict[str, Any]:
    return {
        "ordered_on": "2026-11-20",
        "customer": {"name": "Thief", "email": "thief@evil.example"},
        "lines": [{"line_id": "1", "sku": "X", "name": "X", "quantity": 9, "unit_price_cents": 1}],
    }


def _lookup_body(world: World) -> dict[str, Any]:
    b = world.b
    return {"merchant_id": b.id, "photo_ids": [*b.photo_ids, b.draft_photo_id]}


MERCHANTS = "/v1/merchants/{merchant_id}"
PORTAL = "/v1/portal/{merchant_id}"
PAGES = "/portal/{merchant_id}"
BACK_OFFICE = "/back-office/merchants/{merchant_id}"
LINE = "/drafts/{draft_id}/lines/{line_id}"

CaseMaker = Callable[[World, str, str], list[Attempt]]

CASES: dict[RouteKey, CaseMaker] = {
    # declaration, back-office API
    ("declaration", "PUT", MERCHANTS): back_office_api(_settings_body),
    ("declaration", "GET", MERCHANTS): back_office_api(),
    ("declaration", "PUT", f"{MERCHANTS}/reasons/{{code}}"): back_office_api(_reason_body),
    ("declaration", "DELETE", f"{MERCHANTS}/reasons/{{code}}"): back_office_api(),
    ("declaration", "POST", f"{MERCHANTS}/api-keys"): back_office_api(operator_only=True),
    ("declaration", "DELETE", f"{MERCHANTS}/api-keys/{{key_id}}"): back_office_api(
        operator_only=True
    ),
    ("declaration", "PUT", f"{MERCHANTS}/users/{{email}}"): back_office_api(
        lambda world: {"password": "stolen-password-123"}, operator_only=True
    ),
    ("declaration", "PUT", f"{MERCHANTS}/orders/{{order_number}}"): back_office_api(_order_body),
    ("declaration", "GET", f"{MERCHANTS}/returns"): back_office_api(),
    ("declaration", "GET", f"{MERCHANTS}/returns/{{return_id}}"): back_office_api(),
    ("declaration", "POST", f"{MERCHANTS}/returns/{{return_id}}/label-requests"): back_office_api(
        lambda world: {}
    ),
    ("declaration", "POST", f"{MERCHANTS}/returns/{{return_id}}/resolutions"): back_office_api(
        lambda world: {"resolution": "refund_without_return"}
    ),
    ("declaration", "POST", f"{MERCHANTS}/returns/{{return_id}}/questions"): back_office_api(
        lambda world: {"question": "A question from someone else?"}
    ),
    # declaration, portal API
    ("declaration", "POST", f"{PORTAL}/sessions"): sign_in_api,
    ("declaration", "GET", f"{PORTAL}/order"): portal_api(),
    ("declaration", "POST", f"{PORTAL}/drafts"): portal_api(
        lambda world: {"lines": [{"line_id": "2", "quantity": 1}]}
    ),
    ("declaration", "GET", f"{PORTAL}/drafts/{{draft_id}}"): portal_api(),
    ("declaration", "PUT", f"{PORTAL}{LINE}/reason"): portal_api(
        lambda world: {"reason_code": "too_small"}
    ),
    ("declaration", "PUT", f"{PORTAL}{LINE}/return-type"): portal_api(
        lambda world: {"return_type": "refund"}
    ),
    ("declaration", "PUT", f"{PORTAL}{LINE}/defect"): portal_api(
        lambda world: {"comment": "Changed by someone else.", "photo_ids": [world.b.draft_photo_id]}
    ),
    ("declaration", "POST", f"{PORTAL}/drafts/{{draft_id}}/submit"): portal_api(),
    # declaration, portal pages
    ("declaration", "GET", PAGES): sign_in_page,
    ("declaration", "POST", PAGES): sign_in_page,
    ("declaration", "GET", f"{PAGES}/items"): portal_page(),
    ("declaration", "POST", f"{PAGES}/items"): portal_page({"qty_1": "1"}),
    ("declaration", "GET", f"{PAGES}/drafts/{{draft_id}}/reasons"): portal_page(),
    ("declaration", "POST", f"{PAGES}/drafts/{{draft_id}}/reasons"): portal_page(
        {"reason_1": "too_small"}
    ),
    ("declaration", "GET", f"{PAGES}/drafts/{{draft_id}}/details"): portal_page(),
    ("declaration", "POST", f"{PAGES}/drafts/{{draft_id}}/details"): portal_page(
        {"type_1": "refund"}
    ),
    ("declaration", "POST", f"{PAGES}{LINE}/photos"): portal_page(photo_call=True),
    ("declaration", "DELETE", f"{PAGES}/drafts/{{draft_id}}/photos/{{photo_id}}"): portal_page(
        photo_call=True
    ),
    ("declaration", "GET", f"{PAGES}/drafts/{{draft_id}}/summary"): portal_page(),
    ("declaration", "POST", f"{PAGES}/drafts/{{draft_id}}/submit"): portal_page(
        {"submission_key": "matrix"}
    ),
    ("declaration", "GET", f"{PAGES}/returns/{{return_id}}"): portal_page(),
    # declaration, the customer's signed links (issue 15)
    ("declaration", "GET", f"{PAGES}/returns/{{return_id}}/status"): customer_link,
    ("declaration", "GET", f"{PAGES}/returns/{{return_id}}/questions/{{question_id}}"): (
        customer_link
    ),
    ("declaration", "POST", f"{PAGES}/returns/{{return_id}}/questions/{{question_id}}"): (
        customer_link
    ),
    # declaration, back-office pages
    ("declaration", "POST", "/back-office/login"): back_office_sign_in,
    ("declaration", "GET", f"{BACK_OFFICE}/returns"): back_office_page(),
    ("declaration", "GET", f"{BACK_OFFICE}/returns/{{return_id}}"): back_office_page(),
    ("declaration", "POST", f"{BACK_OFFICE}/returns/{{return_id}}/label"): back_office_page(
        {"regenerate": "1"}
    ),
    ("declaration", "POST", f"{BACK_OFFICE}/returns/{{return_id}}/resolution"): back_office_page(
        {"resolution": "refund_without_return"}
    ),
    ("declaration", "POST", f"{BACK_OFFICE}/returns/{{return_id}}/questions"): back_office_page(
        {"question": "A question from someone else?"}
    ),
    ("declaration", "GET", f"{BACK_OFFICE}/settings"): back_office_page(),
    ("declaration", "POST", f"{BACK_OFFICE}/settings"): back_office_page(
        {"customer_service_email": "thief@evil.example", "locale": "en", "return_window_days": "9"}
    ),
    ("declaration", "POST", f"{BACK_OFFICE}/reasons"): back_office_page(
        {"new": "1", "code": "stolen", "label_fr": "Volé", "label_en": "Stolen"}
    ),
    ("declaration", "POST", f"{BACK_OFFICE}/reasons/{{code}}/retire"): back_office_page(),
    # media
    ("media", "POST", "/v1/merchants/{merchant_id}/drafts/{draft_id}/photos"): draft_token_route,
    (
        "media",
        "DELETE",
        "/v1/merchants/{merchant_id}/drafts/{draft_id}/photos/{photo_id}",
    ): draft_token_route,
    ("media", "GET", "/p/{photo_id}/{variant}"): signed_link("media", "photo"),
    ("media", "POST", "/internal/v1/photos/lookup"): internal_route("media", _lookup_body),
    ("media", "DELETE", "/internal/v1/merchants/{merchant_id}/photos"): internal_route("media"),
    # labels
    (
        "labels",
        "GET",
        "/internal/v1/merchants/{merchant_id}/returns/{return_id}/label",
    ): internal_route("labels"),
    ("labels", "GET", "/l/{label_id}.pdf"): signed_link("labels", "label"),
}

# Public on purpose and about no merchant's data: nothing to isolate.
NO_MERCHANT_DATA: set[tuple[str, str]] = {
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/asyncapi"),
    ("GET", "/asyncapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
    ("GET", "/static"),
    ("GET", "/back-office"),
    ("GET", "/back-office/"),
    ("GET", "/back-office/login"),
    ("POST", "/back-office/logout"),
}


def route_table() -> Iterator[tuple[RouteKey, frozenset[Access] | None]]:
    for service, app in build_apps().items():
        for entry in route_access(app):
            for method in entry.methods:
                if method != "HEAD":
                    yield (service, method, entry.path), entry.kinds


def test_every_route_has_an_isolation_case_or_touches_no_merchant_data() -> None:
    seen: set[RouteKey] = set()
    for key, kinds in route_table():
        seen.add(key)
        service, method, path = key
        if (method, path) in NO_MERCHANT_DATA:
            public = kinds == frozenset({Access.PUBLIC})
            assert public, f"{service} {method} {path} is exempt but not public"
            continue
        assert key in CASES, f"new route {method} {path} of {service} has no isolation case"
    stale = set(CASES) - seen
    assert not stale, f"isolation cases for routes that no longer exist: {stale}"


# --- running the matrix -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(services: RunningServices) -> World:
    a, b = new_merchant("A"), new_merchant("B")
    with (
        httpx.Client(base_url=services.urls["declaration"], timeout=30) as declaration,
        httpx.Client(base_url=services.urls["media"], timeout=30) as media,
    ):
        for shop in (a, b):
            set_up(declaration, media, shop)
        for shop in (a, b):
            wait_for_label_and_photos(declaration, shop)
    return World(a, b, services.urls)


def attempts(world: World) -> list[tuple[RouteKey, Attempt]]:
    made: list[tuple[RouteKey, Attempt]] = []
    for key, make in CASES.items():
        _, method, path = key
        made.extend((key, attempt) for attempt in make(world, method, path))
    return made


SIGN_IN_REDIRECTS = re.compile(r"^/(back-office/login|portal/[^/?]+\?expired=1)")


def refusal_problem(attempt: Attempt, response: httpx.Response) -> str | None:
    """Why this answer is not a refusal, or None when it is one."""
    status = response.status_code
    content_type = response.headers.get("content-type", "")

    def one_shape() -> bool:
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and set(body) == {"error"} and "code" in body["error"]

    if attempt.expect == "api":
        if status not in (401, 403, 404):
            return f"answered {status}"
        return None if one_shape() else "not the one error shape"
    if attempt.expect == "page":
        if status == 303:
            location = response.headers.get("location", "")
            return None if SIGN_IN_REDIRECTS.match(location) else f"redirected to {location}"
        if status in (403, 404) and "text/html" in content_type:
            return None
        return f"answered {status}"
    # A refused sign-in: the one shape (JSON API) or the form again (pages), never a session.
    if "portal_session" in response.cookies or "back_office_session" in response.cookies:
        return "opened a session"
    if status == 200 and attempt.method == "GET":
        return None
    if status in (401, 422, 429):
        return None if one_shape() or "text/html" in content_type else "not the one error shape"
    return f"answered {status}"


def test_every_attempt_on_b_s_data_is_refused_and_reveals_nothing(world: World) -> None:
    made = attempts(world)
    failures: list[str] = []
    counts: dict[str, int] = {}
    clients = {
        name: httpx.Client(base_url=url, timeout=30, follow_redirects=False)
        for name, url in world.urls.items()
    }
    try:
        for (service, _, path), attempt in made:
            counts[service] = counts.get(service, 0) + 1
            client = clients[attempt.service]
            client.cookies.clear()
            for name, value in attempt.cookies.items():
                client.cookies.set(name, value)
            response = client.request(
                attempt.method,
                attempt.path,
                headers=attempt.headers,
                json=attempt.json_body,
                data=attempt.form,
                files=attempt.files,
                params=attempt.params,
            )
            where = f"{attempt.method} {attempt.path} ({path}) - {attempt.case}"
            problem = refusal_problem(attempt, response)
            if problem is not None:
                failures.append(f"{where}: {problem}: {response.text[:200]}")
                continue
            # What the request itself named may come back; nothing else of B's may.
            asked = attempt.path + json.dumps(attempt.json_body) + json.dumps(attempt.form)
            asked += json.dumps(attempt.params)
            leaked = sorted(
                marker
                for marker in world.b.private_markers()
                if marker not in asked and marker in response.text
            )
            if leaked:
                failures.append(f"{where}: the answer carries B's {leaked}")
    finally:
        for client in clients.values():
            client.close()
    print(f"isolation matrix: {len(made)} attempts by service {counts}")
    assert not failures, "\n".join(failures)


# --- the label command on the topic -------------------------------------------------------------


@pytest.fixture
async def label_answers(
    kafka_bootstrap_servers: str, services: RunningServices
) -> AsyncIterator[AIOKafkaConsumer]:
    topics = Topics()
    consumer = AIOKafkaConsumer(
        topics.label_generated,
        topics.label_rejected,
        bootstrap_servers=kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    yield consumer
    await consumer.stop()


async def test_a_label_request_naming_a_for_b_s_return_makes_no_label(
    world: World, kafka_bootstrap_servers: str, label_answers: AIOKafkaConsumer
) -> None:
    a, b = world.a, world.b
    command = LabelRequested(
        merchant_id=a.id,
        producer="isolation-matrix",
        payload=LabelRequestedPayload(
            return_id=b.defective_return,
            requested_by=Actor(kind="cli", id="intruder"),
            regenerate=True,
        ),
    )
    # Then a sentinel: A's own request for a return of A whose key shares the forged request's
    # partition and the labels' one. Labels answers it after the forged one, so once its label
    # is read, a label made for B's return would have been read too (the rejection alone is on
    # another topic and proves nothing about LabelGenerated).
    topics = Topics()
    sentinel_id = await key_beside(
        kafka_bootstrap_servers,
        b.defective_return,
        [topics.label_requested, topics.label_generated],
    )
    sentinel_return = return_submitted(merchant_id=a.id, return_id=sentinel_id, defective=True)
    sentinel = LabelRequested(
        merchant_id=a.id,
        producer="isolation-matrix",
        payload=LabelRequestedPayload(
            return_id=sentinel_id, requested_by=Actor(kind="cli", id="sentinel")
        ),
    )
    broker = KafkaBroker(
        server_list(kafka_bootstrap_servers), enable_idempotence=True, acks="all", logger=None
    )
    await broker.start()
    try:
        await publish(broker, topics, command)
        await publish(broker, topics, sentinel_return)
        await publish(broker, topics, sentinel)
    finally:
        await broker.stop()

    rejection: LabelRejected | None = None
    generated: list[LabelGenerated] = []
    sentinel_labelled = False
    deadline = time.monotonic() + 90
    while (rejection is None and not generated) or not sentinel_labelled:
        assert time.monotonic() < deadline, "labels did not answer the forged request"
        batches = await label_answers.getmany(timeout_ms=250)
        for records in batches.values():
            for record in records:
                message = parse_message(record.value)
                return_id = getattr(message.payload, "return_id", None)
                if isinstance(message, LabelGenerated) and return_id == sentinel_id:
                    sentinel_labelled = True
                if return_id != b.defective_return:
                    continue
                if isinstance(message, LabelGenerated):
                    generated.append(message)
                elif (
                    isinstance(message, LabelRejected)
                    and message.correlation_id == command.correlation_id
                ):
                    rejection = message
    assert generated == [], "labels made a label of B's return on merchant A's request"
    assert rejection is not None
    assert rejection.merchant_id == a.id
    assert rejection.payload.reason == "wrong_merchant"

    async with httpx.AsyncClient(base_url=world.urls["declaration"], timeout=15) as declaration:
        answer = await declaration.get(
            f"/v1/merchants/{b.id}/returns/{b.defective_return}", headers=bearer(b.api_key)
        )
        record = answer.json()
    assert record["label_status"] == "awaiting_merchant" and record["label"] is None
    kinds = [entry["kind"] for entry in record["timeline"]]
    assert not any(kind.startswith("label_") for kind in kinds), kinds


def test_b_s_data_is_as_it_was_after_the_matrix(world: World) -> None:
    """Runs after the attempts (file order): none of them changed anything of B's."""
    b = world.b
    with (
        httpx.Client(base_url=world.urls["declaration"], timeout=15) as declaration,
        httpx.Client(base_url=world.urls["media"], timeout=15) as media,
    ):
        key = bearer(b.api_key)
        merchant = declaration.get(f"/v1/merchants/{b.id}", headers=key).json()
        assert merchant["name"] == b.name
        assert merchant["customer_service_email"] == b.customer_service
        reasons = {reason["code"]: reason for reason in merchant["reasons"]}
        assert set(reasons) == {"damaged", "too_small"}
        assert not any(reason["retired"] for reason in reasons.values())
        listed = declaration.get(f"/v1/merchants/{b.id}/returns", headers=key).json()
        assert {item["id"] for item in listed["returns"]} == {b.defective_return, b.classic_return}
        record = declaration.get(f"/v1/merchants/{b.id}/returns/{b.classic_return}", headers=key)
        assert record.json()["label"]["label_id"] == b.label_id
        # The order, the open draft and its photo are untouched.
        session = bearer(b.portal_token)
        order = declaration.get(f"/v1/portal/{b.id}/order", headers=session).json()
        assert order["order_number"] == b.order_number
        draft = declaration.get(f"/v1/portal/{b.id}/drafts/{b.draft_id}", headers=session)
        assert draft.status_code == 200 and draft.json()["submitted_return_id"] is None
        lookup = media.post(
            "/internal/v1/photos/lookup",
            json={"merchant_id": b.id, "photo_ids": [*b.photo_ids, b.draft_photo_id]},
            headers={INTERNAL_TOKEN_HEADER: INTERNAL_TOKEN},
        )
        assert len(lookup.json()["photos"]) == 2
        # The API key still works (not revoked), and the user's password was not reset.
        page = declaration.get("/back-office/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        signed_in = declaration.post(
            "/back-office/login",
            data={"csrf": csrf.group(1), "email": b.user_email, "password": PASSWORD},
        )
        assert signed_in.status_code == 303
