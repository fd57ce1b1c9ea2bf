"""Every route of every service declares who may call it (issue 10; R12).

Walks the route table of the four apps (API, pages, service-kit routes, documentation, static
files) and fails on any route that declares nothing, naming it. Offline: no server is needed.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from returns_contracts.service_kit.access import (
    ACCESS_EXTENSION,
    SECURITY_SCHEMES,
    UNLISTED_EXTENSION,
    Access,
    route_access,
)

from .apps import KIT_ROUTES, SERVICE_APPS, build_apps

APPS = build_apps()
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(params=sorted(SERVICE_APPS))
def app(request: pytest.FixtureRequest) -> FastAPI:
    return APPS[request.param]


def test_every_route_declares_who_may_call_it(app: FastAPI) -> None:
    table = route_access(app)
    paths = {entry.path for entry in table}
    # The walk reaches the routes of included routers and of the service kit.
    assert set(KIT_ROUTES) <= paths, f"{app.title}: the walk missed {set(KIT_ROUTES) - paths}"
    undeclared = [
        f"{'/'.join(entry.methods)} {entry.path}" for entry in table if entry.kinds is None
    ]
    assert undeclared == [], f"{app.title}: routes that declare no access: {undeclared}"


def test_every_operation_of_the_openapi_document_says_who_may_call_it(app: FastAPI) -> None:
    document: dict[str, Any] = app.openapi()
    schemes = document.get("components", {}).get("securitySchemes", {})
    known = {name: kind for kind, (name, _) in SECURITY_SCHEMES.items()}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            kinds = {Access(kind) for kind in operation.get(ACCESS_EXTENSION, [])}
            assert kinds, f"{app.title}: {method.upper()} {path} has no {ACCESS_EXTENSION}"
            security = operation["security"]
            named = {name for requirement in security for name in requirement}
            # Standard security requirements say the same as x-access, with declared schemes.
            assert {known[name] for name in named} == kinds - {Access.PUBLIC}
            assert named <= set(schemes)
            assert (security == []) == (kinds == {Access.PUBLIC})
    unlisted = document[UNLISTED_EXTENSION]
    assert all(entry[ACCESS_EXTENSION] for entry in unlisted), unlisted
    assert "/metrics" in {entry["path"] for entry in unlisted}


def test_the_declarations_say_what_each_kind_of_route_needs() -> None:
    def kinds(service: str, method: str, path: str) -> set[str]:
        for entry in route_access(APPS[service]):
            if entry.path == path and method in entry.methods:
                return {kind.value for kind in entry.kinds or ()}
        raise AssertionError(f"{service} has no {method} {path}")

    assert kinds(
        "labels", "GET", "/internal/v1/merchants/{merchant_id}/returns/{return_id}/label"
    ) == {"internal_token"}
    assert kinds("declaration", "GET", "/v1/merchants/{merchant_id}/returns") == {
        "merchant_api_key",
        "operator_token",
    }
    assert kinds("declaration", "POST", "/v1/merchants/{merchant_id}/api-keys") == {
        "operator_token"
    }
    assert kinds("declaration", "GET", "/back-office/merchants/{merchant_id}/returns") == {
        "back_office_session"
    }
    assert kinds("media", "GET", "/p/{photo_id}/{variant}") == {"signed_link"}
    assert kinds("declaration", "GET", "/static") == {"public"}
    for service in SERVICE_APPS:
        assert kinds(service, "GET", "/healthz") == {"public"}
