"""Request and answer bodies of the HTTP API, and the one error shape every error uses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from returns_contracts.service_kit.errors import FieldProblem, error_body
from returns_declaration.domain.model import Locale, Return, ReturnLine
from returns_declaration.domain.rules import DeclarationRejected, FieldError


def rejection_body(error: DeclarationRejected) -> dict[str, Any]:
    fields = [
        FieldProblem(field=item.field, code=item.code, message=item.message)
        for item in error.errors
    ]
    return error_body("rule_broken", "; ".join(field.message for field in fields), fields)


def not_found_body(what: Literal["merchant", "return"]) -> dict[str, Any]:
    return error_body("not_found", f"No such {what}.")


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
