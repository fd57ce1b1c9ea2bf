"""The JSON API of a question to the customer (issue 15, item 3): support asks it from the
return record, with the merchant's API key or the operator token, under the same tenant guard
as the label request (another merchant's return answers 404).

No `from __future__ import annotations`: FastAPI must see the route parameter types.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from returns_contracts.service_kit.bounds import LongText, OptionalName
from returns_contracts.service_kit.logging import current_correlation_id
from returns_declaration.domain.follow_up import QUESTION_MAX
from returns_declaration.entrypoints.deps import Caller, Deps
from returns_declaration.entrypoints.http import (
    MERCHANT_OR_OPERATOR,
    Credentials,
    MerchantId,
    ResourceId,
    _errors,
)
from returns_declaration.entrypoints.schemas import ReturnRecordAnswer


class QuestionBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "question": "Could you send a photo of the label under the mug?",
                    "asked_by_name": "Julie (customer service)",
                }
            ]
        },
    )

    question: LongText = Field(
        max_length=QUESTION_MAX,
        description="What the customer is asked (5 to 2,000 characters once trimmed); they get "
        "it by e-mail with a link, valid 7 days, to answer with a comment and up to 5 photos.",
    )
    asked_by_name: OptionalName | None = Field(
        default=None, description="Who asks, shown on the timeline."
    )


def follow_up_router(deps: Deps) -> APIRouter:
    router = APIRouter(prefix="/v1/merchants", tags=["back-office"])

    async def caller(credentials: Credentials) -> Caller:
        return await deps.api_caller(None if credentials is None else credentials.credentials)

    Authenticated = Annotated[Caller, Depends(caller)]

    @router.post(
        "/{merchant_id}/returns/{return_id}/questions",
        response_model=ReturnRecordAnswer,
        status_code=status.HTTP_202_ACCEPTED,
        summary="Ask the customer for more information (InformationRequested)",
        description="The customer is e-mailed the question with a signed link to answer it "
        "once; the answer (a comment and up to 5 photos) comes back on the timeline and to "
        "customer service by e-mail.",
        responses=_errors(401, 404, 422),
        openapi_extra=MERCHANT_OR_OPERATOR,
    )
    async def ask_question(
        merchant_id: MerchantId, return_id: ResourceId, body: QuestionBody, who: Authenticated
    ) -> ReturnRecordAnswer:
        deps.require_merchant(who, merchant_id)
        await deps.container.follow_up.ask(
            merchant_id,
            return_id,
            who.actor(body.asked_by_name),
            body.question,
            current_correlation_id(),
        )
        record, photos = await deps.back_office.return_record(merchant_id, return_id)
        return ReturnRecordAnswer.of(record, photos)

    return router
