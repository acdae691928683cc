"""What every service's HTTP app has: health, readiness, AsyncAPI, correlation ids and request logs."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Literal

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.routing import Match

from medic.shared.asyncapi import AsyncAPIDocument, asyncapi_page
from medic.shared.auth import TokenVerifier
from medic.shared.http_edge import HttpEdge
from medic.shared.logging import get_logger
from medic.shared.openapi import document_edge_responses
from medic.shared.settings import ServiceSettings

log = get_logger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"
ReadinessCheck = Callable[[], Awaitable[None]]


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, str] = Field(examples=[{"database": "ok", "broker": "unavailable: ConnectionError"}])


def correlation_id_from(request: Request) -> uuid.UUID:
    """The caller's correlation id if it is a UUID, else a new one (stored on the request)."""
    existing: uuid.UUID | None = getattr(request.state, "correlation_id", None)
    return existing or uuid.uuid4()


class RequestContextMiddleware(BaseHTTPMiddleware):
    """Binds a correlation id for the request's log lines and logs one line per request (route, no query)."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        try:
            correlation_id = uuid.UUID(request.headers.get(CORRELATION_HEADER, ""))
        except ValueError:
            correlation_id = uuid.uuid4()
        request.state.correlation_id = correlation_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(correlation_id=str(correlation_id))
        started = time.perf_counter()
        response = await call_next(request)
        response.headers[CORRELATION_HEADER] = str(correlation_id)
        if request.url.path not in ("/healthz", "/readyz"):
            log.info(
                "http.request",
                method=request.method,
                path=_route_template(request),
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
        return response


def _route_template(request: Request) -> str:
    """The route's template, never the path: a path can hold a secret (a verification or referee link's token).

    A request refused before routing (by the HTTP edge) is matched here; one that matches no route is logged by
    its first segment only.
    """
    route = request.scope.get("route")
    if route is None:
        for candidate in request.app.routes:
            if candidate.matches(request.scope)[0] != Match.NONE:
                route = candidate
                break
    template = getattr(route, "path", None)
    if isinstance(template, str):
        return template
    first = request.url.path.lstrip("/").split("/", 1)[0]
    return f"/{first}/…(no route)" if first else "/"


async def validation_error(_: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 shape, without echoing the rejected input: it may be personal data, and input that
    cannot be encoded (a lone surrogate) would turn the 422 into a 500."""
    assert isinstance(error, RequestValidationError)
    return JSONResponse(
        {"detail": [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in error.errors()]},
        status_code=422,
    )


def add_http_edge(app: FastAPI, settings: ServiceSettings) -> None:
    """The HTTP edge (`medic.shared.http_edge`), and its responses in the app's OpenAPI document."""
    app.add_middleware(
        HttpEdge, max_body_bytes=settings.http_max_body_bytes, body_timeout_s=settings.http_body_timeout_s
    )
    document_edge_responses(app)


def create_app(
    *,
    title: str,
    description: str,
    settings: ServiceSettings,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    asyncapi: AsyncAPIDocument,
    readiness: Mapping[str, ReadinessCheck],
) -> FastAPI:
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.state.token_verifier = TokenVerifier(settings)
    add_http_edge(app, settings)  # inside the request context: its refusals carry a correlation id and are logged
    app.add_middleware(RequestContextMiddleware)

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="The database and the broker are reachable",
        responses={200: {"model": Readiness}, 503: {"model": Readiness, "description": "Something is unreachable"}},
    )
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in readiness.items():
            try:
                await asyncio.wait_for(check(), timeout=3)
                results[name] = "ok"
            except Exception as error:
                results[name] = f"unavailable: {type(error).__name__}"
        ready = all(value == "ok" for value in results.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": results}, 200 if ready else 503)

    @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI document of the events")
    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(asyncapi)

    page = asyncapi_page(asyncapi)

    @app.get("/asyncapi", tags=["operations"], summary="AsyncAPI document, rendered", include_in_schema=False)
    async def asyncapi_html() -> HTMLResponse:
        return HTMLResponse(page)

    return app
