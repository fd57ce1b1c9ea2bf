"""The HTML pages: the customer portal, the merchant back-office and the landing page.

Server-rendered, working without JavaScript: plain forms, POST then redirect to a GET. Each page
calls the same use cases as the JSON API (entrypoints/http.py) and shows their field errors, in
the merchant's language, beside the field they name. Every form carries a CSRF token that must
equal the HttpOnly `csrf` cookie (a double-submit token; the cookies are SameSite=Lax too).

No `from __future__ import annotations`: FastAPI must see the route parameter types.
"""

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from returns_contracts.service_kit.access import PUBLIC, Access, access
from returns_contracts.service_kit.bounds import ID_PATTERN, TOKEN_MAX
from returns_contracts.service_kit.errors import error_response
from returns_contracts.service_kit.http import client_address
from returns_contracts.service_kit.logging import current_correlation_id
from returns_contracts.signing import InvalidToken
from returns_declaration.adapters.media import MediaPhotoUploader, PhotoRefused
from returns_declaration.domain.model import (
    Actor,
    LabelStatus,
    Locale,
    Merchant,
    MerchantSettings,
    Reason,
    ReturnType,
)
from returns_declaration.domain.rules import DeclarationRejected, FieldError, RequestedQuantity
from returns_declaration.entrypoints.schemas import (
    DraftAnswer,
    PortalOrderAnswer,
    ReturnRecordAnswer,
    ReturnSummary,
    SubmissionAnswer,
)
from returns_declaration.entrypoints.texts import text
from returns_declaration.service.ports import PhotoCatalogUnavailable, ReturnFilter
from returns_declaration.service.sessions import (
    PortalSession,
    issue_user_token,
    read_user_token,
)
from returns_declaration.service.use_cases import (
    DeclarationService,
    NotFound,
    SessionRefused,
    Submission,
    TooManyAttempts,
    UnknownMerchant,
)
from returns_declaration.service.users import MerchantUser, MerchantUsers

HERE = Path(__file__).parent
# Who may call each page (listed under `x-unlisted-routes` in the OpenAPI document).
PORTAL_SESSION = access(Access.PORTAL_SESSION)
BACK_OFFICE_SESSION = access(Access.BACK_OFFICE_SESSION)
CSRF_COOKIE = "csrf"
PORTAL_COOKIE = "portal_session"
USER_COOKIE = "back_office_session"
USER_SESSION = timedelta(hours=8)
RETURN_TYPES: tuple[ReturnType, ...] = ("refund", "exchange", "store_credit")
LABEL_STATUSES: tuple[LabelStatus, ...] = (
    "awaiting_merchant",
    "pending",
    "requested",
    "generated",
    "rejected",
)


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


def _ids_look_right(request: Request) -> bool:
    """Whether every id in the path could name something; one that cannot is a page not found
    in the caller's language, never a trip to the store."""
    return all(
        isinstance(value, str) and re.fullmatch(ID_PATTERN, value)
        for value in request.path_params.values()
    )


@dataclass(frozen=True)
class LandingLinks:
    demo_merchant_id: str
    demo_order: str
    demo_email: str
    demo_user: str
    mailpit_url: str | None


def shown_link(url: object) -> str | None:
    """A link from outside the page (an order's image, a label or photo link) fit for an href
    or a src: http(s) only, so no stored `javascript:` or `data:` link reaches a page."""
    if not isinstance(url, str):
        return None
    stripped = url.strip()
    return stripped if stripped.lower().startswith(("https://", "http://")) else None


def _templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["euros"] = lambda cents: f"{cents / 100:.2f} €"
    environment.filters["link"] = shown_link
    return environment


def _field_errors(
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


IDENTIFY_FIELDS = frozenset({"order_number", "email"})
REASON_FIELDS = frozenset({"reason_code"})
DETAIL_FIELDS = frozenset({"comment", "photo_ids", "return_type"})


class Pages:
    def __init__(
        self,
        service: DeclarationService,
        users: MerchantUsers,
        uploader: MediaPhotoUploader,
        secret: str,
        landing: LandingLinks,
        *,
        trust_forwarded_for: bool,
    ) -> None:
        self.service = service
        # Behind a reverse proxy, the sign-in limit counts the client's address, not the proxy's.
        self.trust_forwarded_for = trust_forwarded_for
        self.users = users
        self.uploader = uploader
        self.secret = secret
        self.landing = landing
        self.templates = _templates()

    # --- rendering, cookies, CSRF --------------------------------------------------------

    def render(
        self,
        request: Request,
        name: str,
        locale: Locale,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        known = request.cookies.get(CSRF_COOKIE)
        csrf = known or secrets.token_urlsafe(32)
        translate: Callable[..., str] = partial(text, locale)
        html = self.templates.get_template(name).render(
            t=translate, locale=locale, csrf=csrf, request=request, **context
        )
        response = HTMLResponse(html, status_code=status_code)
        if known != csrf:
            self._cookie(request, response, CSRF_COOKIE, csrf, "/", None)
        return response

    def _cookie(
        self,
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
        refuse_large_form(request)
        form = await request.form(max_files=50, max_fields=500)
        given = form.get("csrf")
        expected = request.cookies.get(CSRF_COOKIE)
        if (
            not isinstance(given, str)
            or not expected
            or not secrets.compare_digest(given, expected)
        ):
            raise CsrfFailed()
        return form

    def message_page(
        self, request: Request, locale: Locale, key: str, status_code: int, link: str | None
    ) -> HTMLResponse:
        return self.render(
            request, "message.html", locale, status_code, message=text(locale, key), link=link
        )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- the customer portal -----------------------------------------------------------------


def portal_pages(pages: Pages) -> APIRouter:
    router = APIRouter(prefix="/portal/{merchant_id}", include_in_schema=False)
    service = pages.service

    def base(merchant_id: str) -> str:
        return f"/portal/{merchant_id}"

    async def merchant_or_404(request: Request, merchant_id: str) -> Merchant | None:
        if not _ids_look_right(request):
            return None
        try:
            return await service.merchant(merchant_id)
        except UnknownMerchant:
            return None

    async def session_of(request: Request, merchant_id: str) -> PortalSession | None:
        token = request.cookies.get(PORTAL_COOKIE)
        if not token:
            return None
        try:
            return await service.session(merchant_id, token)
        except SessionRefused:
            return None

    def expired(merchant_id: str) -> RedirectResponse:
        return redirect(f"{base(merchant_id)}?expired=1")

    async def guarded(
        request: Request,
        merchant_id: str,
        handle: Callable[[Merchant, PortalSession], Any],
    ) -> Response:
        """Runs a portal step with the session, turning the common refusals into pages."""
        merchant = await merchant_or_404(request, merchant_id)
        if merchant is None:
            return pages.message_page(request, "fr", "not_found", 404, None)
        session = await session_of(request, merchant_id)
        if session is None:
            return expired(merchant_id)
        try:
            response: Response = await handle(merchant, session)
            return response
        except CsrfFailed:
            return pages.message_page(
                request, merchant.locale, "csrf_failed", 403, request.url.path
            )
        except FormTooLarge:
            return pages.message_page(
                request, merchant.locale, "form_too_large", 413, request.url.path
            )
        except NotFound:
            return pages.message_page(request, merchant.locale, "not_found", 404, base(merchant_id))

    @router.get("", openapi_extra=PUBLIC)
    async def identify_page(
        request: Request,
        merchant_id: str,
        order: str = "",
        email: str = "",
        expired: int = 0,
    ) -> Response:
        merchant = await merchant_or_404(request, merchant_id)
        if merchant is None:
            return pages.message_page(request, "fr", "not_found", 404, None)
        notice = text(merchant.locale, "session_expired") if expired else None
        return pages.render(
            request,
            "portal_identify.html",
            merchant.locale,
            merchant=merchant,
            values={"order_number": order, "email": email},
            errors={},
            notice=notice,
        )

    @router.post("", openapi_extra=PUBLIC)
    async def identify(request: Request, merchant_id: str) -> Response:
        merchant = await merchant_or_404(request, merchant_id)
        if merchant is None:
            return pages.message_page(request, "fr", "not_found", 404, None)
        try:
            form = await pages.form(request)
        except CsrfFailed:
            return pages.message_page(
                request, merchant.locale, "csrf_failed", 403, base(merchant_id)
            )
        except FormTooLarge:
            return pages.message_page(
                request, merchant.locale, "form_too_large", 413, base(merchant_id)
            )
        values = {
            "order_number": str(form.get("order_number", "")).strip(),
            "email": str(form.get("email", "")).strip(),
        }
        errors: dict[str, str] = {}
        status_code = 422
        client = client_address(request, pages.trust_forwarded_for)
        try:
            opened = await service.open_session(
                merchant_id, values["order_number"], values["email"], client
            )
        except SessionRefused as refused:
            errors = _field_errors(refused.errors, IDENTIFY_FIELDS)
        except TooManyAttempts as error:
            status_code = 429
            minutes = max(1, error.retry_after_seconds // 60)
            errors = {
                "order_number": (
                    f"Trop de tentatives. Réessayez dans {minutes} minutes."
                    if merchant.locale == "fr"
                    else f"Too many attempts. Please try again in {minutes} minutes."
                )
            }
        else:
            response = redirect(f"{base(merchant_id)}/items")
            pages._cookie(
                request,
                response,
                PORTAL_COOKIE,
                opened.token,
                base(merchant_id),
                int(service.session_ttl.total_seconds()),
            )
            return response
        return pages.render(
            request,
            "portal_identify.html",
            merchant.locale,
            status_code,
            merchant=merchant,
            values=values,
            errors=errors,
            notice=None,
        )

    async def items_view(
        request: Request,
        merchant: Merchant,
        session: PortalSession,
        chosen: Mapping[str, int],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Response:
        order = PortalOrderAnswer.of(await service.portal_order(session))
        return pages.render(
            request,
            "portal_items.html",
            merchant.locale,
            status_code,
            merchant=merchant,
            order=order,
            chosen=chosen,
            errors=errors,
            step=1,
        )

    @router.get("/items", openapi_extra=PORTAL_SESSION)
    async def items_page(request: Request, merchant_id: str) -> Response:
        async def handle(merchant: Merchant, session: PortalSession) -> Response:
            return await items_view(request, merchant, session, {}, {})

        return await guarded(request, merchant_id, handle)

    @router.post("/items", openapi_extra=PORTAL_SESSION)
    async def choose_items(request: Request, merchant_id: str) -> Response:
        async def handle(merchant: Merchant, session: PortalSession) -> Response:
            form = await pages.form(request)
            chosen: dict[str, int] = {}
            for key, value in form.multi_items():
                if key.startswith("qty_") and isinstance(value, str) and value.strip():
                    try:
                        quantity = int(value)
                    except ValueError:
                        quantity = -1  # the rule refuses it beside the field
                    if quantity != 0:
                        chosen[key.removeprefix("qty_")] = quantity
            requested = [RequestedQuantity(line_id, qty) for line_id, qty in chosen.items()]
            try:
                view = await service.create_draft(session, requested)
            except DeclarationRejected as rejected:
                by_index = list(chosen)
                errors: dict[str, str] = {}
                for error in rejected.errors:
                    name = error.field
                    if name.startswith("lines[") and "]" in name:
                        index = int(name[6 : name.index("]")])
                        line_id = by_index[index] if index < len(by_index) else ""
                        errors.setdefault(f"line_{line_id}", error.message)
                    elif name == "lines":
                        errors.setdefault("lines", error.message)
                    else:
                        errors.setdefault("form", error.message)
                return await items_view(request, merchant, session, chosen, errors, 422)
            return redirect(f"{base(merchant_id)}/drafts/{view.draft.id}/reasons")

        return await guarded(request, merchant_id, handle)

    async def draft_view(
        request: Request,
        merchant: Merchant,
        session: PortalSession,
        draft_id: str,
        template: str,
        step: int,
        errors: dict[str, str],
        status_code: int = 200,
        **context: Any,
    ) -> Response:
        draft = DraftAnswer.of(await service.summary(session, draft_id))
        if draft.submitted_return_id is not None:
            return redirect(f"{base(merchant.id)}/returns/{draft.submitted_return_id}")
        order = PortalOrderAnswer.of(await service.portal_order(session))
        return pages.render(
            request,
            template,
            merchant.locale,
            status_code,
            merchant=merchant,
            draft=draft,
            order=order,
            errors=errors,
            step=step,
            base=base(merchant.id),
            **context,
        )

    @router.get("/drafts/{draft_id}/reasons", openapi_extra=PORTAL_SESSION)
    async def reasons_page(request: Request, merchant_id: str, draft_id: str) -> Response:
        async def handle(merchant: Merchant, session: PortalSession) -> Response:
            return await draft_view(
                request, merchant, session, draft_id, "portal_reasons.html", 2, {}
            )

        return await guarded(request, merchant_id, handle)

    @router.post("/drafts/{draft_id}/reasons", openapi_extra=PORTAL_SESSION)
    async def choose_reasons(request: Request, merchant_id: str, draft_id: str) -> Response:
        async def handle(merchant: Merchant, session: PortalSession) -> Response:
            form = await pages.form(request)
            current = DraftAnswer.of(await service.summary(session, draft_id))
            errors: dict[str, str] = {}
            for line in current.lines:
                code = str(form.get(f"reason_{line.line_id}", ""))
                try:
                    await service.choose_reason(session, draft_id, line.line_id, code)
                except DeclarationRejected as rejected:
                    errors.update(_field_errors(rejected.errors, REASON_FIELDS, f"{line.line_id}."))
            if errors:
                return await draft_view(
                    request, merchant, session, draft_id, "portal_reasons.html", 2, errors, 422
                )
            return redirect(f"{base(merchant_id)}/drafts/{draft_id}/details")

        return await guarded(request, merchant_id, handle)

    @router.get("/drafts/{draft_id}/details", openapi_extra=PORTAL_SESSION)
    async def details_page(request: Request, merchant_id: str, draft_id: str) -> Response:
        async def handle(merchant: Merchant, session: PortalSession) -> Response:
            return await draft_view(
                request,
                merchant,
                session,
                draft_id,
                "portal_details.html",
                3,
                {},
                pending={},
                comments={},
            )

        return await guarded(request, merchant_id, handle)

    @router.post("/drafts/{draft_id}/details", openapi_extra=PORTAL_SESSION)
    async def describe(request: Request, merchant_id: str, draft_id: str) -> Response:
        async def handle(merchant: Merchant, session: PortalSession) -> Response:
            form = await pages.form(request)
            view = await service.summary(session, draft_id)
            current = DraftAnswer.of(view)
            errors: dict[str, str] = {}
            pending: dict[str, list[str]] = {}
            comments: dict[str, str] = {}
            for line in current.lines:
                line_id = line.line_id
                if not line.defective:
                    chosen = form.get(f"type_{line_id}")
                    return_type = chosen if chosen in RETURN_TYPES else None
                    try:
                        await service.choose_return_type(
                            session,
                            draft_id,
                            line_id,
                            return_type,
                        )
                    except DeclarationRejected as rejected:
                        errors.update(_field_errors(rejected.errors, DETAIL_FIELDS, f"{line_id}."))
                    continue
                comment = str(form.get(f"comment_{line_id}", ""))
                comments[line_id] = comment
                removed = {str(value) for value in form.getlist(f"remove_{line_id}")}
                kept = [photo.photo_id for photo in line.photos if photo.photo_id not in removed]
                kept += [
                    str(value)
                    for value in form.getlist(f"pending_{line_id}")
                    if str(value) not in removed
                ]
                for upload in form.getlist(f"photos_{line_id}"):
                    if not isinstance(upload, UploadFile) or not upload.filename:
                        continue
                    content = await upload.read()
                    if not content:
                        continue
                    try:
                        uploaded = await pages.uploader.upload(
                            merchant_id,
                            draft_id,
                            view.draft_token,
                            line_id,
                            upload.filename,
                            content,
                            upload.content_type or "application/octet-stream",
                        )
                        kept.append(uploaded.photo_id)
                    except PhotoRefused as refused:
                        errors.setdefault(f"{line_id}.photo_ids", _photo_message(merchant, refused))
                    except PhotoCatalogUnavailable:
                        errors.setdefault(
                            f"{line_id}.photo_ids", text(merchant.locale, "media_unavailable")
                        )
                pending[line_id] = kept
                try:
                    await service.describe_defect(session, draft_id, line_id, comment, kept)
                except DeclarationRejected as rejected:
                    placed = _field_errors(rejected.errors, DETAIL_FIELDS, f"{line_id}.")
                    for name, message in placed.items():
                        errors.setdefault(name, message)
                except PhotoCatalogUnavailable:
                    errors.setdefault(
                        f"{line_id}.photo_ids", text(merchant.locale, "media_unavailable")
                    )
                else:
                    pending.pop(line_id)
            if errors:
                return await draft_view(
                    request,
                    merchant,
                    session,
                    draft_id,
                    "portal_details.html",
                    3,
                    errors,
                    422,
                    pending=pending,
                    comments=comments,
                )
            return redirect(f"{base(merchant_id)}/drafts/{draft_id}/summary")

        return await guarded(request, merchant_id, handle)

    # For the page's script only (thumbnails with progress, remove): the same upload as the
    # form's, answered in JSON. The CSRF token comes in a header.
    async def photo_call(
        request: Request,
        merchant_id: str,
        draft_id: str,
        act: Callable[[Merchant, str], Any],
    ) -> Response:
        merchant = await merchant_or_404(request, merchant_id)
        session = None if merchant is None else await session_of(request, merchant_id)
        if merchant is None or session is None:
            return error_response(401, "session_refused", "Sign in again.")
        given = request.headers.get("X-CSRF-Token", "")
        expected = request.cookies.get(CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(given, expected):
            return error_response(403, "csrf", text(merchant.locale, "csrf_failed"))
        try:
            view = await service.summary(session, draft_id)
            answer: Response = await act(merchant, view.draft_token)
            return answer
        except NotFound:
            return error_response(404, "not_found", text(merchant.locale, "not_found"))
        except FormTooLarge:
            return error_response(413, "too_large", text(merchant.locale, "photo_too_large"))
        except PhotoRefused as refused:
            return error_response(refused.status, refused.code, _photo_message(merchant, refused))
        except PhotoCatalogUnavailable:
            return error_response(
                503, "media_unavailable", text(merchant.locale, "media_unavailable")
            )

    @router.post("/drafts/{draft_id}/lines/{line_id}/photos", openapi_extra=PORTAL_SESSION)
    async def upload_photo(
        request: Request, merchant_id: str, draft_id: str, line_id: str
    ) -> Response:
        async def act(merchant: Merchant, draft_token: str) -> Response:
            refuse_large_form(request)
            form = await request.form(max_files=1, max_fields=5)
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                return error_response(422, "no_file", text(merchant.locale, "photo_not_image"))
            uploaded = await pages.uploader.upload(
                merchant_id,
                draft_id,
                draft_token,
                line_id,
                upload.filename or "photo",
                await upload.read(),
                upload.content_type or "application/octet-stream",
            )
            return JSONResponse(
                {"photo_id": uploaded.photo_id, "thumbnail_url": uploaded.thumbnail_url},
                status_code=201,
            )

        return await photo_call(request, merchant_id, draft_id, act)

    @router.delete("/drafts/{draft_id}/photos/{photo_id}", openapi_extra=PORTAL_SESSION)
    async def remove_photo(
        request: Request, merchant_id: str, draft_id: str, photo_id: str
    ) -> Response:
        async def act(merchant: Merchant, draft_token: str) -> Response:
            await pages.uploader.remove(merchant_id, draft_id, draft_token, photo_id)
            return Response(status_code=204)

        return await photo_call(request, merchant_id, draft_id, act)

    @router.get("/drafts/{draft_id}/summary", openapi_extra=PORTAL_SESSION)
    async def summary_page(request: Request, merchant_id: str, draft_id: str) -> Response:
        async def handle(merchant: Merchant, session: PortalSession) -> Response:
            return await draft_view(
                request, merchant, session, draft_id, "portal_summary.html", 4, {}
            )

        return await guarded(request, merchant_id, handle)

    @router.post("/drafts/{draft_id}/submit", openapi_extra=PORTAL_SESSION)
    async def submit(request: Request, merchant_id: str, draft_id: str) -> Response:
        async def handle(merchant: Merchant, session: PortalSession) -> Response:
            form = await pages.form(request)
            # The form's own key: a double click or a resent form makes one return.
            key = str(form.get("submission_key", "")) or None
            try:
                outcome = await service.submit(session, draft_id, key, current_correlation_id())
            except DeclarationRejected as rejected:
                errors = {"form": " ".join(error.message for error in rejected.errors)}
                return await draft_view(
                    request,
                    merchant,
                    session,
                    draft_id,
                    "portal_summary.html",
                    4,
                    errors,
                    422,
                )
            return redirect(f"{base(merchant_id)}/returns/{outcome.record.declared.id}")

        return await guarded(request, merchant_id, handle)

    @router.get("/returns/{return_id}", openapi_extra=PORTAL_SESSION)
    async def confirmation(request: Request, merchant_id: str, return_id: str) -> Response:
        async def handle(merchant: Merchant, session: PortalSession) -> Response:
            record = await service.customer_return(session, return_id)
            answer = SubmissionAnswer.of(Submission(record, created=False))
            label_url = None
            if record.label_status == "generated" and record.label:
                label_url = shown_link(record.label.get("download_url"))
            return pages.render(
                request,
                "portal_confirmation.html",
                merchant.locale,
                merchant=merchant,
                answer=answer,
                label_url=label_url,
                base=base(merchant_id),
            )

        return await guarded(request, merchant_id, handle)

    return router


def _day(text: str) -> date | None:
    """A date field of the filters; one the browser did not fill properly filters nothing."""
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _whole_number(value: object) -> object:
    """A form's number field as the number it spells; anything else is left for the model to
    refuse beside the field."""
    written = str(value or "").strip()
    return (
        int(written) if written.isascii() and written.isdigit() and len(written) <= 9 else written
    )


def _photo_message(merchant: Merchant, refused: PhotoRefused) -> str:
    if refused.status == 413:
        key = "photo_too_large"
    elif refused.status in (415, 422):
        key = "photo_not_image"
    elif refused.code == "too_many_photos":
        key = "photo_too_many"
    else:
        key = "photo_refused"
    return text(merchant.locale, key)


# --- the back-office ---------------------------------------------------------------------


def back_office_pages(pages: Pages) -> APIRouter:
    router = APIRouter(prefix="/back-office", include_in_schema=False)
    service = pages.service

    def browser_locale(request: Request) -> Locale:
        wanted = request.headers.get("Accept-Language", "")
        return "fr" if wanted.lower().startswith("fr") else "en"

    async def signed_in(request: Request) -> MerchantUser | None:
        token = request.cookies.get(USER_COOKIE)
        if not token:
            return None
        try:
            email = read_user_token(pages.secret, token, datetime.now(UTC))
        except InvalidToken:
            return None
        return await pages.users.user(email)

    async def guarded(
        request: Request,
        merchant_id: str,
        handle: Callable[[Merchant, MerchantUser], Any],
    ) -> Response:
        user = await signed_in(request)
        if user is None:
            return redirect("/back-office/login?" + urlencode({"next": request.url.path}))
        if user.merchant_id != merchant_id or not _ids_look_right(request):
            # Another merchant's pages look exactly like pages that do not exist.
            return pages.message_page(request, browser_locale(request), "not_found", 404, None)
        merchant = await service.merchant(merchant_id)
        try:
            response: Response = await handle(merchant, user)
            return response
        except CsrfFailed:
            return pages.message_page(
                request, merchant.locale, "csrf_failed", 403, request.url.path
            )
        except FormTooLarge:
            return pages.message_page(
                request, merchant.locale, "form_too_large", 413, request.url.path
            )
        except NotFound:
            return pages.message_page(
                request,
                merchant.locale,
                "not_found",
                404,
                f"/back-office/merchants/{merchant_id}/returns",
            )

    @router.get("", openapi_extra=PUBLIC)
    @router.get("/", openapi_extra=PUBLIC)
    async def home(request: Request) -> Response:
        user = await signed_in(request)
        if user is None:
            return redirect("/back-office/login")
        return redirect(f"/back-office/merchants/{user.merchant_id}/returns")

    @router.get("/login", openapi_extra=PUBLIC)
    async def login_page(request: Request, next: str = "") -> Response:
        return pages.render(
            request,
            "bo_login.html",
            browser_locale(request),
            error=None,
            email="",
            next=next,
            user=None,
        )

    @router.post("/login", openapi_extra=PUBLIC)
    async def login(request: Request) -> Response:
        locale = browser_locale(request)
        try:
            form = await pages.form(request)
        except CsrfFailed:
            return pages.message_page(request, locale, "csrf_failed", 403, "/back-office/login")
        except FormTooLarge:
            return pages.message_page(request, locale, "form_too_large", 413, "/back-office/login")
        email = str(form.get("email", ""))
        user = await pages.users.authenticate(email, str(form.get("password", "")))
        if user is None:
            return pages.render(
                request,
                "bo_login.html",
                locale,
                401,
                error=text(locale, "login_failed"),
                email=email,
                next=str(form.get("next", "")),
                user=None,
            )
        wanted = str(form.get("next", ""))
        home = f"/back-office/merchants/{user.merchant_id}/"
        # Only a page of this merchant's back-office; never another site.
        target = wanted if wanted.startswith(home) else home + "returns"
        response = redirect(target)
        token = issue_user_token(pages.secret, user.email, datetime.now(UTC) + USER_SESSION)
        pages._cookie(
            request,
            response,
            USER_COOKIE,
            token,
            "/back-office",
            int(USER_SESSION.total_seconds()),
        )
        return response

    @router.post("/logout", openapi_extra=PUBLIC)
    async def logout(request: Request) -> Response:
        try:
            await pages.form(request)
        except (CsrfFailed, FormTooLarge):
            return pages.message_page(
                request, browser_locale(request), "csrf_failed", 403, "/back-office/login"
            )
        response = redirect("/back-office/login")
        response.delete_cookie(USER_COOKIE, path="/back-office")
        return response

    @router.get("/merchants/{merchant_id}/returns", openapi_extra=BACK_OFFICE_SESSION)
    async def returns_page(
        request: Request,
        merchant_id: str,
        defective: str = "",
        label_status: str = "",
        order_number: str = "",
        submitted_from: str = "",
        submitted_to: str = "",
        cursor: str | None = None,
    ) -> Response:
        async def handle(merchant: Merchant, user: MerchantUser) -> Response:
            status: LabelStatus | None = None
            for known in LABEL_STATUSES:
                if label_status == known:
                    status = known
            where = ReturnFilter(
                defective={"yes": True, "no": False}.get(defective),
                label_status=status,
                submitted_from=_day(submitted_from),
                submitted_to=_day(submitted_to),
                order_number=order_number.strip()[:64] or None,
            )
            to_handle = await service.list_returns(
                merchant_id, ReturnFilter(label_status="awaiting_merchant"), 50, None
            )
            given = cursor if cursor and len(cursor) <= TOKEN_MAX else None
            try:
                listed = await service.list_returns(merchant_id, where, 50, given)
            except ValueError:
                listed = await service.list_returns(merchant_id, where, 50, None)
            query = {
                "defective": defective,
                "label_status": label_status,
                "order_number": order_number,
                "submitted_from": submitted_from if where.submitted_from else "",
                "submitted_to": submitted_to if where.submitted_to else "",
            }
            return pages.render(
                request,
                "bo_returns.html",
                merchant.locale,
                merchant=merchant,
                user=user,
                to_handle=[ReturnSummary.of(record) for record in to_handle.records],
                returns=[ReturnSummary.of(record) for record in listed.records],
                next_cursor=listed.next_cursor,
                query=query,
                next_query=urlencode({**query, "cursor": listed.next_cursor or ""}),
                statuses=LABEL_STATUSES,
            )

        return await guarded(request, merchant_id, handle)

    @router.get("/merchants/{merchant_id}/returns/{return_id}", openapi_extra=BACK_OFFICE_SESSION)
    async def record_page(
        request: Request, merchant_id: str, return_id: str, requested: int = 0
    ) -> Response:
        async def handle(merchant: Merchant, user: MerchantUser) -> Response:
            record, photos = await service.return_record(merchant_id, return_id)
            return pages.render(
                request,
                "bo_record.html",
                merchant.locale,
                merchant=merchant,
                user=user,
                record=ReturnRecordAnswer.of(record, photos),
                requested=bool(requested),
            )

        return await guarded(request, merchant_id, handle)

    @router.post(
        "/merchants/{merchant_id}/returns/{return_id}/label", openapi_extra=BACK_OFFICE_SESSION
    )
    async def request_label(request: Request, merchant_id: str, return_id: str) -> Response:
        async def handle(merchant: Merchant, user: MerchantUser) -> Response:
            form = await pages.form(request)
            actor = Actor(kind="user", id=user.email, display_name=user.display_name)
            await service.request_label(
                merchant_id,
                return_id,
                actor,
                form.get("regenerate") == "1",
                current_correlation_id(),
            )
            return redirect(f"/back-office/merchants/{merchant_id}/returns/{return_id}?requested=1")

        return await guarded(request, merchant_id, handle)

    async def settings_view(
        request: Request,
        merchant: Merchant,
        user: MerchantUser,
        errors: dict[str, str],
        saved: bool,
        status_code: int = 200,
    ) -> Response:
        return pages.render(
            request,
            "bo_settings.html",
            merchant.locale,
            status_code,
            merchant=merchant,
            user=user,
            errors=errors,
            saved=saved,
        )

    @router.get("/merchants/{merchant_id}/settings", openapi_extra=BACK_OFFICE_SESSION)
    async def settings_page(request: Request, merchant_id: str, saved: int = 0) -> Response:
        async def handle(merchant: Merchant, user: MerchantUser) -> Response:
            return await settings_view(request, merchant, user, {}, bool(saved))

        return await guarded(request, merchant_id, handle)

    def invalid(merchant: Merchant, error: ValidationError, prefix: str = "") -> dict[str, str]:
        message = text(merchant.locale, "invalid_value")
        return {prefix + str(item["loc"][0]): message for item in error.errors() if item["loc"]}

    @router.post("/merchants/{merchant_id}/settings", openapi_extra=BACK_OFFICE_SESSION)
    async def save_settings(request: Request, merchant_id: str) -> Response:
        async def handle(merchant: Merchant, user: MerchantUser) -> Response:
            form = await pages.form(request)
            current = MerchantSettings.model_validate(
                merchant.model_dump(include=set(MerchantSettings.model_fields))
            ).model_dump()
            try:
                changed = MerchantSettings.model_validate(
                    {
                        **current,
                        "customer_service_email": str(form.get("customer_service_email", "")),
                        "locale": str(form.get("locale", "")),
                        "return_window_days": _whole_number(form.get("return_window_days")),
                    }
                )
            except ValidationError as error:
                return await settings_view(
                    request, merchant, user, invalid(merchant, error), False, 422
                )
            await service.configure_merchant(merchant_id, changed, current_correlation_id())
            return redirect(f"/back-office/merchants/{merchant_id}/settings?saved=1")

        return await guarded(request, merchant_id, handle)

    @router.post("/merchants/{merchant_id}/reasons", openapi_extra=BACK_OFFICE_SESSION)
    async def save_reason(request: Request, merchant_id: str) -> Response:
        async def handle(merchant: Merchant, user: MerchantUser) -> Response:
            form = await pages.form(request)
            code = str(form.get("code", "")).strip()
            try:
                reason = Reason(
                    code=code,
                    label_fr=str(form.get("label_fr", "")).strip(),
                    label_en=str(form.get("label_en", "")).strip(),
                    defective=form.get("defective") == "1",
                    retired=form.get("retired") == "1",
                )
            except ValidationError as error:
                prefix = f"reason_{code or 'new'}."
                if form.get("new") == "1":
                    prefix = "reason_new."
                return await settings_view(
                    request, merchant, user, invalid(merchant, error, prefix), False, 422
                )
            await service.put_reason(merchant_id, reason, current_correlation_id())
            return redirect(f"/back-office/merchants/{merchant_id}/settings?saved=1")

        return await guarded(request, merchant_id, handle)

    @router.post(
        "/merchants/{merchant_id}/reasons/{code}/retire", openapi_extra=BACK_OFFICE_SESSION
    )
    async def retire_reason(request: Request, merchant_id: str, code: str) -> Response:
        async def handle(merchant: Merchant, user: MerchantUser) -> Response:
            await pages.form(request)
            try:
                await service.retire_reason(merchant_id, code, current_correlation_id())
            except DeclarationRejected as rejected:
                errors = _field_errors(rejected.errors, frozenset({"code"}), f"reason_{code}.")
                return await settings_view(request, merchant, user, errors, False, 422)
            return redirect(f"/back-office/merchants/{merchant_id}/settings?saved=1")

        return await guarded(request, merchant_id, handle)

    return router


def landing_page(pages: Pages, docs_url: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", openapi_extra=PUBLIC)
    async def landing(request: Request) -> Response:
        links = pages.landing
        portal = f"/portal/{links.demo_merchant_id}?" + urlencode(
            {"order": links.demo_order, "email": links.demo_email}
        )
        return pages.render(
            request,
            "landing.html",
            "en",
            portal_url=portal,
            links=links,
            docs_url=docs_url,
        )

    return router
