"""The labels HTTP API: where the label of a return stands (internal: the other services and
the support tooling, with the internal token), and the signed PDF download.

Merchants read their labels through declaration's return record (status and download link),
with their own credentials: labels knows no merchant credentials.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from returns_contracts import Actor
from returns_contracts.service_kit.access import Access, access
from returns_contracts.service_kit.bounds import ID_PATTERN, link_parts_fit
from returns_contracts.service_kit.errors import ErrorBody, error_response
from returns_contracts.signing import InvalidToken
from returns_labels.domain.model import Label, LabelStatus
from returns_labels.entrypoints.deps import Deps

# Every path and query parameter has a bound (service_kit.bounds): out of it, a 422.
Id = Annotated[str, Path(pattern=ID_PATTERN)]


class LabelView(BaseModel):
    label_id: str
    tracking_number: str
    carrier: str
    created_at: datetime
    regenerated: bool
    requested_by: Actor | None
    download_url: str
    """Signed link to the PDF, valid for the configured lifetime from now."""


class LabelAnswer(BaseModel):
    return_id: str
    merchant_id: str
    status: LabelStatus
    defective: bool
    label: LabelView | None = None
    """The live label, if there is one."""
    voided_label_ids: list[str] = []
    """Labels replaced by a regeneration, oldest first; their links no longer work."""


def labels_router(deps: Deps) -> APIRouter:
    router = APIRouter()
    queries, links, clock = deps.queries, deps.links, deps.now

    def view(label: Label) -> LabelView:
        return LabelView(
            label_id=label.label_id,
            tracking_number=label.tracking_number,
            carrier=label.carrier,
            created_at=label.created_at,
            regenerated=label.regenerated,
            requested_by=label.requested_by,
            download_url=links.url(label.label_id, clock()),
        )

    @router.get(
        "/internal/v1/merchants/{merchant_id}/returns/{return_id}/label",
        response_model=LabelAnswer,
        tags=["internal"],
        summary="Where the label of one return stands (services and support tooling only)",
        description="Needs the internal token in `X-Internal-Token`. Merchants read the label's "
        "status and link in declaration's return record "
        "(`GET /v1/merchants/{merchant_id}/returns/{return_id}` with their API key). `status` "
        "uses the label statuses every service shares (`returns_contracts.label_status`, the "
        "same words as declaration's `label_status`); labels answers `awaiting_merchant`, "
        "`pending` or `generated` (formerly `label_pending` and `label_generated`).",
        responses={
            401: {"model": ErrorBody, "description": "Missing or wrong internal token"},
            404: {"model": ErrorBody, "description": "Unknown return"},
        },
        dependencies=[deps.internal],
        openapi_extra=access(Access.INTERNAL_TOKEN),
    )
    async def get_label(merchant_id: Id, return_id: Id) -> LabelAnswer | JSONResponse:
        tracked = await queries.label_status(merchant_id, return_id)
        if tracked is None:
            # Another merchant's return answers exactly like an unknown one (R12).
            return error_response(404, "not_found", "No such return.")
        return LabelAnswer(
            return_id=tracked.return_id,
            merchant_id=tracked.merchant_id,
            status=tracked.status,
            defective=tracked.defective,
            label=None if tracked.label is None else view(tracked.label),
            voided_label_ids=[label.label_id for label in tracked.voided_labels],
        )

    @router.get(
        "/l/{label_id}.pdf",
        tags=["labels"],
        summary="The label PDF, for whoever holds the signed link",
        response_class=Response,
        responses={
            200: {"content": {"application/pdf": {}}, "description": "The label"},
            404: {"model": ErrorBody, "description": "Unknown, replaced or expired link"},
        },
        openapi_extra=access(Access.SIGNED_LINK),
    )
    async def download(label_id: str, exp: str = Query(""), sig: str = Query("")) -> Response:
        try:
            if not link_parts_fit(label_id, exp, sig):
                raise InvalidToken("longer than any link this service signs")
            links.check(label_id, exp, sig, clock())
        except InvalidToken:
            # Whether the label exists is nobody's business without a valid link.
            return error_response(404, "not_found", "This label link is not valid or has expired.")
        pdf = await queries.live_label_pdf(label_id)
        if pdf is None:
            return error_response(
                404, "not_found", "This label was replaced by a newer one or does not exist."
            )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="{label_id}.pdf"',
                "Cache-Control": "private, max-age=300",
            },
        )

    return router
