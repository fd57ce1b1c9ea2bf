"""The HTTP surface every service shares: /healthz, /readyz, /metrics and correlation ids."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as render_metrics
from pymongo.errors import ConnectionFailure, PyMongoError
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from returns_contracts.service_kit.access import (
    INTERNAL_ONLY_MESSAGE,
    PUBLIC,
    InternalTokenRefused,
    install_access_docs,
)
from returns_contracts.service_kit.errors import error_response, validation_error_response
from returns_contracts.service_kit.logging import correlation_scope

CORRELATION_HEADER = "X-Correlation-ID"
FORWARDED_FOR_HEADER = "X-Forwarded-For"

ReadinessCheck = Callable[[], Awaitable[object]]
# What a request that met an unreachable or timed-out store is told to wait before trying again.
STORE_RETRY_AFTER_SECONDS = 5


def client_address(request: Request, trust_forwarded_for: bool) -> str:
    """The address a request comes from, as rate limits must count it; one rule for every entry
    point (JSON API and pages alike).

    Without a proxy, the connection's peer. Behind one reverse proxy (`trust_forwarded_for`),
    the last address of `X-Forwarded-For`: the one the proxy itself wrote. Entries before it
    were sent by the client and prove nothing, so a client cannot choose the address its
    attempts count against by forging the header.
    """
    if trust_forwarded_for:
        forwarded = ",".join(request.headers.getlist(FORWARDED_FOR_HEADER))
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.client.host if request.client else "unknown"


def operations_router(
    checks: Mapping[str, ReadinessCheck], registry: CollectorRegistry, timeout_seconds: float
) -> APIRouter:
    router = APIRouter(tags=["operations"])
    # Checks still running after their readiness answer went out (kept until they end).
    overrunning: set[asyncio.Future[object]] = set()

    def _forget(task: asyncio.Future[object]) -> None:
        overrunning.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it as never retrieved

    @router.get("/healthz", summary="The process is alive", openapi_extra=PUBLIC)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # What the last readiness evaluation found, so Prometheus sees a failing /readyz too: each
    # scrape of /metrics evaluates the checks again (they are cheap pings, bounded as above).
    ready_gauge = Gauge(
        "service_ready", "1 when every readiness check passed (as /readyz)", registry=registry
    )
    check_gauge = Gauge(
        "readiness_check_ok", "1 when this readiness check passed", ["check"], registry=registry
    )

    async def evaluate() -> dict[str, str]:
        async def run(check: ReadinessCheck) -> str:
            # Waited for, never cancelled: each check is bounded by its own client's timeout,
            # and cancelling a driver call from outside can leave the driver's locks held
            # (see service_kit.app.new_mongo_client). One that overruns finishes on its own.
            task = asyncio.ensure_future(check())
            done, _ = await asyncio.wait({task}, timeout=timeout_seconds)
            if not done:
                overrunning.add(task)
                task.add_done_callback(_forget)
                return f"no answer within {timeout_seconds}s"
            error = task.exception()
            if error is None:
                return "ok"
            if isinstance(error, TimeoutError) or getattr(error, "timeout", False):
                return f"no answer within {timeout_seconds}s"
            return f"failed: {type(error).__name__}: {error}"

        names = list(checks)
        results = await asyncio.gather(*(run(checks[name]) for name in names))
        report = dict(zip(names, results, strict=True))
        for name, result in report.items():
            check_gauge.labels(name).set(1 if result == "ok" else 0)
        ready_gauge.set(1 if all(result == "ok" for result in results) else 0)
        return report

    @router.get("/readyz", summary="Every server this service needs answers", openapi_extra=PUBLIC)
    async def readyz() -> JSONResponse:
        report = await evaluate()
        ready = all(result == "ok" for result in report.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": report},
            status_code=200 if ready else 503,
        )

    @router.get(
        "/metrics", summary="Prometheus metrics", include_in_schema=False, openapi_extra=PUBLIC
    )
    async def metrics() -> Response:
        await evaluate()
        return Response(render_metrics(registry), media_type=CONTENT_TYPE_LATEST)

    return router


class _RequestMetrics:
    """Counts requests and their latency by route template, and binds the correlation id.

    A plain ASGI middleware: Starlette's BaseHTTPMiddleware ran every request through a task
    group and a memory stream, about a tenth of declaration's CPU under load (issue 11)."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds", "HTTP latency", ["method", "route"], registry=registry
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(CORRELATION_HEADER)
        with correlation_scope(given) as correlation_id:
            started = time.perf_counter()
            status: list[int] = []

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status.append(int(message["status"]))
                    MutableHeaders(scope=message)[CORRELATION_HEADER] = correlation_id
                await send(message)

            await self.app(scope, receive, send_with_id)
            # The router wrote the matched route into this same scope.
            template = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.requests.labels(method, template, str(status[0] if status else 500)).inc()
            self.latency.labels(method, template).observe(time.perf_counter() - started)


def install_operations(
    app: FastAPI,
    *,
    checks: Mapping[str, ReadinessCheck],
    registry: CollectorRegistry,
    timeout_seconds: float,
) -> None:
    app.add_middleware(_RequestMetrics, registry=registry)
    app.include_router(operations_router(checks, registry, timeout_seconds))
    install_access_docs(app)

    @app.exception_handler(InternalTokenRefused)
    async def internal_only(request: Request, error: InternalTokenRefused) -> JSONResponse:
        return error_response(401, "invalid_token", INTERNAL_ONLY_MESSAGE)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return validation_error_response(error)

    @app.exception_handler(PyMongoError)
    async def store_error(request: Request, error: PyMongoError) -> JSONResponse:
        if not (isinstance(error, ConnectionFailure) or error.timeout):
            return await unexpected_error(request, error)
        # The store is restarting or slow: an answer now, and the client may try again.
        logging.getLogger("store").warning("store unavailable: %s", error)
        response = error_response(
            503, "store_unavailable", "The service is briefly unavailable; try again shortly."
        )
        response.headers["Retry-After"] = str(STORE_RETRY_AFTER_SECONDS)
        return response

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        # Logged with its stack trace; the caller gets a message, never the trace.
        logging.getLogger("unhandled").exception("unhandled error", exc_info=error)
        return error_response(
            500, "internal_error", "Something went wrong on our side; please try again later."
        )
