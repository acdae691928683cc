"""Small helpers the tests share: fast failure settings and waiting for something to happen."""

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from medic.shared.auth import Role
from medic.shared.events import EventPayload

T = TypeVar("T")

# Quick retries and reconnects, so failure paths finish within a test's patience.
FAST_FAILURE_HANDLING = {
    "CONSUMER_RETRY_DELAY_MS": "100",
    "CONSUMER_MAX_ATTEMPTS": "3",
    "OUTBOX_MAX_BACKOFF_S": "1",
    "OUTBOX_SWEEP_INTERVAL_S": "0.5",
    "PUBLISH_TIMEOUT_S": "5",
}


async def eventually(
    check: Callable[[], Awaitable[T]], *, timeout_s: float = 20, interval_s: float = 0.05, what: str = "condition"
) -> T:
    """Poll `check` until it returns a truthy value; fail saying `what` was awaited, and the last value, after
    `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout_s:g}s; last value: {value!r}")
        await asyncio.sleep(interval_s)


def envelope_bytes(event_type: str, data: dict[str, Any], *, event_id: uuid.UUID | None = None) -> tuple[str, bytes]:
    """(message id, body) of an event as a publisher would put it on the bus, built by hand so tests can
    also send what no contract allows."""
    event_id = event_id or uuid.uuid4()
    envelope = {
        "id": str(event_id),
        "source": "/tests",
        "type": event_type,
        "specversion": "1.0",
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "correlationid": str(uuid.uuid4()),
        "data": data,
    }
    return str(event_id), json.dumps(envelope).encode()


class ProbeHappenedV1(EventPayload):
    """The event the consumer tests send: `n` tells them apart; `fails` makes the test's handler raise."""

    event_type: ClassVar[str] = "tests.probe.happened.v1"
    source: ClassVar[str] = "/tests"

    n: int
    fails: bool = False


PROBE_EVENT = ProbeHappenedV1.event_type


def any_organisation(roles: Collection[Role]) -> uuid.UUID | None:
    """A partner user's token names its organisation; a test that cares only about the role takes any."""
    return uuid.uuid4() if Role.PARTNER in roles else None


def example_value(schema: dict[str, Any], components: dict[str, Any], *, free_text: str | None = None) -> Any:
    """A value for an OpenAPI `schema` from the examples it gives (every request body field has one).

    With `free_text`, every plain string (no enum, format or pattern) is that text instead: the way to send a
    sentinel through every field a person could type anything into.
    """
    if "$ref" in schema:
        return example_value(components[schema["$ref"].rsplit("/", 1)[-1]], components, free_text=free_text)
    if free_text is not None and _is_free_text(schema):
        return free_text
    if "examples" in schema:
        return schema["examples"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            chosen = next(s for s in schema[key] if s.get("type") != "null")
            return example_value(chosen, components, free_text=free_text)
    if schema.get("type") == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        return {
            name: example_value(sub, components, free_text=free_text)
            for name, sub in schema.get("properties", {}).items()
            if name in required or "examples" in sub
        }
    if "enum" in schema:
        return schema["enum"][0]
    return {"string": "x", "integer": 1, "number": 1, "boolean": False}.get(schema.get("type", "string"))


def _is_free_text(schema: dict[str, Any]) -> bool:
    variants = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    return (
        len(variants) == 1
        and variants[0].get("type") == "string"
        and not ({"enum", "format", "pattern", "const", "$ref"} & set(variants[0]))
    )
