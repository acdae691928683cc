"""Webhook delivery end to end on real loopback receivers: Standard Webhooks signatures checked with the stock
`standardwebhooks` library, retries on the schedule, 429, 410, redirects, timeouts, slow endpoints, rotation, the
SSRF check at send time. The dispatcher's clock is moved on by the test, so hours of retries take no time."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from medic.notifications.adapters.orm_webhook_deliveries import webhook_attempts, webhook_deliveries, webhook_messages
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain import webhook_signing
from medic.notifications.domain.webhook_delivery import RETRY_SCHEDULE_S
from medic.notifications.service_layer import email_rules, webhook_endpoints
from services.notifications.tests.webhook_delivery_support import (
    EVENT_TYPE,
    Harness,
    Receiver,
    harness,
    receiver,
    sqlite_url,
)
from tests import infra
from tests.support import eventually


@pytest.fixture(params=["sqlite", "postgresql"])
async def both(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    async with infra.fresh_database_url(request.param, tmp_path, "notifications") as url, harness(url) as running:
        yield running


@pytest.fixture
async def hooks(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(sqlite_url(tmp_path)) as running:
        yield running


@pytest.fixture
async def server() -> AsyncIterator[Receiver]:
    async with receiver() as running:
        yield running


async def _arrived(server: Receiver, path: str, count: int, timeout_s: float = 10) -> None:
    async def enough() -> bool:
        return len(server.at(path)) >= count

    await eventually(enough, timeout_s=timeout_s)


async def _attempts(hooks: Harness) -> list[dict[str, Any]]:
    async with hooks.uow() as uow:
        rows = await uow.connection.execute(select(webhook_attempts).order_by(webhook_attempts.c.id))
        return [dict(row._mapping) for row in rows]


async def _delivery(hooks: Harness) -> dict[str, Any]:
    async with hooks.uow() as uow:
        rows = list(await uow.connection.execute(select(webhook_deliveries)))
    assert len(rows) == 1
    return dict(rows[0]._mapping)


async def _recorded(hooks: Harness, count: int) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]]:
        found = await _attempts(hooks)
        return found if len(found) >= count else []

    return await eventually(enough)


async def test_a_message_arrives_signed_as_standard_webhooks_say(both: Harness, server: Receiver) -> None:
    hooks = both
    endpoint = await hooks.register(server.url("/ok"))
    partner_id = endpoint.endpoint.partner_id
    hooks.start_dispatcher()
    webhook_id = await hooks.publish(partner_id, data={"partner_id": str(partner_id), "title": "Hand hygiene"})
    await _arrived(server, "/ok", 1)

    received = server.at("/ok")[0]
    verified = Webhook(endpoint.secret).verify(received.body, received.headers)
    assert verified == {
        "type": EVENT_TYPE,
        "timestamp": "2026-12-01T09:30:00Z",
        "data": {"partner_id": str(partner_id), "title": "Hand hygiene"},
    }
    assert received.webhook_id == webhook_id and webhook_id.startswith("msg_")
    assert received.headers["content-type"] == "application/json"
    assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 60

    with pytest.raises(WebhookVerificationError):  # a body changed on the way
        Webhook(endpoint.secret).verify(received.body.replace(b"Hand", b"Foot"), received.headers)
    with pytest.raises(WebhookVerificationError):  # someone else's secret
        Webhook(webhook_signing.new_secret()).verify(received.body, received.headers)
    stale = webhook_signing.headers(webhook_id, int(time.time()) - 600, received.body, [endpoint.secret])
    with pytest.raises(WebhookVerificationError, match="too old"):  # a replay of an old, validly signed message
        Webhook(endpoint.secret).verify(received.body, stale)

    attempts = await _recorded(hooks, 1)
    assert [(a["outcome"], a["status_code"], a["response_excerpt"]) for a in attempts] == [("succeeded", 200, "thanks")]
    assert attempts[0]["duration_ms"] > 0
    assert (await hooks.statuses()) == {"succeeded": 1}


async def test_the_same_event_published_twice_is_one_message_sent_once(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/ok"))
    event_id = uuid.uuid4()
    first = await hooks.publish(endpoint.endpoint.partner_id, event_id=event_id)
    again = await hooks.publish(endpoint.endpoint.partner_id, event_id=event_id)
    assert first == again
    hooks.start_dispatcher()
    await _arrived(server, "/ok", 1)
    await asyncio.sleep(0.3)
    assert len(server.at("/ok")) == 1


async def test_only_endpoints_subscribed_to_the_type_get_it(hooks: Harness, server: Receiver) -> None:
    partner_id = uuid.uuid4()
    await hooks.register(server.url("/ok"), partner_id=partner_id)
    other_type = await hooks.register(server.url("/fail"), partner_id=partner_id, event_types=(list_types()[1],))
    other_partner = await hooks.register(server.url("/gone"))
    hooks.start_dispatcher()
    await hooks.publish(partner_id)
    await _arrived(server, "/ok", 1)
    await asyncio.sleep(0.3)
    assert server.at("/fail") == [] and server.at("/gone") == []
    assert other_type.endpoint.partner_id == partner_id and other_partner.endpoint.partner_id != partner_id


def list_types() -> list[str]:
    from medic.notifications.domain.partner_events import CATALOGUE

    return list(CATALOGUE)


async def test_a_failed_attempt_is_retried_with_the_same_id_and_body(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/flaky"))
    hooks.start_dispatcher()
    await hooks.publish(endpoint.endpoint.partner_id)
    await _arrived(server, "/flaky", 1)
    await _recorded(hooks, 1)
    await asyncio.sleep(0.3)
    assert len(server.at("/flaky")) == 1, "the second attempt waits 5 s"
    hooks.clock.skip(RETRY_SCHEDULE_S[1] + 0.1)
    await _arrived(server, "/flaky", 2)

    first, second = server.at("/flaky")
    assert first.webhook_id == second.webhook_id and first.body == second.body
    Webhook(endpoint.secret).verify(second.body, second.headers)
    attempts = await _recorded(hooks, 2)
    assert [(a["outcome"], a["status_code"]) for a in attempts] == [("failed", 500), ("succeeded", 200)]
    assert attempts[0]["error"] == "HTTP 500" and attempts[0]["response_excerpt"] == "flaky"


async def test_attempts_follow_the_schedule_and_stop_after_eight(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/fail"))
    hooks.start_dispatcher()
    await hooks.publish(endpoint.endpoint.partner_id)
    for attempt, wait_s in enumerate(RETRY_SCHEDULE_S, start=1):
        if wait_s:
            hooks.clock.skip(wait_s - 1)
            await asyncio.sleep(0.2)
            assert len(server.at("/fail")) == attempt - 1, f"attempt {attempt} came early"
            hooks.clock.skip(1.1)
        await _arrived(server, "/fail", attempt)
        await _recorded(hooks, attempt)
    hooks.clock.skip(48 * 3600)
    await asyncio.sleep(0.3)
    assert len(server.at("/fail")) == len(RETRY_SCHEDULE_S) == 8
    delivery = await _delivery(hooks)
    assert (delivery["status"], delivery["attempts"]) == ("failed", 8)


async def test_429_waits_what_retry_after_asks_without_using_an_attempt(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/throttle"))
    hooks.start_dispatcher()
    await hooks.publish(endpoint.endpoint.partner_id)
    await _arrived(server, "/throttle", 1)
    attempts = await _recorded(hooks, 1)
    delivery = await _delivery(hooks)
    assert (attempts[0]["outcome"], delivery["attempts"], delivery["free_throttles"]) == ("throttled", 0, 1)
    waited = (delivery["available_at"] - attempts[0]["attempted_at"]).total_seconds()
    assert 120 <= waited <= 120 * 1.2 + 1  # Retry-After: 120, jittered upwards only

    hooks.clock.skip(100)  # longer than the schedule's 5 s, shorter than what the receiver asked
    await asyncio.sleep(0.3)
    assert len(server.at("/throttle")) == 1
    hooks.clock.skip(60)
    await _arrived(server, "/throttle", 2)


async def test_410_disables_the_endpoint_and_tells_its_people(hooks: Harness, server: Receiver) -> None:
    told: list[dict[str, Any]] = []

    async def notify(uow: NotificationsUnitOfWork, **facts: Any) -> None:
        told.append(facts)
        await email_rules.notify_endpoint_disabled(uow, **facts)  # the real one, in the same transaction

    endpoint = await hooks.register(server.url("/gone"))
    partner_id = endpoint.endpoint.partner_id
    await hooks.publish(partner_id)
    await hooks.publish(partner_id)
    hooks.start_dispatcher(max_in_flight=1, notify_disabled=notify)
    await _arrived(server, "/gone", 1)

    async def disabled() -> bool:
        async with hooks.uow() as uow:
            found = await uow.webhook_endpoints.get(endpoint.endpoint.id)
        return found is not None and not found.enabled

    await eventually(disabled)
    async with hooks.uow() as uow:
        found = await uow.webhook_endpoints.get(endpoint.endpoint.id)
    assert found is not None and found.disabled_reason == "the endpoint answered 410 Gone"
    assert [(t["endpoint_id"], t["partner_id"], t["reason"]) for t in told] == [
        (endpoint.endpoint.id, partner_id, "the endpoint answered 410 Gone")
    ]
    assert told[0]["url"] == server.url("/gone")
    assert await hooks.statuses() == {"failed": 2}  # the one waiting behind it failed with it
    await asyncio.sleep(0.3)
    assert len(server.at("/gone")) == 1


async def test_an_endpoint_failing_too_long_is_disabled(tmp_path: Path, server: Receiver) -> None:
    told: list[str] = []

    async def notify(uow: NotificationsUnitOfWork, **facts: Any) -> None:
        told.append(facts["reason"])

    async with harness(sqlite_url(tmp_path), WEBHOOK_DISABLE_AFTER_S=3600) as hooks:
        endpoint = await hooks.register(server.url("/fail"))
        hooks.start_dispatcher(notify_disabled=notify)
        await hooks.publish(endpoint.endpoint.partner_id)
        elapsed = 0.0
        for attempt, wait_s in enumerate(RETRY_SCHEDULE_S[:5], start=1):
            hooks.clock.skip(wait_s + 0.1)
            elapsed += wait_s
            await _arrived(server, "/fail", attempt)
            await _recorded(hooks, attempt)
            if elapsed < 3600:
                assert told == [], f"disabled after {elapsed} s"
        assert len(told) == 1 and told[0].startswith("no successful delivery since ")
        async with hooks.uow() as uow:
            found = await uow.webhook_endpoints.get(endpoint.endpoint.id)
        assert found is not None and not found.enabled


async def test_a_success_ends_the_failing_streak(tmp_path: Path, server: Receiver) -> None:
    async with harness(sqlite_url(tmp_path), WEBHOOK_DISABLE_AFTER_S=60) as hooks:
        endpoint = await hooks.register(server.url("/flaky"))
        server.failures_before_success = 1
        hooks.start_dispatcher()
        await hooks.publish(endpoint.endpoint.partner_id)
        await _recorded(hooks, 1)
        hooks.clock.skip(6)
        await _recorded(hooks, 2)
        async with hooks.uow() as uow:
            health = await uow.webhook_deliveries.health(endpoint.endpoint.id)
        assert health.failing_since is None and health.last_success_at is not None
        hooks.clock.skip(120)  # past WEBHOOK_DISABLE_AFTER_S: a new failure starts a new streak
        await hooks.publish(endpoint.endpoint.partner_id)
        await _recorded(hooks, 3)
        async with hooks.uow() as uow:
            found = await uow.webhook_endpoints.get(endpoint.endpoint.id)
            health = await uow.webhook_deliveries.health(endpoint.endpoint.id)
        assert found is not None and found.enabled and health.failing_since is not None


async def test_a_redirect_is_a_failure_and_is_not_followed(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/redirect"))
    hooks.start_dispatcher()
    await hooks.publish(endpoint.endpoint.partner_id)
    attempts = await _recorded(hooks, 1)
    assert (attempts[0]["outcome"], attempts[0]["status_code"]) == ("failed", 302)
    await asyncio.sleep(0.3)
    assert server.at("/ok") == []


async def test_a_timeout_fails_the_attempt_and_waits_at_least_a_minute(tmp_path: Path, server: Receiver) -> None:
    async with harness(sqlite_url(tmp_path), WEBHOOK_TIMEOUT_S=0.3) as hooks:
        endpoint = await hooks.register(server.url("/slow"))
        hooks.start_dispatcher()
        await hooks.publish(endpoint.endpoint.partner_id)
        attempts = await _recorded(hooks, 1)
        assert (attempts[0]["outcome"], attempts[0]["status_code"], attempts[0]["error"]) == (
            "timed_out",
            None,
            "timed out",
        )
        assert attempts[0]["duration_ms"] < 1000
        delivery = await _delivery(hooks)
        assert (delivery["available_at"] - attempts[0]["attempted_at"]) >= timedelta(seconds=60)


async def test_only_a_short_excerpt_of_the_response_is_kept(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/big"))
    hooks.start_dispatcher()
    await hooks.publish(endpoint.endpoint.partner_id)
    attempts = await _recorded(hooks, 1)
    assert attempts[0]["outcome"] == "succeeded" and attempts[0]["response_excerpt"] == "x" * 1024


async def test_a_slow_endpoint_never_delays_the_others(hooks: Harness, server: Receiver) -> None:
    server.slow_s = 6.0
    slow = await hooks.register(server.url("/slow"))
    fast = await hooks.register(server.url("/ok"))
    for _ in range(10):
        await hooks.publish(slow.endpoint.partner_id)
    hooks.start_dispatcher(max_in_flight=2)
    await _arrived(server, "/slow", 2)
    started = time.monotonic()
    for _ in range(10):
        await hooks.publish(fast.endpoint.partner_id)
    await _arrived(server, "/ok", 10, timeout_s=5)
    assert time.monotonic() - started < 3, "the fast endpoint waited for the slow one"
    assert len(server.at("/slow")) == 2, "the slow endpoint's lane holds at most max_in_flight"


async def test_an_endpoints_rate_limit_is_kept(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/ok"), rate_limit_per_s=5)
    for _ in range(15):
        await hooks.publish(endpoint.endpoint.partner_id)
    hooks.start_dispatcher(max_in_flight=8)
    await _arrived(server, "/ok", 15)
    times = sorted(r.at for r in server.at("/ok"))
    # A token bucket: a burst of 5, then one every 0.2 s, so the 15th is about 2 s after the first.
    assert times[-1] - times[0] >= 1.7
    # However the loop is scheduled, no stretch holds more than a burst plus the rate times its length.
    assert all(j - i + 1 <= 5 + 5 * (times[j] - times[i]) + 1 for i in range(15) for j in range(i + 1, 15))


async def test_after_a_rotation_each_delivery_verifies_with_either_secret(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/ok"))
    policy = webhook_endpoints.EndpointPolicy(allow_http=True, allow_loopback=True, secret_overlap_s=3600)
    rotated = await webhook_endpoints.rotate_secret(hooks.uow(), endpoint.endpoint.id, only=None, policy=policy)
    hooks.start_dispatcher()
    await hooks.publish(endpoint.endpoint.partner_id)
    await _arrived(server, "/ok", 1)
    received = server.at("/ok")[0]
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint.secret, rotated.secret):
        Webhook(secret).verify(received.body, received.headers)
    assert rotated.secret != endpoint.secret


async def test_an_address_not_allowed_at_send_time_is_never_contacted(hooks: Harness, server: Receiver) -> None:
    # Registered while loopback was allowed; the sender (as in production) allows it no longer.
    endpoint = await hooks.register(server.url("/ok"))
    hooks.start_dispatcher(allow_loopback=False)
    await hooks.publish(endpoint.endpoint.partner_id)
    attempts = await _recorded(hooks, 1)
    assert attempts[0]["outcome"] == "refused" and attempts[0]["error"].startswith("refused")
    assert server.requests == []


async def test_a_deleted_endpoints_deliveries_fail(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/ok"))
    await hooks.publish(endpoint.endpoint.partner_id)
    await webhook_endpoints.delete(hooks.uow(), endpoint.endpoint.id, only=None)
    hooks.start_dispatcher()

    async def failed() -> bool:
        return await hooks.statuses() == {"failed": 1}

    await eventually(failed)
    assert server.requests == []


async def test_a_stopped_dispatcher_writes_what_it_sent(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/ok"))
    for _ in range(5):
        await hooks.publish(endpoint.endpoint.partner_id)
    hooks.start_dispatcher()
    await _arrived(server, "/ok", 5)
    await hooks.stop_dispatchers()
    assert await hooks.statuses() == {"succeeded": 5}
    assert len(await _attempts(hooks)) == 5


def test_the_body_is_compact_json_of_the_standard_shape() -> None:
    from medic.notifications.service_layer.webhook_messages import body

    text = body("project.approved.v1", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), {"id": uuid.UUID(int=1)})
    assert json.loads(text) == {
        "type": "project.approved.v1",
        "timestamp": "2026-01-02T03:04:05Z",
        "data": {"id": "00000000-0000-0000-0000-000000000001"},
    }
    assert " " not in text


async def test_what_is_past_retention_is_swept(hooks: Harness, server: Receiver) -> None:
    endpoint = await hooks.register(server.url("/ok"))
    partner_id = endpoint.endpoint.partner_id
    await hooks.publish(partner_id)
    dispatcher = hooks.start_dispatcher()
    await _recorded(hooks, 1)
    await hooks.publish(uuid.uuid4())  # another partner's message, stored with no endpoint to go to

    async def written() -> bool:
        return await hooks.statuses() == {"succeeded": 1}

    await eventually(written)
    assert await dispatcher.sweep() == 0  # nothing is old yet
    paused = await hooks.register(server.url("/ok"))
    async with hooks.uow() as uow:
        await uow.webhook_endpoints.set_paused(paused.endpoint.id, True)
        await uow.commit()
    await hooks.publish(paused.endpoint.partner_id)  # waits for the paused endpoint: kept however old
    hooks.clock.skip(31 * 24 * 3600)
    assert await dispatcher.sweep() == 4  # an attempt, a delivery, and the two messages nothing waits for
    assert await hooks.statuses() == {"pending": 1}
    async with hooks.uow() as uow:
        messages = (await uow.connection.execute(select(webhook_messages.c.id))).all()
    assert len(messages) == 1


async def test_a_delivery_claimed_by_a_replica_that_died_goes_out_once_its_lease_ends(
    hooks: Harness, server: Receiver
) -> None:
    endpoint = await hooks.register(server.url("/ok"))
    webhook_id = await hooks.publish(endpoint.endpoint.partner_id)
    now = datetime.now(UTC)
    async with hooks.uow() as uow:  # another replica claims it, then dies before sending or writing anything
        claimed = await uow.webhook_deliveries.claim(
            endpoint.endpoint.id, now, limit=10, lease_until=now + timedelta(seconds=34), token=uuid.uuid4()
        )
        await uow.commit()
    assert len(claimed) == 1
    hooks.start_dispatcher()
    await asyncio.sleep(0.3)
    assert server.requests == [], "sent while another replica's lease ran"
    hooks.clock.skip(35)
    await _arrived(server, "/ok", 1)
    assert server.requests[0].webhook_id == webhook_id
    await _recorded(hooks, 1)

    async def written() -> bool:
        return await hooks.statuses() == {"succeeded": 1}

    await eventually(written)
