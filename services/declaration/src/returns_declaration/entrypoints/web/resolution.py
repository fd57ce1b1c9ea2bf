"""The resolution form of the return record page (issue 15): the merchant's user decides what
happens to a defective return. The same use case as the API (entrypoints/resolution_api.py);
a refused decision shows the record again with the error beside the field, in the merchant's
language.

No `from __future__ import annotations`: FastAPI must see the route parameter types.
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from returns_contracts.service_kit.logging import current_correlation_id
from returns_declaration.domain.model import Merchant
from returns_declaration.domain.resolution import NotAllowedToResolve
from returns_declaration.domain.rules import DeclarationRejected
from returns_declaration.entrypoints.deps import Caller
from returns_declaration.entrypoints.web.back_office import (
    BACK_OFFICE_SESSION,
    page_guard,
    record_view,
)
from returns_declaration.entrypoints.web.forms import Pages, field_errors, redirect

RESOLUTION_FIELDS = frozenset({"resolution", "note"})


def resolution_pages(pages: Pages) -> APIRouter:
    router = APIRouter(prefix="/back-office", include_in_schema=False)
    deps = pages.deps
    guarded = page_guard(pages)

    @router.post(
        "/merchants/{merchant_id}/returns/{return_id}/resolution",
        openapi_extra=BACK_OFFICE_SESSION,
    )
    async def resolve(request: Request, merchant_id: str, return_id: str) -> Response:
        async def handle(merchant: Merchant, user: Caller) -> Response:
            form = await pages.form(request)
            kind = str(form.get("resolution", ""))
            note = str(form.get("note", ""))
            try:
                await deps.container.resolutions.resolve(
                    merchant_id,
                    return_id,
                    kind=kind,
                    note=note,
                    resolver=user.kind,
                    actor=user.actor(),
                    locale=merchant.locale,
                    correlation_id=current_correlation_id(),
                )
            except NotAllowedToResolve:
                return pages.message_page(request, merchant.locale, "not_found", 404, None)
            except DeclarationRejected as rejected:
                outdated = any(e.code == "resolution_outdated" for e in rejected.errors)
                return await record_view(
                    pages,
                    request,
                    merchant,
                    user,
                    return_id,
                    resolution_errors=field_errors(rejected.errors, RESOLUTION_FIELDS),
                    resolution_form={"resolution": kind, "note": note},
                    status_code=409 if outdated else 422,
                )
            return redirect(f"/back-office/merchants/{merchant_id}/returns/{return_id}?resolved=1")

        return await guarded(request, merchant_id, handle)

    return router
