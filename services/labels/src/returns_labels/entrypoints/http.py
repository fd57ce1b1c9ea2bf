"""The labels HTTP API: where the label of a return stands."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from returns_labels.domain.model import LabelStatus
from returns_labels.service.use_cases import LabelsService


class FieldProblem(BaseModel):
    field: str
    code: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[FieldProblem] = []


class ErrorBody(BaseModel):
    """Every error answer has this shape, whatever the status code."""

    error: ErrorDetail


class LabelAnswer(BaseModel):
    return_id: str
    merchant_id: str
    status: LabelStatus


def not_found_body() -> dict[str, Any]:
    return ErrorBody(error=ErrorDetail(code="not_found", message="No such return.")).model_dump()


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
            return JSONResponse(not_found_body(), status_code=404)
        return LabelAnswer(
            return_id=tracked.return_id, merchant_id=tracked.merchant_id, status=tracked.status
        )

    return router
