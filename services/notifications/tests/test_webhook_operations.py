"""Webhook operations over HTTP: who may call each route (table-driven from webhook_operations_routes), and what
test, resend, recover, replay, pause, resume, summary and the attempt lists do, on real loopback receivers."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from standardwebhooks import Webhook

from medic.notifications.bootstrap import build
from medic.notifications.domain.webhook_delivery import RETRY_SCHEDULE_S, TEST_EVENT_TYPE
from medic.shared.auth import Role
from services.notifications.tests.webhook_delivery_support import (
    EVENT_TYPE,
    OTHER_EVENT_TYPE,
    Harness,
    Receiver,
    harness,
    receiver,
    settings_for,
    sqlite_url,
)
from services.notifications.tests.webhook_operations_routes import ROUTES
from tests.support import eventually


@pytest.fixture
async def hooks(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(sqlite_url(tmp_path)) as running:
        yield running


@pytest.fixture
async def server() -> AsyncIterator[Receiver]:
    async with receiver() as running:
        yield running


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


async def _arrived(server: Receiver, path: str, count: int) -> None:
    async def enough() -> bool:
        return len(server.at(path)) >= count

    await eventually(enough, timeout_s=10)


async def _attempts_recorded(hooks: Harness, endpoint_id: uuid.UUID, count: int) -> None:
    async def enough() -> bool:
        async with hooks.uow() as uow:
            found = await uow.webhook_deliveries.attempts(endpoint_id, limit=count)
        return len(found) >= count

    await eventually(enough)


async def test_each_route_admits_the_roles_in_its_table_and_hides_others_endpoints(
    hooks: Harness, server: Receiver
) -> None:
    endpoint = await hooks.register(server.url("/ok"))
    partner_id = endpoint.endpoint.partner_id
    message_id = await hooks.publish(partner_id)
    bodies: dict[str, dict[str, Any]] = {
        "recover": {"since": _iso(datetime.now(UTC) - timedelta(hours=1))},
        "replay": {"event_types": [EVENT_TYPE], "since": _iso(datetime.now(UTC) - timedelta(hours=1))},
    }
    wrong = []
    for (method, template), roles in ROUTES.items():
        path = template.format(endpoint_id=endpoint.endpoint.id, message_id=message_id)
        body = bodies.get(path.rsplit("/", 1)[-1])

        async def call(headers: dict[str, str], path: str = path, method: str = method, body: Any = body) -> int:
            return (await hooks.client.request(method, path, json=body, headers=headers)).status_code

        if (status := await call({})) != 401:
            wrong.append(f"{method} {template} without a token: {status}")
        for role in Role:
            own = partner_id if role is Role.PARTNER else None
            status = await call(hooks.headers(role, own))
            if role in roles and status in (401, 403, 404, 422):
                wrong.append(f"{method} {template} as {role.value}: {status}")
            if role not in roles and status != 403:
                wrong.append(f"{method} {template} as {role.value}: {status}, not 403")
        if Role.PARTNER in roles and (status := await call(hooks.headers(Role.PARTNER, uuid.uuid4()))) != 404:
            wrong.append(f"{method} {template} as another organisation's partner: {status}, not 404")
        missing = template.format(endpoint_id=uuid.uuid4(), message_id=message_id)
        if (status := await call(hooks.headers(Role.COORDINATOR), missing)) != 404:
            wrong.append(f"{method} {template} for no such endpoint: {status}, not 404")
    assert wrong == []


async def test_the_running_service_sends_a_test_event(tmp_path: Path, server: Receiver) -> None:
    settings = settings_for(sqlite_url(tmp_path))
    service = build(settings, start_consumer=False)
    async with (
        LifespanManager(service.app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://n.test") as client,
    ):
        partner_id = uuid.uuid4()
        hooks = await harness_view(service, settings, client)
        endpoint = await hooks.register(server.url("/ok"), partner_id=partner_id)
        response = await client.post(
            f"/webhooks/endpoints/{endpoint.endpoint.id}/test", headers=hooks.headers(Role.PARTNER, partner_id)
        )
        assert response.status_code == 202, response.text
        await _arrived(server, "/ok", 1)
        received = server.at("/ok")[0]
        assert received.webhook_id == response.json()["message_id"]
        payload = Webhook(endpoint.secret).verify(received.body, received.headers)
        assert payload["type"] == TEST_EVENT_TYPE and payload["data"]["endpoint_id"] == str(endpoint.endpoint.id)


async def harness_view(service: Any, settings: Any, client: httpx.AsyncClient) -> Harness:
    from services.notifications.tests.webhook_delivery_support import Clock

    return Harness(service, settings, client, Clock())


async def test_resend_sends_one_message_again_with_its_id(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/ok"))
    partner_id = endpoint.endpoint.partner_id
    message_id = await hooks.publish(partner_id)
    hooks.start_dispatcher()
    await _arrived(server, "/ok", 1)
    # Recorded with the delivery's release: until then the resend is refused as "being sent right now".
    await _attempts_recorded(hooks, endpoint.endpoint.id, 1)
    url = f"/webhooks/endpoints/{endpoint.endpoint.id}/messages/{message_id}"
    response = await hooks.client.post(f"{url}/resend", headers=hooks.headers(Role.PARTNER, partner_id))
    assert response.status_code == 202, response.text
    await _arrived(server, "/ok", 2)
    assert [r.webhook_id for r in server.at("/ok")] == [message_id, message_id]

    async def both_listed() -> list[dict[str, Any]]:
        listed = await hooks.client.get(f"{url}/attempts", headers=hooks.headers(Role.COORDINATOR))
        items: list[dict[str, Any]] = listed.json()["items"]
        return items if len(items) == 2 else []

    items = await eventually(both_listed)
    assert [(i["message_id"], i["outcome"], i["status_code"]) for i in items] == [(message_id, "succeeded", 200)] * 2

    unknown = f"/webhooks/endpoints/{endpoint.endpoint.id}/messages/msg_{uuid.uuid4().hex}/resend"
    assert (await hooks.client.post(unknown, headers=hooks.headers(Role.COORDINATOR))).status_code == 404
    malformed = await hooks.client.post(
        f"/webhooks/endpoints/{endpoint.endpoint.id}/messages/not-an-id/resend", headers=hooks.headers(Role.COORDINATOR)
    )
    assert malformed.status_code == 422 and malformed.json()["detail"][0]["loc"] == ["path", "message_id"]
    # Another partner's message through this partner's endpoint is no message of theirs.
    foreign = await hooks.publish(uuid.uuid4())
    foreign_url = f"/webhooks/endpoints/{endpoint.endpoint.id}/messages/{foreign}/resend"
    assert (await hooks.client.post(foreign_url, headers=hooks.headers(Role.COORDINATOR))).status_code == 404


async def test_recover_resends_what_failed_since_a_time(hooks: Harness, server: Receiver) -> None:
    answers = {"status": 500}

    async def switch(request: Any, received: Any) -> Any:
        from aiohttp import web

        return web.Response(status=answers["status"])

    server.behaviours["/switch"] = switch
    endpoint = await hooks.register(server.url("/switch"))
    partner_id = endpoint.endpoint.partner_id
    for _ in range(3):
        await hooks.publish(partner_id)
    hooks.start_dispatcher()
    for attempt, wait_s in enumerate(RETRY_SCHEDULE_S, start=1):
        hooks.clock.skip(wait_s + 0.1)
        await _arrived(server, "/switch", 3 * attempt)
        # Results written before the clock moves on: a jump past the claims' lease would send them again.
        await _attempts_recorded(hooks, endpoint.endpoint.id, 3 * attempt)

    async def all_failed() -> bool:
        return await hooks.statuses() == {"failed": 3}

    await eventually(all_failed)
    answers["status"] = 204
    url = f"/webhooks/endpoints/{endpoint.endpoint.id}/recover"
    headers = hooks.headers(Role.PARTNER, partner_id)
    future = await hooks.client.post(url, json={"since": _iso(datetime.now(UTC) + timedelta(hours=1))}, headers=headers)
    assert future.status_code == 422 and future.json()["detail"][0]["loc"] == ["body", "since"]
    too_old = await hooks.client.post(
        url, json={"since": _iso(datetime.now(UTC) - timedelta(days=15))}, headers=headers
    )
    assert too_old.status_code == 422
    response = await hooks.client.post(
        url, json={"since": _iso(datetime.now(UTC) - timedelta(hours=1))}, headers=headers
    )
    assert response.status_code == 202 and response.json()["queued"] == 3

    async def all_succeeded() -> bool:
        return await hooks.statuses() == {"succeeded": 3}

    await eventually(all_succeeded)


async def test_replay_sends_stored_messages_of_the_types_asked_for(hooks: Harness, server: Receiver) -> None:
    partner_id = uuid.uuid4()
    # Published before the partner had an endpoint: stored all the same.
    first = await hooks.publish(partner_id)
    second = await hooks.publish(partner_id)
    await hooks.publish(partner_id, event_type=OTHER_EVENT_TYPE)
    endpoint = await hooks.register(server.url("/ok"), partner_id=partner_id)
    hooks.start_dispatcher()
    url = f"/webhooks/endpoints/{endpoint.endpoint.id}/replay"
    headers = hooks.headers(Role.PARTNER, partner_id)
    since = _iso(datetime.now(UTC) - timedelta(hours=1))
    unsubscribed = await hooks.client.post(
        url, json={"event_types": [OTHER_EVENT_TYPE], "since": since}, headers=headers
    )
    assert unsubscribed.status_code == 422 and unsubscribed.json()["detail"][0]["loc"] == ["body", "event_types"]
    empty = await hooks.client.post(url, json={"event_types": [], "since": since}, headers=headers)
    assert empty.status_code == 422
    extra = await hooks.client.post(url, json={"event_types": [EVENT_TYPE], "since": since, "x": 1}, headers=headers)
    assert extra.status_code == 422

    response = await hooks.client.post(url, json={"event_types": [EVENT_TYPE], "since": since}, headers=headers)
    assert response.status_code == 202 and response.json()["queued"] == 2
    await _arrived(server, "/ok", 2)
    assert sorted(r.webhook_id for r in server.at("/ok")) == sorted([first, second])
    later = _iso(datetime.now(UTC) + timedelta(seconds=-0.01))
    response = await hooks.client.post(url, json={"event_types": [EVENT_TYPE], "since": later}, headers=headers)
    assert response.json()["queued"] == 0


async def test_a_paused_endpoint_holds_its_deliveries_until_resumed(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/ok"))
    partner_id = endpoint.endpoint.partner_id
    base = f"/webhooks/endpoints/{endpoint.endpoint.id}"
    headers = hooks.headers(Role.PARTNER, partner_id)
    paused = await hooks.client.post(f"{base}/pause", headers=headers)
    assert paused.status_code == 200 and paused.json() == {
        "id": str(endpoint.endpoint.id),
        "enabled": True,
        "paused": True,
    }
    again = await hooks.client.post(f"{base}/pause", headers=headers)
    assert again.status_code == 409 and "paused already" in again.text
    hooks.start_dispatcher()
    await hooks.publish(partner_id)
    await hooks.publish(partner_id)
    await asyncio.sleep(0.5)
    assert server.requests == []
    summary = (await hooks.client.get(f"{base}/summary", headers=headers)).json()
    assert (summary["paused"], summary["backlog"]) == (True, 2)

    resumed = await hooks.client.post(f"{base}/resume", headers=headers)
    assert resumed.status_code == 200 and resumed.json()["paused"] is False
    await _arrived(server, "/ok", 2)
    assert (await hooks.client.post(f"{base}/resume", headers=headers)).status_code == 409


async def test_operations_on_a_disabled_endpoint_say_why_not(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/gone"))
    partner_id = endpoint.endpoint.partner_id
    message_id = await hooks.publish(partner_id)
    hooks.start_dispatcher()
    await _arrived(server, "/gone", 1)

    async def disabled() -> bool:
        summary = (
            await hooks.client.get(
                f"/webhooks/endpoints/{endpoint.endpoint.id}/summary", headers=hooks.headers(Role.COORDINATOR)
            )
        ).json()
        return summary["enabled"] is False

    await eventually(disabled)
    base = f"/webhooks/endpoints/{endpoint.endpoint.id}"
    headers = hooks.headers(Role.COORDINATOR)
    for path, body in (
        ("/test", None),
        (f"/messages/{message_id}/resend", None),
        ("/recover", {"since": _iso(datetime.now(UTC) - timedelta(hours=1))}),
    ):
        response = await hooks.client.post(base + path, json=body, headers=headers)
        assert response.status_code == 409 and "410 Gone" in response.text, (path, response.text)


async def test_the_summary_and_the_attempt_pages(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/flaky"))
    server.failures_before_success = 1
    partner_id = endpoint.endpoint.partner_id
    for _ in range(3):
        await hooks.publish(partner_id)
    hooks.start_dispatcher()
    await _arrived(server, "/flaky", 3)
    hooks.clock.skip(6.1)
    await _arrived(server, "/flaky", 6)
    base = f"/webhooks/endpoints/{endpoint.endpoint.id}"
    headers = hooks.headers(Role.PARTNER, partner_id)

    async def settled() -> dict[str, Any]:
        summary: dict[str, Any] = (await hooks.client.get(f"{base}/summary", headers=headers)).json()
        return summary if summary["attempts"] == 6 and summary["backlog"] == 0 else {}

    summary = await eventually(settled)
    assert (summary["succeeded"], summary["success_rate"], summary["failing_since"]) == (3, 0.5, None)
    assert 0 < summary["latency_p50_ms"] <= summary["latency_p95_ms"]
    assert summary["last_error"]["status_code"] == 500 and summary["last_error"]["error"] == "HTTP 500"
    assert summary["last_success_at"] is not None

    seen: list[int] = []
    before: int | None = None
    while True:
        params: dict[str, Any] = {"limit": 4} | ({"before": before} if before else {})
        page = (await hooks.client.get(f"{base}/attempts", params=params, headers=headers)).json()
        seen += [item["id"] for item in page["items"]]
        before = page["next_before"]
        if before is None:
            break
    assert len(seen) == 6 and seen == sorted(seen, reverse=True)
    assert (await hooks.client.get(f"{base}/attempts", params={"limit": 0}, headers=headers)).status_code == 422
