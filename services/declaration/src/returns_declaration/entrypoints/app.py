"""The declaration HTTP API and its outbox relay, in one process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request, status
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from returns_contracts import MerchantUpdated, ReturnSubmitted
from returns_contracts.service_kit.app import (
    install_asyncapi,
    kafka_check,
    mongo_check,
    new_broker,
    new_mongo_client,
)
from returns_contracts.service_kit.errors import ErrorBody
from returns_contracts.service_kit.http import install_operations
from returns_contracts.service_kit.kafka import declare_publications, ensure_topics
from returns_contracts.service_kit.logging import configure_logging, current_correlation_id
from returns_declaration.adapters.outbox import OutboxRelay
from returns_declaration.adapters.repository import OUTBOX_COLLECTIONS, DeclarationRepository
from returns_declaration.config import DeclarationSettings
from returns_declaration.domain.model import Merchant, Order, ReturnRequest
from returns_declaration.domain.rules import DeclarationRejected
from returns_declaration.entrypoints.schemas import (
    ReturnRecord,
    SubmissionAnswer,
    mismatch_error,
    not_found_body,
    rejection_body,
)
from returns_declaration.service.use_cases import DeclarationService, UnknownMerchant


def create_app(settings: DeclarationSettings | None = None) -> FastAPI:
    settings = settings or DeclarationSettings()
    configure_logging(settings.service_name, settings.log_level)
    registry = CollectorRegistry()
    broker = new_broker(settings, settings.service_name)
    declare_publications(broker, settings.topics, [ReturnSubmitted, MerchantUpdated])
    mongo = new_mongo_client(settings)
    repository = DeclarationRepository(mongo[settings.mongodb_database])
    relay = OutboxRelay(
        mongo[settings.mongodb_database],
        OUTBOX_COLLECTIONS,
        lambda: broker,
        settings.topics,
        registry,
        poll_seconds=settings.outbox_poll_seconds,
    )
    service = DeclarationService(repository, relay.wake, settings.back_office_base_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings.kafka_bootstrap_servers, settings.topics)
        await repository.create_indexes()
        await broker.start()
        if settings.outbox_relay_enabled:
            relay.start()
        try:
            yield
        finally:
            await relay.stop()
            await broker.stop()
            await mongo.close()

    app = FastAPI(
        title="Returns - declaration",
        version="0.1.0",
        description="Merchants, orders and the customer's return declaration.",
        lifespan=lifespan,
    )
    install_asyncapi(app, broker, "Returns - declaration", "Publishes return and merchant events.")
    install_operations(
        app,
        checks={"mongodb": mongo_check(mongo), "kafka": kafka_check(broker)},
        registry=registry,
        timeout_seconds=settings.readiness_timeout_seconds,
    )

    @app.exception_handler(DeclarationRejected)
    async def rejected(request: Request, error: DeclarationRejected) -> JSONResponse:
        return JSONResponse(rejection_body(error), status_code=422)

    @app.exception_handler(UnknownMerchant)
    async def unknown_merchant(request: Request, error: UnknownMerchant) -> JSONResponse:
        return JSONResponse(not_found_body("merchant"), status_code=404)

    errors: dict[int | str, dict[str, Any]] = {
        404: {"model": ErrorBody, "description": "Unknown merchant or return"},
        422: {"model": ErrorBody, "description": "A rule or a field is not respected"},
    }

    @app.put(
        "/v1/merchants/{merchant_id}",
        response_model=Merchant,
        tags=["back-office"],
        summary="Create or replace a merchant's settings and reasons",
        responses=errors,
    )
    async def put_merchant(merchant_id: str, merchant: Merchant) -> Merchant:
        if merchant.id != merchant_id:
            raise DeclarationRejected([mismatch_error("id")])
        return await service.configure_merchant(merchant, current_correlation_id())

    @app.put(
        "/v1/merchants/{merchant_id}/orders/{order_number}",
        status_code=status.HTTP_204_NO_CONTENT,
        tags=["back-office"],
        summary="Create or replace one order of a merchant",
        responses=errors,
    )
    async def put_order(merchant_id: str, order_number: str, order: Order) -> None:
        if order.merchant_id != merchant_id or order.number != order_number:
            raise DeclarationRejected([mismatch_error("number")])
        await service.save_order(order)

    @app.post(
        "/v1/merchants/{merchant_id}/returns",
        response_model=SubmissionAnswer,
        status_code=status.HTTP_201_CREATED,
        tags=["portal"],
        summary="Submit a return declaration",
        responses={**errors, 200: {"model": SubmissionAnswer, "description": "Already submitted"}},
    )
    async def submit_return(
        merchant_id: str,
        request: ReturnRequest,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> JSONResponse:
        outcome = await service.submit_return(
            merchant_id, request, idempotency_key, current_correlation_id()
        )
        answer = SubmissionAnswer.for_return(outcome.declared)
        return JSONResponse(
            answer.model_dump(mode="json"),
            status_code=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        )

    @app.get(
        "/v1/merchants/{merchant_id}/returns/{return_id}",
        response_model=ReturnRecord,
        tags=["back-office"],
        summary="Read one return record",
        responses=errors,
    )
    async def get_return(merchant_id: str, return_id: str) -> ReturnRecord | JSONResponse:
        found = await service.get_return(merchant_id, return_id)
        if found is None:
            return JSONResponse(not_found_body("return"), status_code=404)
        return ReturnRecord.for_return(found)

    return app
