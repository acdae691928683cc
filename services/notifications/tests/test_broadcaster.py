"""The in-process broadcaster: events reach live subscribers only once committed (the log follower reads them back
from the log); slow ones are dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from medic.notifications.adapters import broadcaster as broadcaster_module
from medic.notifications.adapters.broadcaster import EventBroadcaster, StreamSubscription
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.bootstrap import NotificationsService
from medic.notifications.domain.model import EventFilter, LoggedEvent
from medic.notifications.entrypoints.consumers import CONSUMER_NAME
from medic.notifications.service_layer import handlers
from medic.shared.consumer import EventConsumer, Subscription
from medic.shared.events import RawEnvelope
from medic.shared.topology import ALL_EVENTS
from medic.shared.uow import UnitOfWork
from services.notifications.tests.event_log_support import logged

if TYPE_CHECKING:  # conftest is not importable at run time (--import-mode=importlib); fixtures hand these out
    from services.notifications.tests.conftest import DeliverTo, EnvelopeFactory, ServiceWith


async def nothing_pending(subscription: StreamSubscription) -> bool:
    try:
        await subscription.next(0.05)
    except TimeoutError:
        return True
    return False


async def next_event(subscription: StreamSubscription, timeout_s: float) -> LoggedEvent:
    """The subscription's next event; the test fails if the subscription ends instead."""
    event = await subscription.next(timeout_s)
    assert event is not None, "the subscription ended"
    return event


async def test_a_logged_event_is_streamed_only_once_its_transaction_commits(
    service_with: ServiceWith, envelope: EnvelopeFactory
) -> None:
    # The poll is far off: only the commit's wake-up can bring the event out within the test's second.
    service = await service_with(NOTIFICATIONS_STREAM_POLL_INTERVAL_S=60)
    subscription = service.broadcaster.subscribe()
    event = envelope()
    uow: NotificationsUnitOfWork = service.app.state.uow_factory()
    async with uow:
        await handlers.record_event(event.data, event, uow)
        assert await nothing_pending(subscription)
        await uow.commit()
    pushed = await subscription.next(1)
    assert pushed is not None and pushed.id == event.id
    assert await nothing_pending(subscription)


async def test_a_rolled_back_event_is_never_pushed(
    service: NotificationsService, envelope: EnvelopeFactory, client: httpx.AsyncClient, ops: dict[str, str]
) -> None:
    subscription = service.broadcaster.subscribe()
    event = envelope()
    uow: NotificationsUnitOfWork = service.app.state.uow_factory()
    async with uow:
        await handlers.record_event(event.data, event, uow)
        await uow.rollback()
    async with uow:  # reusing the unit of work commits nothing of the rolled-back use
        await uow.commit()
    assert await nothing_pending(subscription)
    assert (await client.get("/events", headers=ops)).json()["items"] == []


async def test_a_failing_handler_pushes_nothing_and_the_redelivery_pushes_once(
    service: NotificationsService, envelope: EnvelopeFactory, client: httpx.AsyncClient, ops: dict[str, str]
) -> None:
    subscription = service.broadcaster.subscribe()
    uow_factory: Callable[[], NotificationsUnitOfWork] = service.app.state.uow_factory

    async def record_then_fail(data: dict[str, Any], env: RawEnvelope, uow: UnitOfWork) -> None:
        await handlers.record_event(data, env, uow)
        raise RuntimeError("the database went away")

    failing = EventConsumer(CONSUMER_NAME, uow_factory, {ALL_EVENTS: Subscription(None, record_then_fail)})
    event = envelope()
    with pytest.raises(RuntimeError):
        await failing.handle(event)
    assert await nothing_pending(subscription)
    assert (await client.get("/events", headers=ops)).json()["items"] == []

    consumer = service.consumer.consumer
    assert await consumer.handle(event) is True
    assert await consumer.handle(event) is False  # a duplicate: neither logged nor pushed again
    pushed = await subscription.next(1)
    assert pushed is not None and pushed.id == event.id
    assert await nothing_pending(subscription)


async def test_subscribers_get_only_what_matches_their_filter(
    service: NotificationsService, envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    everything = service.broadcaster.subscribe()
    started = service.broadcaster.subscribe(EventFilter(type="projects.project.started.v1"))
    outreach = service.broadcaster.subscribe(EventFilter(source="/services/outreach", subject="s/1"))
    a = envelope()
    b = envelope(type="projects.project.started.v1")
    c = envelope(type="outreach.session.booked.v1", source="/services/outreach", subject="s/1")
    d = envelope(type="outreach.session.booked.v1", source="/services/outreach", subject="s/2")
    await deliver_to(a, b, c, d)
    assert [(await next_event(everything, 1)).id for _ in range(4)] == [a.id, b.id, c.id, d.id]
    assert (await next_event(started, 1)).id == b.id
    assert (await next_event(outreach, 1)).id == c.id
    for subscription in (everything, started, outreach):
        assert await nothing_pending(subscription)


async def test_an_overflowing_subscriber_is_dropped_without_holding_up_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warnings: list[tuple[str, dict[str, Any]]] = []

    class RecordingLog:
        def warning(self, event: str, **fields: Any) -> None:
            warnings.append((event, fields))

    monkeypatch.setattr(broadcaster_module, "log", RecordingLog())
    broadcaster = EventBroadcaster(queue_size=2)
    slow = broadcaster.subscribe()
    fast = broadcaster.subscribe()
    filtered = broadcaster.subscribe(EventFilter(type="projects.project.started.v1"))
    events = [logged() for _ in range(3)]

    for event in events:
        broadcaster.publish([event])  # never waits, however far behind a subscriber is
        assert (await next_event(fast, 1)).id == event.id

    assert slow.dropped and slow.closed
    assert await slow.next(1) is None  # its stream ends at once, buffered events and all
    assert not fast.dropped and not filtered.dropped  # events it does not want do not fill its queue
    assert broadcaster.subscriber_count == 2
    assert warnings == [("stream.subscriber_dropped", {"subscriber": slow.id, "queue_size": 2})]
    assert "data" not in str(warnings)

    later = logged()
    broadcaster.publish([later])
    assert (await next_event(fast, 1)).id == later.id


async def test_a_batch_larger_than_the_queue_drops_the_subscriber_once() -> None:
    broadcaster = EventBroadcaster(queue_size=2)
    subscription = broadcaster.subscribe()
    broadcaster.publish([logged() for _ in range(5)])
    assert subscription.dropped
    assert broadcaster.subscriber_count == 0


async def test_closing_ends_waiting_and_future_subscribers() -> None:
    broadcaster = EventBroadcaster()
    subscription = broadcaster.subscribe()
    waiting = asyncio.create_task(subscription.next(5))
    await asyncio.sleep(0)
    broadcaster.close()
    assert await asyncio.wait_for(waiting, 1) is None
    assert broadcaster.subscriber_count == 0
    assert await broadcaster.subscribe().next(5) is None


async def test_unsubscribing_stops_delivery() -> None:
    broadcaster = EventBroadcaster()
    subscription = broadcaster.subscribe()
    broadcaster.unsubscribe(subscription)
    broadcaster.publish([logged()])
    assert await subscription.next(1) is None
    assert broadcaster.subscriber_count == 0


async def test_unsubscribing_again_or_after_the_subscription_ended_is_harmless() -> None:
    broadcaster = EventBroadcaster(queue_size=1)
    subscription, other = broadcaster.subscribe(), broadcaster.subscribe()
    broadcaster.unsubscribe(subscription)
    broadcaster.unsubscribe(subscription)
    assert broadcaster.subscriber_count == 1
    broadcaster.publish([logged(), logged()])  # `other` is dropped
    assert other.dropped
    broadcaster.unsubscribe(other)
    late = broadcaster.subscribe()
    broadcaster.close()
    broadcaster.unsubscribe(late)
    assert broadcaster.subscriber_count == 0
    assert await late.next(1) is None


async def test_a_broadcast_failure_neither_fails_the_handling_nor_stops_the_tail(
    service: NotificationsService,
    envelope: EnvelopeFactory,
    client: httpx.AsyncClient,
    ops: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subscription = service.broadcaster.subscribe()
    failed = asyncio.Event()

    def explode(events: Sequence[LoggedEvent], *, after: int | None = None) -> None:
        failed.set()
        raise RuntimeError("boom")

    monkeypatch.setattr(service.broadcaster, "publish", explode)
    event = envelope()
    assert await service.consumer.consumer.handle(event) is True
    await asyncio.wait_for(failed.wait(), 2)
    assert [item["id"] for item in (await client.get("/events", headers=ops)).json()["items"]] == [str(event.id)]

    monkeypatch.undo()
    later = envelope()
    assert await service.consumer.consumer.handle(later) is True
    assert (await next_event(subscription, 2)).id == later.id  # the one that failed is not offered again
    assert await nothing_pending(subscription)


async def test_a_subscriber_is_offered_only_what_lies_past_its_mark_each_event_once() -> None:
    broadcaster = EventBroadcaster()
    subscription = broadcaster.subscribe(EventFilter(type="projects.project.started.v1"), after=1)
    first, skipped, started = logged(seq=1), logged(seq=2), logged("projects.project.started.v1", seq=3)
    broadcaster.publish([first, skipped, started], after=0)
    assert (await next_event(subscription, 1)).id == started.id
    assert subscription.after == 3
    broadcaster.publish([skipped, started], after=1)  # read again for another subscriber: not offered twice
    assert await nothing_pending(subscription)
    broadcaster.publish([logged("projects.project.started.v1", seq=5)], after=4)  # past its mark, with a gap
    assert await nothing_pending(subscription)  # it gets 4 and 5 from a read that starts at its mark
    assert subscription.after == 3
