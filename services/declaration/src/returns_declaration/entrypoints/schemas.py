"""Request and answer bodies of the HTTP API, and the one error shape every error uses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from returns_declaration.domain.model import Locale, Return, ReturnLine
from returns_declaration.domain.rules import DeclarationRejected, FieldError


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


def _body(code: str, message: str, fields: list[FieldProblem] | None = None) -> dict[str, Any]:
    detail = ErrorDetail(code=code, message=message, fields=fields or [])
    return ErrorBody(error=detail).model_dump()


def validation_error_body(error: RequestValidationError) -> dict[str, Any]:
    fields = [
        FieldProblem(
            field=".".join(str(part) for part in problem["loc"] if part != "body"),
            code=str(problem["type"]),
            message=str(problem["msg"]),
        )
        for problem in error.errors()
    ]
    return _body("invalid_request", "The request is not valid; see the fields.", fields)


def rejection_body(error: DeclarationRejected) -> dict[str, Any]:
    fields = [
        FieldProblem(field=item.field, code=item.code, message=item.message)
        for item in error.errors
    ]
    message = fields[0].message if len(fields) == 1 else "; ".join(f.message for f in fields)
    return _body("rule_broken", message, fields)


def not_found_body(what: Literal["merchant", "return"]) -> dict[str, Any]:
    return _body("not_found", f"No such {what}.")


def mismatch_error(field: str) -> FieldError:
    return FieldError(
        field=field, code="path_mismatch", message=f"The {field} in the body must match the URL."
    )


_NEXT_STEP: dict[tuple[bool, Locale], str] = {
    (True, "fr"): "Merci. Le marchand va vous contacter au sujet de votre retour.",
    (True, "en"): "Thank you. The merchant will contact you about your return.",
    (False, "fr"): "Merci. Votre étiquette de retour vous sera envoyée par e-mail.",
    (False, "en"): "Thank you. Your return label will be e-mailed to you.",
}


class SubmissionAnswer(BaseModel):
    return_id: str
    defective: bool
    next_step: Literal["label_follows", "merchant_will_contact"]
    message: str

    @classmethod
    def for_return(cls, declared: Return) -> SubmissionAnswer:
        return cls(
            return_id=declared.id,
            defective=declared.defective,
            next_step="merchant_will_contact" if declared.defective else "label_follows",
            message=_NEXT_STEP[(declared.defective, declared.locale)],
        )


class ReturnRecord(BaseModel):
    id: str
    merchant_id: str
    order_number: str
    ordered_on: date
    customer_name: str
    customer_email: str
    defective: bool
    submitted_at: datetime
    lines: list[ReturnLine]

    @classmethod
    def for_return(cls, declared: Return) -> ReturnRecord:
        return cls(
            id=declared.id,
            merchant_id=declared.merchant_id,
            order_number=declared.order_number,
            ordered_on=declared.ordered_on,
            customer_name=declared.customer.name,
            customer_email=declared.customer.email,
            defective=declared.defective,
            submitted_at=declared.submitted_at,
            lines=list(declared.lines),
        )
