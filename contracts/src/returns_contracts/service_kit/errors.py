"""The one shape of every error answer, whatever the service and the status code."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel


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


def error_body(code: str, message: str, fields: list[FieldProblem] | None = None) -> dict[str, Any]:
    return ErrorBody(
        error=ErrorDetail(code=code, message=message, fields=fields or [])
    ).model_dump()


def error_response(
    status_code: int, code: str, message: str, fields: list[FieldProblem] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message, fields), status_code=status_code)


def validation_error_response(error: RequestValidationError) -> JSONResponse:
    fields = [
        FieldProblem(
            field=".".join(str(part) for part in problem["loc"] if part != "body"),
            code=str(problem["type"]),
            message=str(problem["msg"]),
        )
        for problem in error.errors()
    ]
    return error_response(
        422, "invalid_request", "The request is not valid; see the fields.", fields
    )
