"""What every page shares: rendering in the page's language, cookies, forms with their CSRF
token, where an error is shown, and the message pages.

Every form carries a CSRF token that must equal the HttpOnly `csrf` cookie (a double-submit
token; the cookies are SameSite=Lax too). The page's script sends the token in a header.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from returns_declaration.domain.model import Locale
from returns_declaration.domain.rules import FieldError
from returns_declaration.entrypoints.deps import Deps
from returns_declaration.entrypoints.texts import text

# The templates and static files, beside the entrypoints.
HERE = Path(__file__).parent.parent
CSRF_COOKIE = "csrf"
CSRF_HEADER = "X-CSRF-Token"
# A form may carry a few photos (media takes each up to its own cap); a larger body is refused
# before it is read.
FORM_MAX_BYTES = 100 * 1024 * 1024


class CsrfFailed(Exception):
    pass


class FormTooLarge(Exception):
    pass


def refuse_large_form(request: Request) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > FORM_MAX_BYTES:
        raise FormTooLarge()


def csrf_matches(request: Request, given: object) -> bool:
    expected = request.cookies.get(CSRF_COOKIE)
    if not isinstance(given, str) or not expected:
        return False
    return secrets.compare_digest(given, expected)


def shown_link(url: object) -> str | None:
    """A link from outside the page (an order's image, a label or photo link) fit for an href
    or a src: http(s) only, so no stored `javascript:` or `data:` link reaches a page."""
    if not isinstance(url, str):
        return None
    stripped = url.strip()
    return stripped if stripped.lower().startswith(("https://", "http://")) else None


def templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["euros"] = lambda cents: f"{cents / 100:.2f} €"
    environment.filters["link"] = shown_link
    return environment


def field_errors(
    errors: list[FieldError], shown: frozenset[str], prefix: str = ""
) -> dict[str, str]:
    """Errors by the field the page shows them beside (`photo_ids[2]` with `photo_ids`); one
    about no field of the page (an expired draft...) goes at the top, under `form`."""
    found: dict[str, str] = {}
    for error in errors:
        field = error.field.split("[")[0]
        name = prefix + field if field in shown else "form"
        found[name] = f"{found[name]} {error.message}" if name in found else error.message
    return found


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


class Pages:
    """The page kit: the shared policy (`deps`) and the templates."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.templates = templates()

    def render(
        self,
        request: Request,
        name: str,
        locale: Locale,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        known = request.cookies.get(CSRF_COOKIE)
        csrf = known or secrets.token_urlsafe(32)
        translate: Callable[..., str] = partial(text, locale)
        html = self.templates.get_template(name).render(
            t=translate, locale=locale, csrf=csrf, request=request, **context
        )
        response = HTMLResponse(html, status_code=status_code, headers=headers)
        if known != csrf:
            self.cookie(request, response, CSRF_COOKIE, csrf, "/", None)
        return response

    @staticmethod
    def cookie(
        request: Request,
        response: Response,
        name: str,
        value: str,
        path: str,
        max_age: int | None,
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=path,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    async def form(self, request: Request) -> FormData:
        """The posted form, once its size and CSRF token are checked."""
        refuse_large_form(request)
        form = await request.form(max_files=50, max_fields=500)
        if not csrf_matches(request, form.get("csrf")):
            raise CsrfFailed()
        return form

    def message_page(
        self, request: Request, locale: Locale, key: str, status_code: int, link: str | None
    ) -> HTMLResponse:
        return self.render(
            request, "message.html", locale, status_code, message=text(locale, key), link=link
        )

    def form_refused(
        self, request: Request, locale: Locale, error: CsrfFailed | FormTooLarge, link: str
    ) -> HTMLResponse:
        """The page for a form refused before it was read: forged or stale, or too large."""
        if isinstance(error, CsrfFailed):
            return self.message_page(request, locale, "csrf_failed", 403, link)
        return self.message_page(request, locale, "form_too_large", 413, link)
