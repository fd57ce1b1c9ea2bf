"""schemathesis over the OpenAPI document of each of the four services, past authentication.

Every operation of every service gets generated requests, valid and invalid, against the real
processes. Each request carries the credential its route declares (`x-access`, see
`credentials_for`), and the path names the merchant, draft and return made for this module, so
the requests reach the use cases instead of stopping at 401 or 404. A request fails the test
when the answer is a 5xx, or does not match the documented schema, or when a request outside
the documented bounds is accepted.

`make test` runs a few examples per operation, derandomised; `make fuzz` (RETURNS_FUZZ=full)
adds schemathesis' coverage phase and many more random examples.
"""

from __future__ import annotations

import os
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
)

from returns_contracts.service_kit.access import (
    ACCESS_EXTENSION,
    INTERNAL_TOKEN_HEADER,
    Access,
)
from returns_contracts.service_kit.settings import ServiceSettings
from returns_declaration.entrypoints.demo import (
    DEMO_ADMIN_TOKEN,
    LineChoice,
    configure_merchant,
    declare,
    demo_photo,
    open_session,
    put_order,
)
from returns_infra.fixtures import RunningServices

pytestmark = pytest.mark.e2e

FULL = os.environ.get("RETURNS_FUZZ") == "full"
EXAMPLES = int(os.environ.get("RETURNS_FUZZ_EXAMPLES", "100" if FULL else "12"))
ADMIN_TOKEN = os.environ.get("ADMIN_API_TOKEN", DEMO_ADMIN_TOKEN)
EMAIL = "fuzz@example.com"
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    negative_data_rejection,
]


@dataclass(frozen=True)
class World:
    """One merchant with an order, a portal session, an open draft and a submitted return."""

    merchant_id: str
    api_key: str
    session_token: str
    draft_id: str
    draft_token: str
    return_id: str
    internal_token: str

    def credential(self, kind: str) -> dict[str, str]:
        return {
            "operator": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
            "api_key": {"Authorization": f"Bearer {self.api_key}"},
            "session": {"Authorization": f"Bearer {self.session_token}"},
            "draft": {"Authorization": f"Bearer {self.draft_token}"},
            "internal": {INTERNAL_TOKEN_HEADER: self.internal_token},
            "none": {},
        }[kind]


# The credential of each declared kind of caller (`x-access`, service_kit.access), in the order
# tried when a route accepts several: a merchant's own key before the operator's token.
KIND_CREDENTIALS: dict[str, str] = {
    Access.MERCHANT_API_KEY: "api_key",
    Access.PORTAL_SESSION: "session",
    Access.DRAFT_TOKEN: "draft",
    Access.INTERNAL_TOKEN: "internal",
    Access.OPERATOR_TOKEN: "operator",
    Access.SIGNED_LINK: "none",
    Access.PUBLIC: "none",
}

# For a route that declares no `x-access`: its security schemes' header, else its path.
ROUTE_CREDENTIALS: dict[str, list[tuple[str, str]]] = {
    "declaration": [
        (r"^/v1/merchants/[^/]+/(api-keys|users)\b", "operator"),
        (r"^/v1/merchants/", "api_key"),
        (r"^/v1/portal/[^/]+/sessions$", "none"),
        (r"^/v1/portal/", "session"),
    ],
    "media": [
        (r"^/internal/", "internal"),
        (r"^/v1/merchants/[^/]+/drafts/", "draft"),
    ],
    "labels": [
        (r"^/v1/merchants/[^/]+/returns/[^/]+/label$", "internal"),
    ],
    "notifier": [],
}


def _declared_kind(operation: schemathesis.APIOperation[Any, Any, Any, Any]) -> str | None:
    raw: dict[str, Any] = operation.definition.raw
    declared = raw.get(ACCESS_EXTENSION)
    if isinstance(declared, list):
        for kind, credential in KIND_CREDENTIALS.items():
            if kind in declared:
                return credential
    schemes = operation.schema.raw_schema.get("components", {}).get("securitySchemes", {})
    for requirement in raw.get("security", []):
        for name in requirement:
            scheme = schemes.get(name, {})
            if scheme.get("type") == "apiKey" and scheme.get("name") == INTERNAL_TOKEN_HEADER:
                return "internal"
    return None


def credentials_for(
    world: World, service: str, operation: schemathesis.APIOperation[Any, Any, Any, Any]
) -> dict[str, str]:
    """The headers of the credential this route declares it takes, and none other."""
    kind = _declared_kind(operation)
    if kind is None:
        kind = next(
            (
                kind
                for pattern, kind in ROUTE_CREDENTIALS[service]
                if re.search(pattern, operation.path)
            ),
            "none",
        )
    return world.credential(kind)


@pytest.fixture(scope="module")
def world(services: RunningServices) -> World:
    declaration_url = services.urls["declaration"]
    merchant_id = f"fuzz-{uuid.uuid4().hex[:10]}"
    settings = {
        "name": "Fuzz Shop",
        "locale": "en",
        "customer_service_email": f"cs-{merchant_id}@example.com",
        "return_window_days": 30,
        "return_types": ["refund", "exchange"],
    }
    reasons = {
        "damaged": {"label_fr": "Abîmé", "label_en": "Damaged", "defective": True},
        "wrong_size": {"label_fr": "Taille", "label_en": "Wrong size", "defective": False},
    }
    order = {
        "ordered_on": (datetime.now(UTC) - timedelta(days=2)).date().isoformat(),
        "customer": {"name": "Fuzz Customer", "email": EMAIL},
        "lines": [
            {
                "line_id": str(n),
                "sku": f"SKU-{n}",
                "name": f"Item {n}",
                "quantity": 5,
                "unit_price_cents": 1000,
            }
            for n in (1, 2, 3)
        ],
    }
    with (
        httpx.Client(base_url=declaration_url, timeout=30) as http,
        httpx.Client(base_url=services.urls["media"], timeout=30) as media,
    ):
        api_key = configure_merchant(http, ADMIN_TOKEN, merchant_id, settings, reasons)
        put_order(http, api_key, merchant_id, "F-1", order)
        submitted = declare(
            http, media, merchant_id, "F-1", EMAIL, [LineChoice("3", 1, "wrong_size", "refund")]
        ).submitted
        assert submitted.status_code == 201, submitted.text
        session = open_session(http, merchant_id, "F-1", EMAIL)
        draft = http.post(
            f"/v1/portal/{merchant_id}/drafts",
            json={"lines": [{"line_id": "1", "quantity": 1}, {"line_id": "2", "quantity": 1}]},
            headers=session,
        )
        assert draft.status_code == 201, draft.text
        assert demo_photo()  # the same helper the demo uses makes the photos below
    return World(
        merchant_id=merchant_id,
        api_key=api_key,
        session_token=session["Authorization"].removeprefix("Bearer "),
        draft_id=draft.json()["draft_id"],
        draft_token=draft.json()["draft_token"],
        return_id=submitted.json()["return_id"],
        internal_token=ServiceSettings().internal_api_token,
    )


def _config(base_url: str) -> schemathesis.Config:
    phases: dict[str, Any] = {
        "examples": {"enabled": True},
        "coverage": {"enabled": FULL},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    }
    config = schemathesis.Config.from_dict(
        {
            "base-url": base_url,
            "phases": phases,
            "generation": {
                "max-examples": EXAMPLES,
                "mode": "all",
                "deterministic": not FULL,
                "database": "none",
            },
        }
    )
    return config


def _schema(services: RunningServices, service: str) -> schemathesis.BaseSchema:
    base_url = services.urls[service]
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=_config(base_url))


@pytest.fixture(scope="module")
def cases_sent(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    counted: Counter[str] = Counter()
    yield counted
    # The figures of the run, shown past pytest's capture: cases per service, then per status.
    lines = []
    for service in sorted({key.split()[0] for key in counted}):
        statuses = ", ".join(
            f"{key.split()[1]}: {count}"
            for key, count in sorted(counted.items())
            if key.startswith(f"{service} ")
        )
        lines.append(f"schemathesis {service}: {counted[service]} cases ({statuses})")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n" + "\n".join(lines))


@pytest.fixture(scope="module")
def declaration_schema(services: RunningServices) -> schemathesis.BaseSchema:
    return _schema(services, "declaration")


@pytest.fixture(scope="module")
def media_schema(services: RunningServices) -> schemathesis.BaseSchema:
    return _schema(services, "media")


@pytest.fixture(scope="module")
def labels_schema(services: RunningServices) -> schemathesis.BaseSchema:
    return _schema(services, "labels")


@pytest.fixture(scope="module")
def notifier_schema(services: RunningServices) -> schemathesis.BaseSchema:
    return _schema(services, "notifier")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis' lazy schemas (4.32) read and rename `item._nodeid`, which pytest 9.2 no
    # longer has; without it every test here stops at an AttributeError.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def _pins(world: World) -> dict[str, str]:
    return {
        "merchant_id": world.merchant_id,
        "draft_id": world.draft_id,
        "return_id": world.return_id,
    }


def _send(
    case: schemathesis.Case[Any], service: str, world: World, cases_sent: Counter[str]
) -> None:
    """Send one generated request with the route's credential, then run the checks."""
    # A path parameter generated valid names this module's records, so the request reaches
    # the use case; one generated invalid stays as it is, to be refused.
    negative_path = case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
    if case.path_parameters and not negative_path:
        for name, value in _pins(world).items():
            if name in case.path_parameters:
                case.path_parameters[name] = value
    for name in [*case.headers]:
        if name.lower() in {"authorization", "x-internal-token"}:
            del case.headers[name]
    case.headers.update(credentials_for(world, service, case.operation))
    cases_sent[service] += 1
    response = case.call_and_validate(checks=CHECKS)
    cases_sent[f"{service} {response.status_code}"] += 1


_SETTINGS = hypothesis.settings(
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)

declaration = schemathesis.pytest.from_fixture("declaration_schema")
media = schemathesis.pytest.from_fixture("media_schema")
labels = schemathesis.pytest.from_fixture("labels_schema")
notifier = schemathesis.pytest.from_fixture("notifier_schema")


@declaration.parametrize()
@_SETTINGS
def test_declaration_api(
    case: schemathesis.Case[Any], world: World, cases_sent: Counter[str]
) -> None:
    _send(case, "declaration", world, cases_sent)


@media.parametrize()
@_SETTINGS
def test_media_api(case: schemathesis.Case[Any], world: World, cases_sent: Counter[str]) -> None:
    _send(case, "media", world, cases_sent)


@labels.parametrize()
@_SETTINGS
def test_labels_api(case: schemathesis.Case[Any], world: World, cases_sent: Counter[str]) -> None:
    _send(case, "labels", world, cases_sent)


@notifier.parametrize()
@_SETTINGS
def test_notifier_api(case: schemathesis.Case[Any], world: World, cases_sent: Counter[str]) -> None:
    _send(case, "notifier", world, cases_sent)
