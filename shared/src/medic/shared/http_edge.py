"""The HTTP edge: what every request meets before a route reads its body.

The edge finds the operation a request is for among the app's own routes (the list its OpenAPI document is
built from), so every route, present or future, gets the same treatment:

- 405 when the path is served but not with this method, with `Allow` naming every method it is served with;
- 401/403 from the route's `require_roles`, run here with nothing but the request head;
- 415 when the operation takes JSON and the request declares a body of another type;
- 413 when the declared `Content-Length` is over `HTTP_MAX_BODY_BYTES`;
- 422 when a query parameter that takes one value is given several times (FastAPI would keep the last).

Then, while the route reads the body: 413 as soon as it grows past the limit (a chunked body has no length to
check up front), and 408 when it has not all arrived within `HTTP_BODY_TIMEOUT_S`. A refusal that leaves a body
unread closes the connection, so the server never reads it.
"""

import asyncio
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message as MimeMessage

from fastapi import HTTPException, status
from fastapi._compat import field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_validation_alias
from fastapi.params import Form
from fastapi.responses import JSONResponse
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.datastructures import Headers, QueryParams
from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medic.shared.auth import RoleRequirement, role_requirements

JSON_MEDIA_TYPE = "application/json"
CLOSE = {"Connection": "close"}


@dataclass(frozen=True)
class EdgeRules:
    """What the edge enforces for one operation, read from its route."""

    role_requirements: tuple[RoleRequirement, ...] = ()
    takes_json: bool = False
    single_valued_query: frozenset[str] = frozenset()

    @classmethod
    def of(cls, route: RouteContext) -> "EdgeRules":
        dependant = getattr(route, "dependant", None)  # only FastAPI routes have one
        if dependant is None:
            return cls()
        body_field = getattr(route, "body_field", None)
        return cls(
            role_requirements=tuple(role_requirements(dependant)),
            takes_json=body_field is not None and not isinstance(body_field.field_info, Form),
            single_valued_query=_single_valued_query(dependant),
        )

    @property
    def secured(self) -> bool:
        return bool(self.role_requirements)


def _single_valued_query(dependant: Dependant) -> frozenset[str]:
    """Query parameters FastAPI reads one value of, at any depth of the route's dependencies."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        names.update(
            get_validation_alias(field)
            for field in current.query_params
            if not field_annotation_is_sequence(field.field_info.annotation)  # how FastAPI decides, too
        )
        pending.extend(current.dependencies)
    return frozenset(names)


def operation_routes(routes: Iterable[BaseRoute]) -> Iterable[RouteContext]:
    """The app's routes as FastAPI resolves them: included routers flattened, their prefixes and dependencies
    applied. The same walk FastAPI's OpenAPI generator makes."""
    return iter_route_contexts(list(routes))


def _route_for(scope: Scope) -> tuple[RouteContext | None, set[str]]:
    """The route that will serve this request, else the methods the path is served with (empty: no such path)."""
    methods: set[str] = set()
    for route in operation_routes(scope["app"].routes):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route, set()
        if match is Match.PARTIAL:
            methods |= route.methods or set()
    return None, methods


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    parsed = MimeMessage()
    parsed["content-type"] = content_type
    return parsed.get_content_type() == JSON_MEDIA_TYPE


def _declared_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


def _repeated(query: QueryParams, single_valued: frozenset[str]) -> list[str]:
    counts = Counter(name for name, _ in query.multi_items())
    return sorted(name for name in single_valued if counts[name] > 1)


def _too_large(limit: int) -> str:
    return f"the request body is over the limit of {limit} bytes"


def _refusal(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The shape FastAPI gives an HTTPException, so clients read one format."""
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


class HttpEdge:
    """ASGI middleware; `create_app` installs it inside the request-context middleware."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_timeout_s: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = await self._refusal(HTTPConnection(scope))
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, _BodyReader(receive, self.max_body_bytes, self.body_timeout_s), send)

    async def _refusal(self, request: HTTPConnection) -> JSONResponse | None:
        length = _declared_length(request.headers)
        has_body = bool(length) or "transfer-encoding" in request.headers
        # A refused request's body stays unread: closing the connection is the only way to be rid of it.
        unread = CLOSE if has_body else {}
        route, methods = _route_for(request.scope)
        if route is None:
            if methods:
                allow = ", ".join(sorted(methods))
                return _refusal(status.HTTP_405_METHOD_NOT_ALLOWED, "Method Not Allowed", {"Allow": allow, **unread})
            return None  # no such path: the app answers 404
        rules = EdgeRules.of(route)
        try:
            for requirement in rules.role_requirements:
                await requirement.authorise(request)
        except HTTPException as refused:
            return _refusal(refused.status_code, refused.detail, {**(refused.headers or {}), **unread})
        if rules.takes_json and has_body and not _is_json(request.headers.get("content-type")):
            return _refusal(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"the request body must be {JSON_MEDIA_TYPE}", unread
            )
        if length is not None and length > self.max_body_bytes:
            return _refusal(status.HTTP_413_CONTENT_TOO_LARGE, _too_large(self.max_body_bytes), unread)
        if repeated := _repeated(request.query_params, rules.single_valued_query):
            errors = [{"loc": ["query", name], "msg": "give it once", "type": "value_error"} for name in repeated]
            return JSONResponse({"detail": errors}, status.HTTP_422_UNPROCESSABLE_CONTENT, unread)
        return None


class _BodyReader:
    """The app's `receive` while it reads the body: bounded in size and in time."""

    def __init__(self, receive: Receive, max_bytes: int, timeout_s: float) -> None:
        self._receive = receive
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s
        self._received = 0
        self._deadline: float | None = None
        self._body_complete = False

    async def __call__(self) -> Message:
        if self._body_complete:  # after the body, `receive` only waits for the client to go: no deadline
            return await self._receive()
        if self._deadline is None:  # the clock starts when the app first asks for the body
            self._deadline = asyncio.get_running_loop().time() + self._timeout_s
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            raise HTTPException(
                status.HTTP_408_REQUEST_TIMEOUT, "the request body did not arrive in time", headers=CLOSE
            ) from None
        if message["type"] != "http.request":
            self._body_complete = True  # the client has gone
            return message
        self._received += len(message.get("body", b""))
        if self._received > self._max_bytes:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, _too_large(self._max_bytes), headers=CLOSE)
        self._body_complete = not message.get("more_body", False)
        return message
