"""The labels HTTP API: where the label of a return stands."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from returns_contracts.service_kit.errors import ErrorBody, error_response
from returns_labels.domain.model import LabelStatus
from returns_labels.service.use_cases import LabelsService


class LabelAnswer(BaseModel):
    return_id: str
    merchant_id: str
    status: LabelStatus


def labels_router(service: LabelsService) -> APIRouter:
    router = APIRouter(tags=["back-office"])

    @router.get(
        "/v1/merchants/{merchant_id}/returns/{return_id}/label",
        response_model=LabelAnswer,
        summary="Where the label of one return stands",
        responses={404: {"model": ErrorBody, "description": "Unknown return"}},
    )
    async def get_label(merchant_id: str, return_id: str) -> LabelAnswer | JSONResponse:
        tracked = await service.label_status(merchant_id, return_id)
        if tracked is None:
            # Another merchant's return answers exactly like an unknown one (R12).
            return error_response(404, "not_found", "No such return.")
        return LabelAnswer(
            return_id=tracked.return_id, merchant_id=tracked.merchant_id, status=tracked.status
        )

    return router
