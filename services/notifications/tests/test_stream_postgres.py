"""Two replicas on one PostgreSQL database: each one's live tail shows every event, whichever replica's consumer
logged it, once, in log order."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from asgi_lifespan import LifespanManager

from medic.notifications.bootstrap import NotificationsService, build
from medic.notifications.settings import NotificationsSettings
from medic.shared.auth import Role, issue_token
from medic.shared.events import RawEnvelope
from tests import infra
from tests.support import any_organisation

if TYPE_CHECKING:  # conftest is not importable at run time (--import-mode=importlib); fixtures hand these out
    from services.notifications.tests.conftest import EnvelopeFactory, SseCall

pytestmark = pytest.mark.integration

EVENTS_PER_REPLICA = 60
CONCURRENCY_PER_REPLICA = 8
POLL_INTERVAL_S = 0.2


def _settings(url: str, directory: Path) -> NotificationsSettings:
    return NotificationsSettings.model_validate(
        {
            "NOTIFICATIONS_DATABASE_URL": url,
            "NOTIFICATIONS_MAIL_DIR": str(directory / "mail"),
            "NOTIFICATIONS_STREAM_POLL_INTERVAL_S": POLL_INTERVAL_S,
            "BROKER_NAMESPACE": f"test-{uuid.uuid4().hex[:8]}",
        }
    )


def _ids(body: str) -> list[str]:
    """The `id` of each SSE message (comments skipped)."""
    return [line.removeprefix("id: ") for line in body.splitlines() if line.startswith("id: ")]


async def _read_ids(stream: SseCall, ids: list[str], timeout_s: float = 20) -> list[str]:
    """Reads until every one of `ids` has arrived; returns the ids of all messages so far, in order."""
    for event_id in ids:
        await stream.read_until(f"id: {event_id}\n", timeout_s=timeout_s)
    return _ids(stream.body)


async def _log_order(service: NotificationsService, headers: dict[str, str]) -> list[str]:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications.test") as client:
        reply = await client.get("/events", params={"limit": 500}, headers=headers)
    assert reply.status_code == 200, reply.text
    assert not reply.json()["has_more"]
    return [item["id"] for item in reply.json()["items"]]


async def test_each_replica_streams_every_event_once_in_log_order(
    tmp_path: Path, envelope: EnvelopeFactory, sse: type[SseCall]
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(infra.fresh_database_url("postgresql", tmp_path, "notifications"))
        replicas: list[NotificationsService] = []
        for name in ("a", "b"):
            replica = build(_settings(url, tmp_path / name), start_consumer=False)
            await stack.enter_async_context(LifespanManager(replica.app))
            replicas.append(replica)
        a, b = replicas
        roles = (Role.OPS,)
        token = issue_token(a.settings, roles=roles, organisation_id=any_organisation(roles))
        ops = {"Authorization": f"Bearer {token}"}

        history = envelope()  # logged before any stream starts: no stream replays it
        assert await a.consumer.consumer.handle(history)

        streams = [sse(replica.app, "/events/stream", headers=ops) for replica in replicas]
        for stream in streams:
            assert (await stream.start())["status"] == 200

        # One event, logged by A's consumer alone, reaches B's stream (and A's).
        first = envelope()
        assert await a.consumer.consumer.handle(first)
        for stream in streams:
            assert await _read_ids(stream, [str(first.id)]) == [str(first.id)]

        # Both consumers at once, the way two replicas share a queue: commits interleave. Were entries not committed
        # in `seq` order (the advisory lock in EventLogRepository.add), a follower could pass one that commits late,
        # and the streams would miss it or show it out of order.
        batches: dict[str, list[RawEnvelope]] = {"a": [], "b": []}
        for _ in range(EVENTS_PER_REPLICA):
            for name in batches:
                batches[name].append(envelope())

        async def consume(replica: NotificationsService, items: list[RawEnvelope]) -> None:
            # A few at a time, like a consumer's prefetch, and within the connections a shared server has spare.
            slots = asyncio.Semaphore(CONCURRENCY_PER_REPLICA)

            async def handle(item: RawEnvelope) -> None:
                async with slots:
                    await replica.consumer.consumer.handle(item)

            await asyncio.gather(*(handle(item) for item in items))

        await asyncio.gather(consume(a, batches["a"]), consume(b, batches["b"]))
        # A redelivery to the other replica logs nothing, so streams nothing.
        assert not await b.consumer.consumer.handle(batches["a"][0])

        log_order = await _log_order(a, ops)
        assert log_order[0] == str(history.id)
        expected = log_order[1:]  # everything logged after the streams started, in `seq` order
        assert Counter(expected) == Counter(str(e.id) for e in [first, *batches["a"], *batches["b"]])
        for stream in streams:
            assert await _read_ids(stream, expected) == expected

        # Nothing more comes, after several polls: no event is offered twice.
        for stream in streams:
            with pytest.raises(TimeoutError):
                await stream.read_until("never sent", timeout_s=4 * POLL_INTERVAL_S)
            assert _ids(stream.body) == expected
        for stream in streams:
            await stream.disconnect()
        assert a.broadcaster.subscriber_count == b.broadcaster.subscriber_count == 0
