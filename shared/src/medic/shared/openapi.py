"""The OpenAPI document names every response an operation can give, the HTTP edge's refusals included.

Routes declare what only they know (a 409 on a duplicate, a 404 for a missing object) with the models below;
what follows from the edge and from FastAPI is added here to every operation, read from the same route facts
the edge enforces, so the document stays true for routes added later.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from medic.shared.http_edge import JSON_MEDIA_TYPE, EdgeRules, operation_routes

ERROR_SCHEMA = "Error"


class ErrorOut(BaseModel):
    """A refusal; `detail` says why without repeating the input."""

    model_config = ConfigDict(title=ERROR_SCHEMA)

    detail: str = Field(examples=["invalid or expired token"])


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: `body`, `query`…, then the field", examples=[["body", "name"]])
    msg: str
    type: str


class FieldErrorsOut(BaseModel):
    """A refusal naming the fields at fault: the shape of a 422, also used for conflicts on a field."""

    detail: list[FieldError]


def _error(description: str, **headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {JSON_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}},
    }
    if headers:
        response["headers"] = {
            name: {"description": text, "required": True, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


UNAUTHENTICATED = _error(
    "No bearer token, or one that is invalid or expired",
    **{"WWW-Authenticate": '`Bearer`, with `error="invalid_token"` when a token was sent'},
)
FORBIDDEN = _error("The token has none of the roles this operation requires")
TOO_LARGE = _error("The request body is over the size limit (`HTTP_MAX_BODY_BYTES`)")
UNREADABLE_BODY = _error("The request body could not be read or decoded (e.g. it is not UTF-8)")
BODY_TIMEOUT = _error("The request body did not arrive within `HTTP_BODY_TIMEOUT_S`; the connection is closed")
UNSUPPORTED_MEDIA_TYPE = _error(f"The request body is not `{JSON_MEDIA_TYPE}`")


def edge_responses(rules: EdgeRules) -> dict[str, dict[str, Any]]:
    """Responses any operation with these rules can give besides its own."""
    responses = {"413": TOO_LARGE}  # any request can declare a body, even where none is read
    if rules.secured:
        responses |= {"401": UNAUTHENTICATED, "403": FORBIDDEN}
    if rules.takes_json:
        responses |= {"400": UNREADABLE_BODY, "408": BODY_TIMEOUT, "415": UNSUPPORTED_MEDIA_TYPE}
    return responses


def document_edge_responses(app: FastAPI) -> None:
    """Make `app.openapi()` add the edge's responses to each operation (FastAPI's documented way to extend it)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:  # built once, then kept
            app.openapi_schema = _with_edge_responses(build(), app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_edge_responses(document: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = document.get("paths", {})
    for route in operation_routes(app.routes):
        operations = paths.get(route.path_format or "", {})
        for method in route.methods or ():
            operation = operations.get(method.lower())
            if operation is None:  # not in the document (include_in_schema=False)
                continue
            responses = operation.setdefault("responses", {})
            for code, response in edge_responses(EdgeRules.of(route)).items():
                responses.setdefault(code, response)
            operation["responses"] = dict(sorted(responses.items()))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA] = ErrorOut.model_json_schema()
    return document
