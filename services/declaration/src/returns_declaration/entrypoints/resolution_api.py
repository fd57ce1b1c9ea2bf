"""The API of resolutions (issue 15): a merchant's API key decides what happens to one of its
defective returns. The same use case as the record page's form (entrypoints/web/resolution.py).

No `from __future__ import annotations`: FastAPI must see the route parameter types.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from returns_contracts.resolution import ResolutionKind
from returns_contracts.service_kit.access import Access, access
from returns_contracts.service_kit.bounds import LongText, OptionalName
from returns_contracts.service_kit.errors import error_response
from returns_contracts.service_kit.logging import current_correlation_id
from returns_declaration.domain.resolution import NotAllowedToResolve, ResolutionOutdated
from returns_declaration.entrypoints.deps import Caller, Deps
from returns_declaration.entrypoints.http import (
    Credentials,
    MerchantId,
    ResourceId,
    _errors,
    rejection_body,
)
from returns_declaration.entrypoints.schemas import ReturnRecordAnswer

# Merchants decide their returns: their users (pages) and API keys, not the platform operator.
MERCHANT_API_KEY = access(Access.MERCHANT_API_KEY)


class ResolutionBody(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "resolution": "refund_without_return",
                    "note": "We refund you; no need to send the mug back.",
                    "resolved_by_name": "Julie (customer service)",
                },
                {"resolution": "declined", "note": "The damage comes from a fall after delivery."},
            ]
        }
    }

    resolution: ResolutionKind = Field(
        description="label (the customer gets a label by e-mail), refund_without_return, "
        "replacement, or declined (with the reason in `note`)."
    )
    note: LongText | None = Field(
        default=None,
        description="Shown to the customer in the resolution e-mail; required (10 to 2,000 "
        "characters) when declined.",
    )
    resolved_by_name: OptionalName | None = Field(
        default=None, description="Who decided, shown on the timeline."
    )


def install_resolution_api(app: FastAPI, deps: Deps) -> None:
    @app.exception_handler(NotAllowedToResolve)
    async def not_allowed(request: Request, error: NotAllowedToResolve) -> JSONResponse:
        return error_response(
            403, "not_allowed", "Only the merchant's users and API keys resolve its returns."
        )

    @app.exception_handler(ResolutionOutdated)
    async def outdated(request: Request, error: ResolutionOutdated) -> JSONResponse:
        return JSONResponse(rejection_body(error, "resolution_outdated"), status_code=409)

    app.include_router(resolution_router(deps))


def resolution_router(deps: Deps) -> APIRouter:
    router = APIRouter(prefix="/v1/merchants", tags=["back-office"])

    async def caller(credentials: Credentials) -> Caller:
        return await deps.api_caller(None if credentials is None else credentials.credentials)

    Authenticated = Annotated[Caller, Depends(caller)]

    @router.post(
        "/{merchant_id}/returns/{return_id}/resolutions",
        response_model=ReturnRecordAnswer,
        status_code=status.HTTP_201_CREATED,
        summary="Resolve a defective return: label, refund without return, replacement, declined",
        description="Publishes ReturnResolved (and LabelRequested for a label); the customer "
        "is e-mailed once. A resolution is replaced only by a newer one; the same resolution "
        "again changes nothing. Only defective returns wait for one (422 otherwise).",
        responses=_errors(401, 403, 404, 409, 422),
        openapi_extra=MERCHANT_API_KEY,
    )
    async def resolve(
        merchant_id: MerchantId, return_id: ResourceId, body: ResolutionBody, who: Authenticated
    ) -> ReturnRecordAnswer:
        deps.require_merchant(who, merchant_id)
        merchant = await deps.merchants.merchant(merchant_id)
        await deps.container.resolutions.resolve(
            merchant_id,
            return_id,
            kind=body.resolution,
            note=body.note,
            resolver=who.kind,
            actor=who.actor(body.resolved_by_name),
            locale=merchant.locale,
            correlation_id=current_correlation_id(),
        )
        record, photos = await deps.back_office.return_record(merchant_id, return_id)
        return ReturnRecordAnswer.of(record, photos)

    return router
