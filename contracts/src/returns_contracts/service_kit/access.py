"""Who may call each route: one vocabulary for every service, declared on every route.

A route says who may call it with `openapi_extra=access(Access.MERCHANT_API_KEY, ...)`; the
OpenAPI document then carries it twice: as the `x-access` extension (this vocabulary, word for
word) and as standard `security` requirements naming the `securitySchemes` below (several
requirements mean any one of them). Routes kept out of the OpenAPI paths (the HTML pages, the
AsyncAPI page, /metrics, static files) are listed with their access under `x-unlisted-routes`.
`route_access` reads the declarations back from an app's route table, for the test that fails on
a route that declares nothing.

Declaring is not checking: each route still checks its caller itself (a dependency, a signed
link, a session); the tenant-isolation tests hold both to the same table.

The internal token (`X-Internal-Token`, setting `internal_api_token`) is checked here, once for
every service: `internal_caller(token)` is the dependency of internal routes.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import FastAPI, Header
from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp

ACCESS_EXTENSION = "x-access"
UNLISTED_EXTENSION = "x-unlisted-routes"
INTERNAL_TOKEN_HEADER = "X-Internal-Token"


class Access(StrEnum):
    """The kinds of caller a route can accept."""

    MERCHANT_API_KEY = "merchant_api_key"
    """`Authorization: Bearer <API key>`: one merchant's data only."""
    BACK_OFFICE_SESSION = "back_office_session"
    """The back-office pages' sign-in cookie: one merchant user, that merchant's data only."""
    PORTAL_SESSION = "portal_session"
    """A customer signed in with order number + e-mail: that order's returns only."""
    DRAFT_TOKEN = "draft_token"
    """The token declaration gives for one draft: that draft's photos only."""
    OPERATOR_TOKEN = "operator_token"
    """The platform operator (`ADMIN_API_TOKEN`): creates merchants, issues keys, users."""
    INTERNAL_TOKEN = "internal_token"
    """Another service of the platform (`X-Internal-Token`, `INTERNAL_API_TOKEN`)."""
    SIGNED_LINK = "signed_link"
    """Whoever holds an HMAC-signed, expiring link to one photo or label."""
    PUBLIC = "public"
    """Anyone, on purpose: health, metrics, documentation, static files, the landing page and
    the sign-in forms."""


# The standard OpenAPI security scheme of each kind; PUBLIC has none.
SECURITY_SCHEMES: dict[Access, tuple[str, dict[str, Any]]] = {
    Access.MERCHANT_API_KEY: (
        "merchantApiKey",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A merchant's API key (issued by the operator); reaches that "
            "merchant's data only, anything else answers 404.",
        },
    ),
    Access.OPERATOR_TOKEN: (
        "operatorToken",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "The operator token (`ADMIN_API_TOKEN`).",
        },
    ),
    Access.PORTAL_SESSION: (
        "portalSession",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "The session token of `POST /v1/portal/{merchant_id}/sessions` (the "
            "pages carry it in the HttpOnly `portal_session` cookie).",
        },
    ),
    Access.BACK_OFFICE_SESSION: (
        "backOfficeSession",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": "back_office_session",
            "description": "The back-office pages' sign-in cookie (`/back-office/login`).",
        },
    ),
    Access.DRAFT_TOKEN: (
        "draftToken",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "The draft token declaration returns with a draft (step 1); valid for "
            "that draft only.",
        },
    ),
    Access.INTERNAL_TOKEN: (
        "internalToken",
        {
            "type": "apiKey",
            "in": "header",
            "name": INTERNAL_TOKEN_HEADER,
            "description": "The platform's internal service token (`INTERNAL_API_TOKEN`), "
            "for the other services and the support tooling only.",
        },
    ),
    Access.SIGNED_LINK: (
        "signedLink",
        {
            "type": "apiKey",
            "in": "query",
            "name": "sig",
            "description": "The HMAC signature of a link (with its `exp`), as handed out by "
            "this service; an altered or expired link answers 404.",
        },
    ),
}


def access(*kinds: Access) -> dict[str, Any]:
    """`openapi_extra` of a route that any of `kinds` may call."""
    if not kinds:
        raise ValueError("a route must declare at least one kind of caller")
    if Access.PUBLIC in kinds and len(kinds) > 1:
        raise ValueError("a public route accepts anyone; do not list other kinds with it")
    return {ACCESS_EXTENSION: [Access(kind).value for kind in kinds]}


PUBLIC = access(Access.PUBLIC)


@dataclass(frozen=True)
class RouteAccess:
    path: str
    methods: tuple[str, ...]
    kinds: frozenset[Access] | None
    """None: the route declares nothing."""
    in_schema: bool


def _declared(extra: dict[str, Any] | None) -> frozenset[Access] | None:
    kinds = (extra or {}).get(ACCESS_EXTENSION)
    if not kinds:
        return None
    return frozenset(Access(kind) for kind in kinds)


def _framework_routes(app: FastAPI) -> set[str]:
    """The documentation routes FastAPI adds itself: public by construction."""
    return {
        url
        for url in (
            app.openapi_url,
            app.docs_url,
            app.redoc_url,
            app.swagger_ui_oauth2_redirect_url,
        )
        if url
    }


def mount_public(app: FastAPI, path: str, target: ASGIApp, name: str) -> None:
    """Mount `target` (static files) at `path` for anyone, and say so."""
    app.mount(path, target, name=name)
    mounts: dict[str, frozenset[Access]] = getattr(app.state, "mount_access", {})
    mounts[path] = frozenset({Access.PUBLIC})
    app.state.mount_access = mounts


def _flat_routes(app: FastAPI) -> Iterator[tuple[BaseRoute, Any]]:
    """(original route, effective route) for every route, included routers flattened.

    FastAPI >= 0.16x keeps included routers as wrappers in `app.routes` and resolves a route's
    prefix and options through `fastapi.routing.iter_route_contexts`; older versions copy the
    routes into `app.routes` as they are.
    """
    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    if iterate is None:
        for route in app.routes:
            yield route, route
        return
    for context in iterate(app.routes):
        yield context.original_route, context


def route_access(app: FastAPI) -> list[RouteAccess]:
    """Every route of `app` with what it declares (None where it declares nothing)."""
    found: list[RouteAccess] = []
    framework = _framework_routes(app)
    mounts: dict[str, frozenset[Access]] = getattr(app.state, "mount_access", {})
    for original, route in _flat_routes(app):
        path = str(getattr(route, "path", None) or repr(original))
        methods = tuple(sorted(getattr(route, "methods", None) or ("GET",)))
        if isinstance(original, APIRoute):
            extra = getattr(route, "openapi_extra", None)
            in_schema = bool(getattr(route, "include_in_schema", True))
            found.append(RouteAccess(path, methods, _declared(extra), in_schema))
        elif isinstance(original, Mount):
            found.append(RouteAccess(path, methods, mounts.get(path), False))
        else:
            kinds = frozenset({Access.PUBLIC}) if path in framework else None
            found.append(RouteAccess(path, methods, kinds, False))
    return found


def _security(kinds: Iterable[str]) -> list[dict[str, list[str]]]:
    return [
        {SECURITY_SCHEMES[Access(kind)][0]: []}
        for kind in kinds
        if Access(kind) in SECURITY_SCHEMES
    ]


def install_access_docs(app: FastAPI) -> None:
    """Make the app's OpenAPI say who may call each operation, in standard terms too.

    Each operation's `security` becomes the schemes of its `x-access` kinds (an empty list for a
    public one), replacing what FastAPI inferred from dependencies, and `securitySchemes` holds
    exactly the schemes used. Routes outside the paths are listed under `x-unlisted-routes`.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI caches the document (and rebuilds it when routes change); ours is the same
        # dict, completed once: the extension below marks it done.
        document = build()
        if UNLISTED_EXTENSION in document:
            return document
        used: set[str] = set()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                if not isinstance(operation, dict) or ACCESS_EXTENSION not in operation:
                    continue
                security = _security(operation[ACCESS_EXTENSION])
                operation["security"] = security
                used.update(name for requirement in security for name in requirement)
        components = document.setdefault("components", {})
        components["securitySchemes"] = {
            name: scheme for name, scheme in SECURITY_SCHEMES.values() if name in used
        }
        if not components["securitySchemes"]:
            del components["securitySchemes"]
        document[UNLISTED_EXTENSION] = [
            {
                "path": entry.path,
                "methods": list(entry.methods),
                ACCESS_EXTENSION: sorted(kind.value for kind in entry.kinds or ()),
            }
            for entry in route_access(app)
            if not entry.in_schema
        ]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


class InternalTokenRefused(Exception):
    """An internal route was called without the platform's internal token."""


INTERNAL_ONLY_MESSAGE = "This endpoint is for the other services of the platform only."


def internal_caller(expected_token: str) -> Callable[..., None]:
    """The dependency of internal routes: `X-Internal-Token` must be the internal token.

    Refusals raise `InternalTokenRefused`, answered 401 in the one error shape by the handler
    `install_operations` installs.
    """
    expected = expected_token.encode()

    def check(
        x_internal_token: Annotated[
            str | None, Header(alias=INTERNAL_TOKEN_HEADER, include_in_schema=False)
        ] = None,
    ) -> None:
        if x_internal_token is None or not hmac.compare_digest(x_internal_token.encode(), expected):
            raise InternalTokenRefused()

    return check
