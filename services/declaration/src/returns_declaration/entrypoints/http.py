"""The HTTP API: the back-office (operator token or the merchant's API key) and the portal
(a portal session). Every error has the one shape of `service_kit.errors`.

No `from __future__ import annotations` here: the routes are built inside functions and
FastAPI must see their dependency types, which are local names, as objects.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from returns_contracts.service_kit.access import PUBLIC, Access, access
from returns_contracts.service_kit.bounds import (
    EMAIL_MAX,
    ID_MAX,
    ID_PATTERN,
    PAGE_SIZE_MAX,
    TOKEN_MAX,
    IsoDate,
)
from returns_contracts.service_kit.errors import (
    ErrorBody,
    FieldProblem,
    error_body,
    error_response,
    validation_error_response,
)
from returns_contracts.service_kit.logging import current_correlation_id
from returns_declaration.domain.model import (
    LINE_ID_PATTERN,
    MERCHANT_ID_PATTERN,
    SINGLE_LINE_PATTERN,
    LabelStatus,
    Reason,
)
from returns_declaration.domain.rules import (
    DeclarationRejected,
    RequestedQuantity,
    field_error,
)
from returns_declaration.entrypoints.deps import (
    Caller,
    Deps,
    InvalidCursor,
    NotAuthenticated,
    OperatorOnly,
    too_many_attempts,
)
from returns_declaration.entrypoints.schemas import (
    ApiKeyAnswer,
    DefectBody,
    DraftAnswer,
    DraftBody,
    LabelRequestBody,
    MerchantAnswer,
    MerchantSettingsBody,
    OrderBody,
    PortalOrderAnswer,
    ReasonBody,
    ReasonChoice,
    ReturnList,
    ReturnRecordAnswer,
    ReturnSummary,
    ReturnTypeChoice,
    SessionAnswer,
    SessionBody,
    SubmissionAnswer,
    UserAnswer,
    UserBody,
)
from returns_declaration.service.errors import (
    IdempotencyKeyReused,
    NotFound,
    PhotoCatalogUnavailable,
    RevisionConflict,
    SessionRefused,
    TooManyAttempts,
    UnknownMerchant,
)
from returns_declaration.service.ports import ReturnFilter
from returns_declaration.service.sessions import PortalSession

_bearer = HTTPBearer(auto_error=False)
# Who may call each route (its OpenAPI `x-access` and `security`); the dependencies check it.
MERCHANT_OR_OPERATOR = access(Access.MERCHANT_API_KEY, Access.OPERATOR_TOKEN)
OPERATOR_ONLY = access(Access.OPERATOR_TOKEN)
PORTAL_SESSION = access(Access.PORTAL_SESSION)
# Every path and query parameter has a bound (service_kit.bounds): out of it, a 422.
MerchantId = Annotated[
    str, Path(pattern=MERCHANT_ID_PATTERN, description="Lower-case letters, digits and -")
]
ReasonCode = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
# An order number goes into e-mail subjects: one line, no control character (domain single_line).
OrderNumber = Annotated[str, Path(min_length=1, max_length=ID_MAX, pattern=SINGLE_LINE_PATTERN)]
ResourceId = Annotated[str, Path(pattern=ID_PATTERN, description="A return, draft or key id")]
LineId = Annotated[str, Path(pattern=LINE_ID_PATTERN)]
UserEmail = Annotated[str, Path(pattern=r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$", max_length=EMAIL_MAX)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def rejection_body(error: DeclarationRejected, code: str = "rule_broken") -> dict[str, Any]:
    fields = [
        FieldProblem(field=item.field, code=item.code, message=item.message)
        for item in error.errors
    ]
    return error_body(code, " ".join(field.message for field in fields), fields)


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        401: "Missing or invalid credentials (operator token, API key or portal session)",
        403: "Only the operator may do this",
        404: "No such merchant, return, draft or order for this caller",
        409: "Conflicting change; read again and retry",
        422: "A rule or a field is not respected; each problem names its field",
        429: "Too many attempts; see Retry-After",
        503: "A service this call needs (media) did not answer",
    }
    # Every route has parameters, so every route can answer 422 (in the one shape, not
    # FastAPI's default validation body).
    return {
        code: {"model": ErrorBody, "description": described[code]}
        for code in sorted({*codes, 401, 404, 422})
    }


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SessionRefused)
    async def session_refused(request: Request, error: SessionRefused) -> JSONResponse:
        return JSONResponse(rejection_body(error, "session_refused"), status_code=401)

    @app.exception_handler(DeclarationRejected)
    async def rejected(request: Request, error: DeclarationRejected) -> JSONResponse:
        return JSONResponse(rejection_body(error), status_code=422)

    @app.exception_handler(TooManyAttempts)
    async def too_many(request: Request, error: TooManyAttempts) -> JSONResponse:
        refusal = too_many_attempts(error)
        response = error_response(429, "too_many_attempts", refusal.message)
        response.headers.update(refusal.headers)
        return response

    @app.exception_handler(UnknownMerchant)
    async def unknown_merchant(request: Request, error: UnknownMerchant) -> JSONResponse:
        return error_response(404, "not_found", "No such merchant.")

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> JSONResponse:
        return error_response(404, "not_found", f"No such {error.what.replace('_', ' ')}.")

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, error: NotAuthenticated) -> JSONResponse:
        response = error_response(401, "not_authenticated", str(error))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(OperatorOnly)
    async def operator_only(request: Request, error: OperatorOnly) -> JSONResponse:
        return error_response(403, "operator_only", "Only the operator token may do this.")

    @app.exception_handler(IdempotencyKeyReused)
    async def key_reused(request: Request, error: IdempotencyKeyReused) -> JSONResponse:
        return error_response(
            409,
            "idempotency_key_reused",
            "This Idempotency-Key was used for another return; use a new key.",
        )

    @app.exception_handler(RevisionConflict)
    async def conflict(request: Request, error: RevisionConflict) -> JSONResponse:
        return error_response(
            409, "conflict", "The merchant was changed at the same time; please try again."
        )

    @app.exception_handler(PhotoCatalogUnavailable)
    async def media_down(request: Request, error: PhotoCatalogUnavailable) -> JSONResponse:
        return error_response(
            503, "media_unavailable", "Photos cannot be checked right now; try again shortly."
        )

    @app.exception_handler(ValidationError)
    async def invalid_model(request: Request, error: ValidationError) -> JSONResponse:
        # A model built from path and body together (a reason from its code, an order from
        # its number) is checked when built: the same answer as a malformed request.
        return validation_error_response(RequestValidationError(error.errors()))

    @app.exception_handler(InvalidCursor)
    async def bad_cursor(request: Request, error: InvalidCursor) -> JSONResponse:
        return error_response(422, "invalid_cursor", "The cursor is not one this API gave out.")


def back_office_router(deps: Deps) -> APIRouter:
    router = APIRouter(prefix="/v1/merchants", tags=["back-office"])
    require_merchant = deps.require_merchant
    require_operator = deps.require_operator

    async def caller(credentials: Credentials) -> Caller:
        return await deps.api_caller(None if credentials is None else credentials.credentials)

    Authenticated = Annotated[Caller, Depends(caller)]

    @router.put(
        "/{merchant_id}",
        response_model=MerchantAnswer,
        summary="Create a merchant (operator) or replace its settings",
        description="Reasons are kept as they are; change them with the reason operations.",
        responses=_errors(401, 404, 409, 422),
        openapi_extra=MERCHANT_OR_OPERATOR,
    )
    async def put_merchant(
        merchant_id: MerchantId, settings: MerchantSettingsBody, who: Authenticated
    ) -> MerchantAnswer:
        require_merchant(who, merchant_id)
        if who.kind != "operator":
            await deps.merchants.merchant(merchant_id)  # only the operator creates merchants
        merchant = await deps.merchants.configure_merchant(
            merchant_id, settings, current_correlation_id()
        )
        return MerchantAnswer.model_validate(merchant.model_dump())

    @router.get(
        "/{merchant_id}",
        response_model=MerchantAnswer,
        summary="Read a merchant's settings and reasons (retired ones included)",
        responses=_errors(401, 404),
        openapi_extra=MERCHANT_OR_OPERATOR,
    )
    async def get_merchant(merchant_id: MerchantId, who: Authenticated) -> MerchantAnswer:
        require_merchant(who, merchant_id)
        merchant = await deps.merchants.merchant(merchant_id)
        return MerchantAnswer.model_validate(merchant.model_dump())

    @router.put(
        "/{merchant_id}/reasons/{code}",
        response_model=MerchantAnswer,
        summary="Add a reason, or rename, flag/unflag defective or un-retire it (R1)",
        responses=_errors(401, 404, 409, 422),
        openapi_extra=MERCHANT_OR_OPERATOR,
    )
    async def put_reason(
        merchant_id: MerchantId, code: ReasonCode, body: ReasonBody, who: Authenticated
    ) -> MerchantAnswer:
        require_merchant(who, merchant_id)
        reason = Reason(code=code, **body.model_dump())
        merchant = await deps.merchants.put_reason(merchant_id, reason, current_correlation_id())
        return MerchantAnswer.model_validate(merchant.model_dump())

    @router.delete(
        "/{merchant_id}/reasons/{code}",
        response_model=MerchantAnswer,
        summary="Retire a reason: no longer offered, still shown on returns that used it (R1)",
        responses=_errors(401, 404, 409, 422),
        openapi_extra=MERCHANT_OR_OPERATOR,
    )
    async def retire_reason(
        merchant_id: MerchantId, code: ReasonCode, who: Authenticated
    ) -> MerchantAnswer:
        require_merchant(who, merchant_id)
        merchant = await deps.merchants.retire_reason(merchant_id, code, current_correlation_id())
        return MerchantAnswer.model_validate(merchant.model_dump())

    @router.post(
        "/{merchant_id}/api-keys",
        response_model=ApiKeyAnswer,
        status_code=status.HTTP_201_CREATED,
        summary="Issue a back-office API key for the merchant (operator only; shown once)",
        responses=_errors(401, 403, 404),
        openapi_extra=OPERATOR_ONLY,
    )
    async def issue_key(merchant_id: MerchantId, who: Authenticated) -> ApiKeyAnswer:
        require_operator(who)
        key, secret = await deps.merchants.issue_api_key(merchant_id)
        return ApiKeyAnswer(
            key_id=key.key_id, merchant_id=merchant_id, api_key=secret, created_at=key.created_at
        )

    @router.delete(
        "/{merchant_id}/api-keys/{key_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Revoke an API key (operator only)",
        responses=_errors(401, 403, 404),
        openapi_extra=OPERATOR_ONLY,
    )
    async def revoke_key(merchant_id: MerchantId, key_id: ResourceId, who: Authenticated) -> None:
        require_operator(who)
        await deps.merchants.revoke_api_key(merchant_id, key_id)

    @router.put(
        "/{merchant_id}/users/{email}",
        response_model=UserAnswer,
        summary="Create a back-office login for a merchant user, or reset its password "
        "(operator only)",
        description="The password is kept as a salted scrypt hash.",
        responses=_errors(401, 403, 404, 422),
        openapi_extra=OPERATOR_ONLY,
    )
    async def put_user(
        merchant_id: MerchantId,
        email: UserEmail,
        body: UserBody,
        who: Authenticated,
    ) -> UserAnswer:
        require_operator(who)
        await deps.merchants.merchant(merchant_id)
        user = await deps.users.set_user(merchant_id, email, body.password, body.display_name)
        return UserAnswer(
            email=user.email, merchant_id=user.merchant_id, display_name=user.display_name
        )

    @router.put(
        "/{merchant_id}/orders/{order_number}",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Create or replace one order of the merchant",
        description="What earlier returns of the order took back is kept.",
        responses=_errors(401, 404, 422),
        openapi_extra=MERCHANT_OR_OPERATOR,
    )
    async def put_order(
        merchant_id: MerchantId, order_number: OrderNumber, body: OrderBody, who: Authenticated
    ) -> None:
        require_merchant(who, merchant_id)
        merchant = await deps.merchants.merchant(merchant_id)
        mismatched = [
            field_error(merchant.locale, name, "path_mismatch")
            for name, given, expected in (
                ("merchant_id", body.merchant_id, merchant_id),
                ("number", body.number, order_number),
            )
            if given is not None and given != expected
        ]
        if mismatched:
            raise DeclarationRejected(mismatched)
        await deps.merchants.save_order(body.to_order(merchant_id, order_number))

    @router.get(
        "/{merchant_id}/returns",
        response_model=ReturnList,
        summary="List the merchant's returns, newest first, a page at a time",
        responses=_errors(401, 404, 422),
        openapi_extra=MERCHANT_OR_OPERATOR,
    )
    async def list_returns(
        merchant_id: MerchantId,
        who: Authenticated,
        defective: bool | None = None,
        label_status: LabelStatus | None = None,
        submitted_from: Annotated[IsoDate | None, Query(description="First day, UTC")] = None,
        submitted_to: Annotated[IsoDate | None, Query(description="Last day, UTC")] = None,
        order_number: Annotated[
            str | None, Query(max_length=64, description="Order numbers containing this")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 50,
        cursor: Annotated[str | None, Query(max_length=TOKEN_MAX)] = None,
    ) -> ReturnList:
        require_merchant(who, merchant_id)
        where = ReturnFilter(defective, label_status, submitted_from, submitted_to, order_number)
        page = await deps.returns_page(merchant_id, where, limit, cursor)
        return ReturnList(
            returns=[ReturnSummary.of(record) for record in page.records],
            next_cursor=page.next_cursor,
        )

    @router.get(
        "/{merchant_id}/returns/{return_id}",
        response_model=ReturnRecordAnswer,
        summary="Read one return record: lines, reasons, comments, photo links, label, timeline",
        responses=_errors(401, 404),
        openapi_extra=MERCHANT_OR_OPERATOR,
    )
    async def get_return(
        merchant_id: MerchantId, return_id: ResourceId, who: Authenticated
    ) -> ReturnRecordAnswer:
        require_merchant(who, merchant_id)
        record, photos = await deps.back_office.return_record(merchant_id, return_id)
        return ReturnRecordAnswer.of(record, photos)

    @router.post(
        "/{merchant_id}/returns/{return_id}/label-requests",
        response_model=ReturnRecordAnswer,
        status_code=status.HTTP_202_ACCEPTED,
        summary="Ask for the return's label (R11); LabelRequested says who asked",
        description="A repeated request gives back the existing label unless `regenerate` is set.",
        responses=_errors(401, 404, 422),
        openapi_extra=MERCHANT_OR_OPERATOR,
    )
    async def request_label(
        merchant_id: MerchantId, return_id: ResourceId, body: LabelRequestBody, who: Authenticated
    ) -> ReturnRecordAnswer:
        require_merchant(who, merchant_id)
        await deps.back_office.request_label(
            merchant_id,
            return_id,
            who.actor(body.requested_by_name),
            body.regenerate,
            current_correlation_id(),
        )
        record, photos = await deps.back_office.return_record(merchant_id, return_id)
        return ReturnRecordAnswer.of(record, photos)

    return router


def portal_router(deps: Deps) -> APIRouter:
    router = APIRouter(prefix="/v1/portal/{merchant_id}", tags=["portal"])

    async def portal_session(merchant_id: MerchantId, credentials: Credentials) -> PortalSession:
        token = None if credentials is None else credentials.credentials
        return await deps.portal_session(merchant_id, token)

    Session = Annotated[PortalSession, Depends(portal_session)]

    @router.post(
        "/sessions",
        response_model=SessionAnswer,
        status_code=status.HTTP_201_CREATED,
        summary="Sign in with an order number and the e-mail of that order (R2)",
        description="A wrong pair answers the same whether the order exists or not. Attempts "
        "are limited per order and per client address (429 with Retry-After).",
        responses=_errors(401, 404, 422, 429),
        openapi_extra=PUBLIC,
    )
    async def open_session(
        merchant_id: MerchantId, body: SessionBody, request: Request
    ) -> SessionAnswer:
        opened = await deps.portal.open_session(
            merchant_id,
            body.order_number,
            body.email,
            deps.client_address(request),
        )
        return SessionAnswer(
            session_token=opened.token,
            expires_at=opened.session.expires_at,
            locale=opened.locale,
        )

    @router.get(
        "/order",
        response_model=PortalOrderAnswer,
        summary="The session's order: what is still returnable per line, the window, reasons",
        responses=_errors(401, 404),
        openapi_extra=PORTAL_SESSION,
    )
    async def read_order(session: Session) -> PortalOrderAnswer:
        return PortalOrderAnswer.of(await deps.portal.portal_order(session))

    @router.post(
        "/drafts",
        response_model=DraftAnswer,
        status_code=status.HTTP_201_CREATED,
        summary="Step 1: choose the lines and quantities (R3); gives the draft token for media",
        responses=_errors(401, 404, 422),
        openapi_extra=PORTAL_SESSION,
    )
    async def create_draft(session: Session, body: DraftBody) -> DraftAnswer:
        lines = [RequestedQuantity(line.line_id, line.quantity) for line in body.lines]
        return DraftAnswer.of(await deps.portal.create_draft(session, lines))

    @router.get(
        "/drafts/{draft_id}",
        response_model=DraftAnswer,
        summary="Step 4: the summary of the whole return, with photo thumbnails (R7)",
        responses=_errors(401, 404),
        openapi_extra=PORTAL_SESSION,
    )
    async def read_draft(session: Session, draft_id: ResourceId) -> DraftAnswer:
        return DraftAnswer.of(await deps.portal.summary(session, draft_id))

    @router.put(
        "/drafts/{draft_id}/lines/{line_id}/reason",
        response_model=DraftAnswer,
        summary="Step 2: the line's reason, among the merchant's active reasons (R4)",
        responses=_errors(401, 404, 422),
        openapi_extra=PORTAL_SESSION,
    )
    async def choose_reason(
        session: Session, draft_id: ResourceId, line_id: LineId, body: ReasonChoice
    ) -> DraftAnswer:
        return DraftAnswer.of(
            await deps.portal.choose_reason(session, draft_id, line_id, body.reason_code)
        )

    @router.put(
        "/drafts/{draft_id}/lines/{line_id}/return-type",
        response_model=DraftAnswer,
        summary="Step 3, classic reason: the return type (R5)",
        responses=_errors(401, 404, 422),
        openapi_extra=PORTAL_SESSION,
    )
    async def choose_return_type(
        session: Session, draft_id: ResourceId, line_id: LineId, body: ReturnTypeChoice
    ) -> DraftAnswer:
        return DraftAnswer.of(
            await deps.portal.choose_return_type(session, draft_id, line_id, body.return_type)
        )

    @router.put(
        "/drafts/{draft_id}/lines/{line_id}/defect",
        response_model=DraftAnswer,
        summary="Step 3, defective reason: comment (10-2,000 characters) and 1-5 photos (R6)",
        description="Each photo id must be a photo uploaded to media for this draft.",
        responses=_errors(401, 404, 422, 503),
        openapi_extra=PORTAL_SESSION,
    )
    async def describe_defect(
        session: Session, draft_id: ResourceId, line_id: LineId, body: DefectBody
    ) -> DraftAnswer:
        return DraftAnswer.of(
            await deps.portal.describe_defect(
                session, draft_id, line_id, body.comment, body.photo_ids
            )
        )

    @router.post(
        "/drafts/{draft_id}/submit",
        response_model=SubmissionAnswer,
        status_code=status.HTTP_201_CREATED,
        summary="Step 4: validate the return (R7, R8); idempotent",
        description="A repeated submit of the draft, or one with the same Idempotency-Key, "
        "answers 200 with the same return. The message says whether a label follows or the "
        "merchant will get in touch, in the merchant's language.",
        responses={
            **_errors(401, 404, 409, 422),
            200: {"model": SubmissionAnswer, "description": "Already submitted: the same return"},
        },
        openapi_extra=PORTAL_SESSION,
    )
    async def submit(
        session: Session,
        draft_id: ResourceId,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> JSONResponse:
        outcome = await deps.portal.submit(
            session, draft_id, idempotency_key, current_correlation_id()
        )
        return JSONResponse(
            SubmissionAnswer.of(outcome).model_dump(mode="json"),
            status_code=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        )

    return router
