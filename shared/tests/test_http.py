"""create_app: health, readiness, correlation ids, request logs and the AsyncAPI document."""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI, Request
from structlog.testing import capture_logs

from medic.shared.asyncapi import AsyncAPIDocument, asyncapi_document
from medic.shared.contracts import PartnerRegisteredV1
from medic.shared.http import CORRELATION_HEADER, ReadinessCheck, correlation_id_from, create_app
from medic.shared.settings import ServiceSettings


@asynccontextmanager
async def _no_lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


async def _ok() -> None:
    return None


async def _broker_down() -> None:
    raise ConnectionError("amqp://guest:guest@rabbit refused")


def _asyncapi() -> AsyncAPIDocument:
    settings = ServiceSettings(service_name="test", broker_namespace="t1")
    return asyncapi_document(settings, description="for the unit tests", publishes=[PartnerRegisteredV1])


def _app(readiness: dict[str, ReadinessCheck]) -> FastAPI:
    app = create_app(
        title="test service",
        description="for the unit tests",
        settings=ServiceSettings(),
        lifespan=_no_lifespan,
        asyncapi=_asyncapi(),
        readiness=readiness,
    )

    @app.post("/links/{token}")
    async def answer_link(token: str) -> None:
        return None

    @app.get("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        return {
            "from_request": str(correlation_id_from(request)),
            "bound": structlog.contextvars.get_contextvars().get("correlation_id"),
        }

    return app


@pytest.fixture
def client_for() -> Callable[[dict[str, ReadinessCheck]], httpx.AsyncClient]:
    def make(readiness: dict[str, ReadinessCheck]) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(readiness)), base_url="http://test")

    return make


@pytest.fixture
async def client(client_for: Callable[..., httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for({"database": _ok, "broker": _ok}) as client:
        yield client


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_every_check_passes(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


async def test_readyz_names_the_failing_check(client_for: Callable[..., httpx.AsyncClient]) -> None:
    async with client_for({"database": _ok, "broker": _broker_down}) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": {"database": "ok", "broker": "unavailable: ConnectionError"},
    }
    assert "guest" not in response.text  # the error's message (here a URL with credentials) is not shown


async def test_readyz_with_no_checks_is_ready(client_for: Callable[..., httpx.AsyncClient]) -> None:
    async with client_for({}) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200


async def test_correlation_id_is_echoed_and_bound(client: httpx.AsyncClient) -> None:
    correlation_id = str(uuid.uuid4())

    response = await client.get("/echo", headers={CORRELATION_HEADER: correlation_id})

    assert response.headers[CORRELATION_HEADER] == correlation_id
    assert response.json() == {"from_request": correlation_id, "bound": correlation_id}


@pytest.mark.parametrize("sent", [None, "not-a-uuid", "", "1234", "' OR 1=1 --"])
async def test_correlation_id_is_generated_when_absent_or_invalid(client: httpx.AsyncClient, sent: str | None) -> None:
    headers = {} if sent is None else {CORRELATION_HEADER: sent}

    response = await client.get("/echo", headers=headers)

    generated = response.headers[CORRELATION_HEADER]
    assert generated != sent
    assert str(uuid.UUID(generated)) == generated
    assert response.json() == {"from_request": generated, "bound": generated}


async def test_each_request_gets_its_own_generated_id(client: httpx.AsyncClient) -> None:
    first = (await client.get("/healthz")).headers[CORRELATION_HEADER]
    second = (await client.get("/healthz")).headers[CORRELATION_HEADER]
    assert first != second


async def test_error_responses_carry_the_correlation_id(client: httpx.AsyncClient) -> None:
    correlation_id = str(uuid.uuid4())
    response = await client.get("/no-such-page", headers={CORRELATION_HEADER: correlation_id})
    assert response.status_code == 404
    assert response.headers[CORRELATION_HEADER] == correlation_id


async def test_one_request_log_line_without_query_and_not_for_probes(client: httpx.AsyncClient) -> None:
    with capture_logs() as logs:
        await client.get("/healthz")
        await client.get("/readyz")
        await client.get("/echo?email=alice@example.org")

    requests = [entry for entry in logs if entry["event"] == "http.request"]
    assert len(requests) == 1
    (entry,) = requests
    assert entry["method"] == "GET"
    assert entry["path"] == "/echo"
    assert entry["status"] == 200
    assert entry["duration_ms"] >= 0
    assert "alice@example.org" not in repr(logs)


async def test_asyncapi_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/asyncapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert "asyncapi" in document
    assert document["info"]["title"] == "test service events"
    assert "projects.partner.registered.v1" in response.text


async def test_asyncapi_html(client: httpx.AsyncClient) -> None:
    response = await client.get("/asyncapi")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


async def test_openapi_lists_the_operations_endpoints(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/healthz", "/readyz", "/asyncapi.json"} <= set(paths)
    assert "/asyncapi" not in paths


async def test_a_path_holding_a_secret_is_logged_by_its_route_even_when_refused_before_routing(
    client: httpx.AsyncClient,
) -> None:
    secret = "s3cr3t-token-Quillon"
    with capture_logs() as logs:
        await client.post(f"/links/{secret}", content=b"x" * 2_000_000)  # refused by the edge: too large
        await client.get(f"/nowhere/{secret}")  # no route at all
    paths = [entry["path"] for entry in logs if entry["event"] == "http.request"]
    assert paths == ["/links/{token}", "/nowhere/…(no route)"]
    assert secret not in repr(logs)
