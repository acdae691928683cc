"""Endpoint health with two replicas: a success one replica records ends the failing streak another replica
noted, even while the first only rewrites a healthy endpoint's state now and then; else the stale streak would
disable a healthy endpoint at its next failure, days later."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medic.notifications.adapters.webhook_deliveries_repository import Claimed, Health
from medic.notifications.adapters.webhook_sender import SendResult, WebhookSender
from medic.notifications.domain.webhook_delivery import Outcome
from medic.notifications.service_layer.webhook_dispatcher import WebhookDispatcher, _Sent
from services.notifications.tests.webhook_delivery_support import Harness, harness
from tests import infra

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OK = SendResult(Outcome.SUCCEEDED, 200, 5.0, "ok", None, None)
BOOM = SendResult(Outcome.FAILED, 500, 5.0, "boom", "HTTP 500", None)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_success_on_one_replica_ends_a_streak_another_noted(backend: str, tmp_path: Path) -> None:
    async with infra.fresh_database_url(backend, tmp_path, "notifications") as url, harness(url) as hooks:
        registered = await hooks.register("http://127.0.0.1:9/hook")
        endpoint = registered.endpoint
        clock = {"now": T0}

        def replica() -> WebhookDispatcher:
            return WebhookDispatcher(
                hooks.uow,
                WebhookSender(timeout_s=1, allow_loopback=True),
                max_in_flight=4,
                timeout_s=1,
                disable_after_s=5 * 24 * 3600,
                poll_interval_s=1,
                notify_disabled=_no_one,
                clock=lambda: clock["now"],
            )

        def sent(result: SendResult, at: datetime) -> _Sent:
            claimed = Claimed(uuid.uuid4(), uuid.uuid4(), endpoint.id, 0, 0)
            return _Sent(claimed, uuid.uuid4(), endpoint, at, result)

        first, second = replica(), replica()
        await first.record([sent(OK, T0)])  # written: healthy
        clock["now"] = T0 + timedelta(seconds=1)
        await second.record([sent(BOOM, clock["now"])])  # a streak begins
        clock["now"] = T0 + timedelta(seconds=2)
        await first.record([sent(OK, clock["now"])])  # within its quiet interval: the streak must still end
        assert (await _health(hooks, endpoint.id)).failing_since is None

        clock["now"] = T0 + timedelta(days=6)  # one failure, long after that success
        await second.record([sent(BOOM, clock["now"])])
        async with hooks.uow() as uow:
            found = await uow.webhook_endpoints.get(endpoint.id)
        assert found is not None and found.enabled


async def _no_one(*_: object, **__: object) -> None:
    raise AssertionError("no endpoint is disabled here")


async def _health(hooks: Harness, endpoint_id: uuid.UUID) -> Health:
    async with hooks.uow() as uow:
        return await uow.webhook_deliveries.health(endpoint_id)
