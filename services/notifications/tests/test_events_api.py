"""`GET /events` accepts exactly what its document says: RFC 3339 times, filters without control characters,
each parameter once, and cursors in their own documented format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:  # conftest is not importable at run time (--import-mode=importlib); fixtures hand these out
    from services.notifications.tests.conftest import DeliverTo, EnvelopeFactory


@pytest.mark.parametrize(
    "moment",
    ["0.5", "1700000000", "2026-03-01T09:04:00", "2026-03-01", "2026-03-01 09:04:00Z", "2026-03-01T09:04Z", "now"],
)
async def test_since_and_until_are_rfc3339_date_times_with_an_offset(
    client: httpx.AsyncClient, ops: dict[str, str], moment: str
) -> None:
    for name in ("since", "until"):
        reply = await client.get("/events", params={name: moment}, headers=ops)
        assert reply.status_code == 422, (name, moment)
        assert reply.json()["detail"][0]["loc"] == ["query", name]


@pytest.mark.parametrize(
    "moment", ["2026-03-01T09:04:00Z", "2026-03-01t09:04:00.123456789z", "2026-03-01T10:04:00+01:00"]
)
async def test_any_rfc3339_date_time_is_accepted(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo, moment: str
) -> None:
    await deliver_to(envelope())
    reply = await client.get("/events", params={"until": moment}, headers=ops)
    assert reply.status_code == 200, reply.text
    assert reply.json()["items"] == []  # the event was received now, after the `until`


@pytest.mark.parametrize("params", [{"type": "a\x00b"}, {"source": "\x1b[31m"}, {"subject": "x" * 501}])
async def test_a_filter_with_control_characters_or_too_long_is_a_422(
    client: httpx.AsyncClient, ops: dict[str, str], params: dict[str, str]
) -> None:
    reply = await client.get("/events", params=params, headers=ops)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["query", next(iter(params))]


@pytest.mark.parametrize("path", ["/events", "/events/stream"])
async def test_a_parameter_given_twice_is_a_422(client: httpx.AsyncClient, ops: dict[str, str], path: str) -> None:
    reply = await client.get(f"{path}?type=a&type=b", headers=ops)
    assert reply.status_code == 422
    assert reply.json()["detail"] == [{"loc": ["query", "type"], "msg": "give it once", "type": "value_error"}]


async def test_the_document_says_what_each_parameter_takes(client: httpx.AsyncClient) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"]["/events"]["get"]
    schemas: dict[str, Any] = {p["name"]: p["schema"] for p in operation["parameters"]}

    def of(name: str) -> dict[str, Any]:
        (schema,) = [s for s in schemas[name]["anyOf"] if s.get("type") != "null"]
        return dict(schema)

    assert of("since") == {"type": "string", "format": "date-time"}
    assert of("until") == {"type": "string", "format": "date-time"}
    assert schemas["cursor"]["format"] == "event-log-cursor"
    assert of("type")["pattern"] == of("source")["pattern"] == of("subject")["pattern"]
    assert set(operation["responses"]) == {"200", "401", "403", "413", "422"}
