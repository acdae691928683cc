"""The HTTP edge on a small app: what a request meets before a route reads its body, and the document saying so.

Over a real socket (timeouts, bodies never read) in services/projects/tests/test_edge_api.py.
"""

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel, Field

from medic.shared.auth import Principal, Role, TokenVerifier, issue_token, require_roles
from medic.shared.http import add_http_edge
from medic.shared.settings import ServiceSettings

LIMIT = 1024


class Thing(BaseModel):
    name: str = Field(max_length=100)


@pytest.fixture
def settings() -> ServiceSettings:
    return ServiceSettings.model_validate({"HTTP_MAX_BODY_BYTES": LIMIT, "HTTP_BODY_TIMEOUT_S": 0.5})


@pytest.fixture
def stored() -> list[Thing]:
    """What the POST route received: a refused request must never reach it."""
    return []


@pytest.fixture
def app(settings: ServiceSettings, stored: list[Thing]) -> FastAPI:
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(settings)
    add_http_edge(app, settings)
    things = APIRouter(prefix="/things")

    @things.post("", status_code=201)
    async def add(thing: Thing, _: Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]) -> Thing:
        stored.append(thing)
        return thing

    @things.get("")
    async def find(
        _: Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.SUPERVISOR))],
        name: Annotated[str | None, Query()] = None,
        tag: Annotated[list[str] | None, Query()] = None,
    ) -> dict[str, Any]:
        return {"name": name, "tag": tag}

    @things.delete("/{thing_id}", status_code=204)
    async def remove(thing_id: int, _: Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]) -> None:
        return None

    app.include_router(things)
    # Roles required by the router as a whole: the edge finds them too.
    ops = APIRouter()

    @ops.put("/switch")
    async def switch(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.include_router(ops, dependencies=[Depends(require_roles(Role.OPS))])

    @app.get("/open")
    async def open_to_all() -> dict[str, str]:
        return {"status": "ok"}

    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge.test") as client:
        yield client


@pytest.fixture
def bearer(settings: ServiceSettings) -> Iterator[Any]:
    def headers(*roles: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(settings, roles=roles)}"}

    yield headers


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({}, b'{"name": "kite"}'),
        ({}, b"{broken"),
        ({"content-type": "text/plain"}, b"{broken"),
        ({"Authorization": "Bearer not-a-jwt"}, b"\xff\xfe"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, b'{"name": "kite"}'),
    ],
)
async def test_without_a_valid_token_it_is_401_whatever_the_body(
    client: httpx.AsyncClient, stored: list[Thing], headers: dict[str, str], body: bytes
) -> None:
    response = await client.post("/things", content=body, headers={**JSON, **headers})

    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["detail"] in ("missing bearer token", "invalid or expired token")
    assert stored == []


async def test_the_wrong_role_is_403_before_the_body(client: httpx.AsyncClient, bearer: Any) -> None:
    response = await client.post("/things", content=b"{broken", headers={**JSON, **bearer(Role.STUDENT)})
    assert response.status_code == 403
    assert response.json() == {"detail": "requires one of the roles: coordinator"}


async def test_roles_a_router_requires_are_checked_before_the_body(client: httpx.AsyncClient, bearer: Any) -> None:
    assert (await client.put("/switch", content=b"x" * (LIMIT + 1))).status_code == 401
    assert (await client.put("/switch", content=b"x", headers=bearer(Role.COORDINATOR))).status_code == 403
    allowed = await client.put("/switch", content=b"x" * LIMIT, headers=bearer(Role.OPS))
    assert allowed.json() == {"bytes": LIMIT}


async def test_a_valid_request_goes_through(client: httpx.AsyncClient, stored: list[Thing], bearer: Any) -> None:
    response = await client.post("/things", json={"name": "kite"}, headers=bearer(Role.COORDINATOR))
    assert response.status_code == 201
    assert stored == [Thing(name="kite")]
    charset = await client.post(
        "/things",
        content=b'{"name": "box"}',
        headers={"content-type": "application/json; charset=utf-8", **bearer(Role.COORDINATOR)},
    )
    assert charset.status_code == 201


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx"])
async def test_a_body_that_is_not_json_is_415(
    client: httpx.AsyncClient, stored: list[Thing], bearer: Any, content_type: str | None
) -> None:
    headers = bearer(Role.COORDINATOR) | ({"content-type": content_type} if content_type else {})
    response = await client.post("/things", content=b'{"name": "kite"}', headers=headers)

    assert response.status_code == 415
    assert response.json() == {"detail": "the request body must be application/json"}
    assert stored == []


async def test_no_body_at_all_is_the_route_s_422(client: httpx.AsyncClient, bearer: Any) -> None:
    response = await client.post("/things", headers=bearer(Role.COORDINATOR))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


async def test_a_body_over_the_limit_is_413(client: httpx.AsyncClient, stored: list[Thing], bearer: Any) -> None:
    over = b'{"name": "' + b"x" * LIMIT + b'"}'
    declared = await client.post("/things", content=over, headers={**JSON, **bearer(Role.COORDINATOR)})

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size shows only as it arrives
        for start in range(0, len(over), 100):
            yield over[start : start + 100]

    streamed = await client.post("/things", content=chunks(), headers={**JSON, **bearer(Role.COORDINATOR)})

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json() == {"detail": f"the request body is over the limit of {LIMIT} bytes"}
        assert response.headers["connection"] == "close"
    assert stored == []
    on_a_get = await client.request("GET", "/open", content=b"x" * (LIMIT + 1))
    assert on_a_get.status_code == 413


async def test_405_names_every_method_the_path_serves(client: httpx.AsyncClient, bearer: Any) -> None:
    for path, allowed in (("/things", "GET, POST"), ("/things/7", "DELETE"), ("/open", "GET")):
        response = await client.patch(path, headers=bearer(Role.COORDINATOR))
        assert response.status_code == 405
        assert response.headers["Allow"] == allowed
    assert (await client.get("/things/7")).headers["Allow"] == "DELETE"
    assert (await client.get("/nowhere")).status_code == 404


async def test_a_single_valued_query_parameter_given_twice_is_422(client: httpx.AsyncClient, bearer: Any) -> None:
    headers = bearer(Role.SUPERVISOR)
    twice = await client.get("/things?name=a&name=b", headers=headers)
    assert twice.status_code == 422
    assert twice.json() == {"detail": [{"loc": ["query", "name"], "msg": "give it once", "type": "value_error"}]}
    many = await client.get("/things?name=a&tag=x&tag=y", headers=headers)
    assert many.json() == {"name": "a", "tag": ["x", "y"]}


async def test_public_routes_need_no_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/open")).json() == {"status": "ok"}


async def test_the_document_names_every_refusal(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]

    def codes(path: str, method: str) -> set[str]:
        return set(paths[path][method]["responses"])

    assert codes("/things", "post") == {"201", "400", "401", "403", "408", "413", "415", "422"}
    assert codes("/things", "get") == {"200", "401", "403", "413", "422"}
    assert codes("/switch", "put") == {"200", "401", "403", "413"}
    assert codes("/open", "get") == {"200", "413"}
    unauthenticated = paths["/things"]["post"]["responses"]["401"]
    assert unauthenticated["headers"]["WWW-Authenticate"]["required"] is True
    assert unauthenticated["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert document["components"]["schemas"]["Error"]["required"] == ["detail"]
    assert list(paths["/things"]["post"]["responses"]) == sorted(paths["/things"]["post"]["responses"])
