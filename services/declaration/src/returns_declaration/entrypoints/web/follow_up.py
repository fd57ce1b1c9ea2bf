"""The customer's pages reached from an e-mail by a signed link (issue 15): the status page of
a return (item 4) and the answer page of a question (item 3). The link is the credential: no
sign-in. A link that is altered or for another return or question, expired, or already used
gets a page that says so in the merchant's language, with a 4xx status, and changes nothing.

No `from __future__ import annotations`: FastAPI must see the route parameter types.
"""

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from returns_contracts.service_kit.access import Access, access
from returns_contracts.service_kit.logging import current_correlation_id
from returns_declaration.domain.follow_up import ANSWER_PHOTOS_MAX
from returns_declaration.domain.model import Locale
from returns_declaration.domain.rules import DeclarationRejected
from returns_declaration.entrypoints.deps import ids_look_right
from returns_declaration.entrypoints.web.forms import (
    CsrfFailed,
    FormTooLarge,
    Pages,
    field_errors,
)
from returns_declaration.entrypoints.web.portal import _photo_files, photo_message
from returns_declaration.service.follow_up import (
    AnswerPhotoRefused,
    CustomerLinkRefused,
    QuestionPage,
)

SIGNED_LINK = access(Access.SIGNED_LINK)
ANSWER_FIELDS = frozenset({"comment", "photos"})
LINK_STATUS = {"invalid": 403, "expired": 410, "used": 409}
"""A link for nothing this page can open; one past its date; a question answered already."""


def _when(moment: datetime, locale: Locale) -> str:
    if locale == "fr":
        return moment.strftime("%d/%m/%Y à %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def follow_up_pages(pages: Pages) -> APIRouter:
    router = APIRouter(prefix="/portal/{merchant_id}/returns/{return_id}", include_in_schema=False)
    follow_up = pages.deps.container.follow_up

    def refused(request: Request, error: CustomerLinkRefused) -> Response:
        return pages.message_page(
            request, error.locale, f"link_{error.problem}", LINK_STATUS[error.problem], None
        )

    async def opened(
        request: Request, merchant_id: str, return_id: str, question_id: str, exp: str, sig: str
    ) -> QuestionPage | Response:
        """The question the link opens, or the page saying why it does not."""
        try:
            if not ids_look_right(request):
                raise CustomerLinkRefused("invalid", "fr")
            return await follow_up.question_page(merchant_id, return_id, question_id, exp, sig)
        except CustomerLinkRefused as error:
            return refused(request, error)

    def question_view(
        request: Request,
        page: QuestionPage,
        errors: dict[str, str],
        comment: str,
        status_code: int = 200,
    ) -> Response:
        merchant = page.merchant
        return pages.render(
            request,
            "portal_question.html",
            merchant.locale,
            status_code,
            merchant=merchant,
            order_number=page.record.declared.order_number,
            question=page.exchange.question,
            answer_by=_when(page.answer_by, merchant.locale),
            comment=comment,
            errors=errors,
            photos_max=ANSWER_PHOTOS_MAX,
        )

    @router.get("/status", openapi_extra=SIGNED_LINK)
    async def status_page(
        request: Request, merchant_id: str, return_id: str, exp: str = "", sig: str = ""
    ) -> Response:
        try:
            if not ids_look_right(request):
                raise CustomerLinkRefused("invalid", "fr")
            page = await follow_up.status_page(merchant_id, return_id, exp, sig)
        except CustomerLinkRefused as error:
            return refused(request, error)
        merchant = page.merchant
        record = page.record
        return pages.render(
            request,
            "portal_status.html",
            merchant.locale,
            headers={"Cache-Control": "no-store"},
            merchant=merchant,
            declared=record.declared,
            submitted_on=_when(record.declared.submitted_at, merchant.locale),
            status=page.status,
            lines=page.lines,
            label_url=(record.label or {}).get("download_url")
            if record.label_status == "generated"
            else None,
        )

    @router.get("/questions/{question_id}", openapi_extra=SIGNED_LINK)
    async def question_page(
        request: Request,
        merchant_id: str,
        return_id: str,
        question_id: str,
        exp: str = "",
        sig: str = "",
    ) -> Response:
        page = await opened(request, merchant_id, return_id, question_id, exp, sig)
        if not isinstance(page, QuestionPage):
            return page
        return question_view(request, page, {}, "")

    @router.post("/questions/{question_id}", openapi_extra=SIGNED_LINK)
    async def answer(
        request: Request,
        merchant_id: str,
        return_id: str,
        question_id: str,
        exp: str = "",
        sig: str = "",
    ) -> Response:
        page = await opened(request, merchant_id, return_id, question_id, exp, sig)
        if not isinstance(page, QuestionPage):
            return page
        locale = page.merchant.locale
        try:
            form = await pages.form(request)
        except (CsrfFailed, FormTooLarge) as error:
            return pages.form_refused(
                request, locale, error, request.url.path + "?" + request.url.query
            )
        comment = str(form.get("comment", ""))
        files = await _photo_files(form.getlist("photos"))
        try:
            answered = await follow_up.answer(
                merchant_id,
                return_id,
                question_id,
                exp,
                sig,
                comment,
                files,
                current_correlation_id(),
            )
        except CustomerLinkRefused as error:
            return refused(request, error)
        except DeclarationRejected as rejected:
            errors = field_errors(rejected.errors, ANSWER_FIELDS)
            return question_view(request, page, errors, comment, 422)
        except AnswerPhotoRefused as photo:
            errors = {"photos": photo_message(page.merchant, photo.problem)}
            return question_view(request, page, errors, comment, 422)
        return pages.render(
            request,
            "portal_answered.html",
            locale,
            merchant=page.merchant,
            status_url=answered.status_url,
        )

    return router
