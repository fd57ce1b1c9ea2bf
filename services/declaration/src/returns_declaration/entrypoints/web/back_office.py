"""The merchant back-office's pages (R11, R12, R14): sign-in, the list of returns, the return
record with its label request, and the merchant's settings and reasons (R1).

A user reaches the pages of their own merchant only; another merchant's look exactly like pages
that do not exist (the same guard as the API's, entrypoints/deps.py).

No `from __future__ import annotations`: FastAPI must see the route parameter types.
"""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from returns_contracts.service_kit.access import PUBLIC, Access, access
from returns_contracts.service_kit.logging import current_correlation_id
from returns_declaration.domain.follow_up import exchanges
from returns_declaration.domain.model import (
    LabelStatus,
    Locale,
    Merchant,
    MerchantSettings,
    Reason,
)
from returns_declaration.domain.rules import DeclarationRejected
from returns_declaration.entrypoints.deps import (
    BACK_OFFICE_SESSION_TTL,
    Caller,
    InvalidCursor,
    ids_look_right,
)
from returns_declaration.entrypoints.schemas import ReturnRecordAnswer, ReturnSummary
from returns_declaration.entrypoints.texts import text
from returns_declaration.entrypoints.web.forms import (
    CsrfFailed,
    FormTooLarge,
    Pages,
    field_errors,
    redirect,
)
from returns_declaration.service.errors import NotFound, UnknownMerchant
from returns_declaration.service.ports import ReturnFilter

BACK_OFFICE_SESSION = access(Access.BACK_OFFICE_SESSION)
USER_COOKIE = "back_office_session"
PAGE_SIZE = 50
LABEL_STATUSES: tuple[LabelStatus, ...] = (
    "awaiting_merchant",
    "pending",
    "requested",
    "generated",
    "rejected",
)


def browser_locale(request: Request) -> Locale:
    wanted = request.headers.get("Accept-Language", "")
    return "fr" if wanted.lower().startswith("fr") else "en"


def _day(written: str) -> date | None:
    """A date field of the filters; one the browser did not fill properly filters nothing."""
    try:
        return date.fromisoformat(written.strip()) if written.strip() else None
    except ValueError:
        return None


def _whole_number(value: object) -> object:
    """A form's number field as the number it spells; anything else is left for the model to
    refuse beside the field."""
    written = str(value or "").strip()
    return (
        int(written) if written.isascii() and written.isdigit() and len(written) <= 9 else written
    )


def _invalid(merchant: Merchant, error: ValidationError, prefix: str = "") -> dict[str, str]:
    message = text(merchant.locale, "invalid_value")
    return {prefix + str(item["loc"][0]): message for item in error.errors() if item["loc"]}


PageHandler = Callable[[Merchant, Caller], Any]
Guard = Callable[[Request, str, PageHandler], Awaitable[Response]]


def page_guard(pages: Pages) -> Guard:
    """Runs a page of one merchant for its signed-in user only: no session goes to the sign-in,
    another merchant's page looks like one that does not exist, a refused form or a missing
    return answers in the merchant's language."""
    deps = pages.deps

    async def guarded(request: Request, merchant_id: str, handle: PageHandler) -> Response:
        user = await deps.back_office_caller(request.cookies.get(USER_COOKIE))
        if user is None:
            return redirect("/back-office/login?" + urlencode({"next": request.url.path}))
        try:
            if not ids_look_right(request):
                raise UnknownMerchant(merchant_id)
            deps.require_merchant(user, merchant_id)
            merchant = await deps.merchants.merchant(merchant_id)
        except UnknownMerchant:
            # Another merchant's pages look exactly like pages that do not exist.
            return pages.message_page(request, browser_locale(request), "not_found", 404, None)
        try:
            response: Response = await handle(merchant, user)
            return response
        except (CsrfFailed, FormTooLarge) as refused:
            return pages.form_refused(request, merchant.locale, refused, request.url.path)
        except NotFound:
            return pages.message_page(
                request,
                merchant.locale,
                "not_found",
                404,
                f"/back-office/merchants/{merchant_id}/returns",
            )

    return guarded


async def record_view(
    pages: Pages,
    request: Request,
    merchant: Merchant,
    user: Caller,
    return_id: str,
    *,
    requested: bool = False,
    resolved: bool = False,
    asked: bool = False,
    question: str = "",
    ask_errors: dict[str, str] | None = None,
    resolution_errors: dict[str, str] | None = None,
    resolution_form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The return record page, with what its forms (label, question, resolution) left to show:
    one rendering for the page and for each form that shows it again with an error."""
    record, photos = await pages.deps.back_office.return_record(merchant.id, return_id)
    return pages.render(
        request,
        "bo_record.html",
        merchant.locale,
        status_code,
        merchant=merchant,
        user=user,
        record=ReturnRecordAnswer.of(record, photos),
        requested=requested,
        resolved=resolved,
        # The questions to the customer and their answers (issue 15, item 3).
        exchanges=exchanges(record.timeline),
        photos=photos,
        asked=asked,
        question=question,
        ask_errors=ask_errors or {},
        resolution_errors=resolution_errors or {},
        resolution_form=resolution_form or {},
    )


def back_office_pages(pages: Pages) -> APIRouter:
    router = APIRouter(prefix="/back-office", include_in_schema=False)
    deps = pages.deps
    guarded = page_guard(pages)

    async def signed_in(request: Request) -> Caller | None:
        return await deps.back_office_caller(request.cookies.get(USER_COOKIE))

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
        except (CsrfFailed, FormTooLarge) as refused:
            return pages.form_refused(request, locale, refused, "/back-office/login")
        email = str(form.get("email", ""))
        user = await deps.users.authenticate(email, str(form.get("password", "")))
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
        pages.cookie(
            request,
            response,
            USER_COOKIE,
            deps.back_office_token(user.email),
            "/back-office",
            int(BACK_OFFICE_SESSION_TTL.total_seconds()),
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
        async def handle(merchant: Merchant, user: Caller) -> Response:
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
            to_handle = await deps.back_office.list_returns(
                merchant_id, ReturnFilter(label_status="awaiting_merchant"), PAGE_SIZE, None
            )
            # A link with a cursor this service did not give out (edited, or from before a
            # change) shows the first page and says so; the API answers 422 instead.
            cursor_reset = False
            try:
                listed = await deps.returns_page(merchant_id, where, PAGE_SIZE, cursor or None)
            except InvalidCursor:
                cursor_reset = True
                listed = await deps.returns_page(merchant_id, where, PAGE_SIZE, None)
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
                cursor_reset=cursor_reset,
            )

        return await guarded(request, merchant_id, handle)

    @router.get("/merchants/{merchant_id}/returns/{return_id}", openapi_extra=BACK_OFFICE_SESSION)
    async def record_page(
        request: Request,
        merchant_id: str,
        return_id: str,
        requested: int = 0,
        resolved: int = 0,
        asked: int = 0,
    ) -> Response:
        async def handle(merchant: Merchant, user: Caller) -> Response:
            return await record_view(
                pages,
                request,
                merchant,
                user,
                return_id,
                requested=bool(requested),
                resolved=bool(resolved),
                asked=bool(asked),
            )

        return await guarded(request, merchant_id, handle)

    @router.post(
        "/merchants/{merchant_id}/returns/{return_id}/questions",
        openapi_extra=BACK_OFFICE_SESSION,
    )
    async def ask_question(request: Request, merchant_id: str, return_id: str) -> Response:
        async def handle(merchant: Merchant, user: Caller) -> Response:
            form = await pages.form(request)
            question = str(form.get("question", ""))
            try:
                await deps.container.follow_up.ask(
                    merchant_id, return_id, user.actor(), question, current_correlation_id()
                )
            except DeclarationRejected as rejected:
                errors = field_errors(rejected.errors, frozenset({"question"}))
                return await record_view(
                    pages,
                    request,
                    merchant,
                    user,
                    return_id,
                    question=question,
                    ask_errors=errors,
                    status_code=422,
                )
            return redirect(f"/back-office/merchants/{merchant_id}/returns/{return_id}?asked=1")

        return await guarded(request, merchant_id, handle)

    @router.post(
        "/merchants/{merchant_id}/returns/{return_id}/label", openapi_extra=BACK_OFFICE_SESSION
    )
    async def request_label(request: Request, merchant_id: str, return_id: str) -> Response:
        async def handle(merchant: Merchant, user: Caller) -> Response:
            form = await pages.form(request)
            await deps.back_office.request_label(
                merchant_id,
                return_id,
                user.actor(),
                form.get("regenerate") == "1",
                current_correlation_id(),
            )
            return redirect(f"/back-office/merchants/{merchant_id}/returns/{return_id}?requested=1")

        return await guarded(request, merchant_id, handle)

    async def settings_view(
        request: Request,
        merchant: Merchant,
        user: Caller,
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
        async def handle(merchant: Merchant, user: Caller) -> Response:
            return await settings_view(request, merchant, user, {}, bool(saved))

        return await guarded(request, merchant_id, handle)

    @router.post("/merchants/{merchant_id}/settings", openapi_extra=BACK_OFFICE_SESSION)
    async def save_settings(request: Request, merchant_id: str) -> Response:
        async def handle(merchant: Merchant, user: Caller) -> Response:
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
                        "split_mixed_returns": form.get("split_mixed_returns") == "1",
                    }
                )
            except ValidationError as error:
                return await settings_view(
                    request, merchant, user, _invalid(merchant, error), False, 422
                )
            await deps.merchants.configure_merchant(merchant_id, changed, current_correlation_id())
            return redirect(f"/back-office/merchants/{merchant_id}/settings?saved=1")

        return await guarded(request, merchant_id, handle)

    @router.post("/merchants/{merchant_id}/reasons", openapi_extra=BACK_OFFICE_SESSION)
    async def save_reason(request: Request, merchant_id: str) -> Response:
        async def handle(merchant: Merchant, user: Caller) -> Response:
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
                    request, merchant, user, _invalid(merchant, error, prefix), False, 422
                )
            await deps.merchants.put_reason(merchant_id, reason, current_correlation_id())
            return redirect(f"/back-office/merchants/{merchant_id}/settings?saved=1")

        return await guarded(request, merchant_id, handle)

    @router.post(
        "/merchants/{merchant_id}/reasons/{code}/retire", openapi_extra=BACK_OFFICE_SESSION
    )
    async def retire_reason(request: Request, merchant_id: str, code: str) -> Response:
        async def handle(merchant: Merchant, user: Caller) -> Response:
            await pages.form(request)
            try:
                await deps.merchants.retire_reason(merchant_id, code, current_correlation_id())
            except DeclarationRejected as rejected:
                errors = field_errors(rejected.errors, frozenset({"code"}), f"reason_{code}.")
                return await settings_view(request, merchant, user, errors, False, 422)
            return redirect(f"/back-office/merchants/{merchant_id}/settings?saved=1")

        return await guarded(request, merchant_id, handle)

    return router
