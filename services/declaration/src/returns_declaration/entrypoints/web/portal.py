"""The customer portal's pages (R2-R7): sign in with the order, then four steps and the
confirmation. Server-rendered, working without JavaScript: plain forms, POST then redirect to a
GET; each step calls the same use cases as the JSON API and shows their field errors, in the
merchant's language, beside the field they name.

No `from __future__ import annotations`: FastAPI must see the route parameter types.
"""

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from returns_contracts.service_kit.access import PUBLIC, Access, access
from returns_contracts.service_kit.errors import error_response
from returns_contracts.service_kit.logging import current_correlation_id
from returns_declaration.domain.model import Merchant, ReturnType
from returns_declaration.domain.rules import DeclarationRejected, RequestedQuantity
from returns_declaration.entrypoints.deps import ids_look_right, too_many_attempts
from returns_declaration.entrypoints.schemas import (
    DraftAnswer,
    PortalOrderAnswer,
    SubmissionAnswer,
)
from returns_declaration.entrypoints.texts import text
from returns_declaration.entrypoints.web.forms import (
    CSRF_HEADER,
    CsrfFailed,
    FormTooLarge,
    Pages,
    csrf_matches,
    field_errors,
    redirect,
    refuse_large_form,
    shown_link,
)
from returns_declaration.service.errors import (
    NotFound,
    PhotoCatalogUnavailable,
    PhotoRefused,
    SessionRefused,
    TooManyAttempts,
    UnknownMerchant,
)
from returns_declaration.service.portal import DraftView, Submission
from returns_declaration.service.sessions import PortalSession
from returns_declaration.service.uploads import PhotoFile

PORTAL_SESSION = access(Access.PORTAL_SESSION)
PORTAL_COOKIE = "portal_session"
RETURN_TYPES: tuple[ReturnType, ...] = ("refund", "exchange", "store_credit")
IDENTIFY_FIELDS = frozenset({"order_number", "email"})
REASON_FIELDS = frozenset({"reason_code"})
DETAIL_FIELDS = frozenset({"comment", "photo_ids", "return_type"})


def photo_message(merchant: Merchant, problem: PhotoRefused | PhotoCatalogUnavailable) -> str:
    """Why a photo was not taken, in the merchant's language."""
    if isinstance(problem, PhotoCatalogUnavailable):
        key = "media_unavailable"
    elif problem.status == 413:
        key = "photo_too_large"
    elif problem.status in (415, 422):
        key = "photo_not_image"
    elif problem.code == "too_many_photos":
        key = "photo_too_many"
    else:
        key = "photo_refused"
    return text(merchant.locale, key)


async def _photo_files(uploads: list[UploadFile | str]) -> list[PhotoFile]:
    """The files a form's photo field carries (an empty field sends one without a name)."""
    files: list[PhotoFile] = []
    for upload in uploads:
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        content = await upload.read()
        if content:
            files.append(
                PhotoFile(
                    upload.filename, content, upload.content_type or "application/octet-stream"
                )
            )
    return files


def portal_pages(pages: Pages) -> APIRouter:
    router = APIRouter(prefix="/portal/{merchant_id}", include_in_schema=False)
    deps = pages.deps

    def base(merchant_id: str) -> str:
        return f"/portal/{merchant_id}"

    async def merchant_or_404(request: Request, merchant_id: str) -> Merchant | None:
        if not ids_look_right(request):
            return None
        try:
            return await deps.merchants.merchant(merchant_id)
        except UnknownMerchant:
            return None

    async def session_of(request: Request, merchant_id: str) -> PortalSession | None:
        try:
            return await deps.portal_session(merchant_id, request.cookies.get(PORTAL_COOKIE))
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
        except (CsrfFailed, FormTooLarge) as refused:
            return pages.form_refused(request, merchant.locale, refused, request.url.path)
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
        except (CsrfFailed, FormTooLarge) as refused:
            return pages.form_refused(request, merchant.locale, refused, base(merchant_id))
        values = {
            "order_number": str(form.get("order_number", "")).strip(),
            "email": str(form.get("email", "")).strip(),
        }
        errors: dict[str, str] = {}
        status_code = 422
        headers: dict[str, str] = {}
        try:
            opened = await deps.portal.open_session(
                merchant_id, values["order_number"], values["email"], deps.client_address(request)
            )
        except SessionRefused as refused:
            errors = field_errors(refused.errors, IDENTIFY_FIELDS)
        except TooManyAttempts as error:
            refusal = too_many_attempts(error)
            status_code, headers = 429, refusal.headers
            errors = {"order_number": refusal.message}
        else:
            response = redirect(f"{base(merchant_id)}/items")
            pages.cookie(
                request,
                response,
                PORTAL_COOKIE,
                opened.token,
                base(merchant_id),
                int(deps.portal.session_ttl.total_seconds()),
            )
            return response
        return pages.render(
            request,
            "portal_identify.html",
            merchant.locale,
            status_code,
            headers,
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
        order = PortalOrderAnswer.of(await deps.portal.portal_order(session))
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
                view = await deps.portal.create_draft(session, requested)
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
        draft = DraftAnswer.of(await deps.portal.summary(session, draft_id))
        if draft.submitted_return_id is not None:
            return redirect(f"{base(merchant.id)}/returns/{draft.submitted_return_id}")
        order = PortalOrderAnswer.of(await deps.portal.portal_order(session))
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
            current = DraftAnswer.of(await deps.portal.summary(session, draft_id))
            errors: dict[str, str] = {}
            for line in current.lines:
                code = str(form.get(f"reason_{line.line_id}", ""))
                try:
                    await deps.portal.choose_reason(session, draft_id, line.line_id, code)
                except DeclarationRejected as rejected:
                    errors.update(field_errors(rejected.errors, REASON_FIELDS, f"{line.line_id}."))
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
            view = await deps.portal.summary(session, draft_id)
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
                        await deps.portal.choose_return_type(
                            session, draft_id, line_id, return_type
                        )
                    except DeclarationRejected as rejected:
                        errors.update(field_errors(rejected.errors, DETAIL_FIELDS, f"{line_id}."))
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
                described = await deps.photos.describe_with_uploads(
                    session,
                    view,
                    line_id,
                    comment,
                    kept,
                    await _photo_files(form.getlist(f"photos_{line_id}")),
                )
                photos_field = f"{line_id}.photo_ids"
                problem = described.upload_problem
                if problem is not None:
                    errors.setdefault(photos_field, photo_message(merchant, problem))
                placed = field_errors(list(described.rejected), DETAIL_FIELDS, f"{line_id}.")
                for name, message in placed.items():
                    errors.setdefault(name, message)
                if described.catalog_unavailable:
                    errors.setdefault(photos_field, text(merchant.locale, "media_unavailable"))
                if not described.saved:
                    pending[line_id] = list(described.photo_ids)
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
        act: Callable[[Merchant, PortalSession, DraftView], Any],
    ) -> Response:
        merchant = await merchant_or_404(request, merchant_id)
        session = None if merchant is None else await session_of(request, merchant_id)
        if merchant is None or session is None:
            return error_response(401, "session_refused", "Sign in again.")
        if not csrf_matches(request, request.headers.get(CSRF_HEADER, "")):
            return error_response(403, "csrf", text(merchant.locale, "csrf_failed"))
        try:
            view = await deps.portal.summary(session, draft_id)
            answer: Response = await act(merchant, session, view)
            return answer
        except NotFound:
            return error_response(404, "not_found", text(merchant.locale, "not_found"))
        except FormTooLarge:
            return error_response(413, "too_large", text(merchant.locale, "photo_too_large"))
        except PhotoRefused as refused:
            return error_response(refused.status, refused.code, photo_message(merchant, refused))
        except PhotoCatalogUnavailable as down:
            return error_response(503, "media_unavailable", photo_message(merchant, down))

    @router.post("/drafts/{draft_id}/lines/{line_id}/photos", openapi_extra=PORTAL_SESSION)
    async def upload_photo(
        request: Request, merchant_id: str, draft_id: str, line_id: str
    ) -> Response:
        async def act(merchant: Merchant, session: PortalSession, view: DraftView) -> Response:
            refuse_large_form(request)
            form = await request.form(max_files=1, max_fields=5)
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                return error_response(422, "no_file", text(merchant.locale, "photo_not_image"))
            uploaded = await deps.photos.upload(
                session,
                view,
                line_id,
                PhotoFile(
                    upload.filename or "photo",
                    await upload.read(),
                    upload.content_type or "application/octet-stream",
                ),
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
        async def act(merchant: Merchant, session: PortalSession, view: DraftView) -> Response:
            await deps.photos.remove(session, view, photo_id)
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
                outcome = await deps.portal.submit(session, draft_id, key, current_correlation_id())
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
            record = await deps.portal.customer_return(session, return_id)
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
                # issue 15: the classic lines of a split mixed return have their label
                split_mixed=record.declared.split_mixed,
                base=base(merchant_id),
            )

        return await guarded(request, merchant_id, handle)

    return router
