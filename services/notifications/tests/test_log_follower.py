"""The log follower: what it reads from the log, and what it offers the streams (the log is faked here)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest

from medic.notifications.adapters.broadcaster import EventBroadcaster, StreamSubscription
from medic.notifications.domain.model import EventFilter, LoggedEvent
from medic.notifications.service_layer import log_follower as log_follower_module
from medic.notifications.service_layer.log_follower import LogFollower
from services.notifications.tests.event_log_support import logged


class FakeLog:
    """The committed log, as `EventLogReader`; records every read. `during_newest` runs inside `newest_seq` before
    it reads, and `during_read` inside `read_after`, as if it happened while the query was on its way."""

    def __init__(self) -> None:
        self.entries: list[LoggedEvent] = []
        self.reads: list[tuple[str, int | None]] = []
        self.during_newest: Callable[[], None] | None = None
        self.during_read: Callable[[], None] | None = None
        self.failing = False

    def append(self, count: int = 1, **fields: str) -> list[LoggedEvent]:
        start = self.entries[-1].seq if self.entries and self.entries[-1].seq else 0
        added = [logged(seq=start + n + 1, **fields) for n in range(count)]
        self.entries += added
        return added

    async def newest_seq(self) -> int:
        self.reads.append(("newest", None))
        if self.failing:
            raise ConnectionError("the database went away")
        if self.during_newest is not None:
            self.during_newest()
        return max((e.seq or 0 for e in self.entries), default=0)

    async def read_after(self, seq: int, *, limit: int) -> Sequence[LoggedEvent]:
        self.reads.append(("after", seq))
        if self.failing:
            raise ConnectionError("the database went away")
        if self.during_read is not None:
            self.during_read()
        return [e for e in self.entries if (e.seq or 0) > seq][:limit]


def drain(subscription: StreamSubscription) -> list[LoggedEvent]:
    """Everything queued for the subscription now (never waits)."""
    taken = []
    while not subscription._queue.empty():
        item = subscription._queue.get_nowait()
        assert item is not None, "the subscription ended"
        taken.append(item)
    return taken


def follower(
    log: FakeLog, broadcaster: EventBroadcaster, *, poll_interval_s: float = 60, batch_size: int = 500
) -> LogFollower:
    return LogFollower(log, broadcaster, poll_interval_s=poll_interval_s, batch_size=batch_size)


async def test_with_nobody_subscribed_it_only_notes_the_newest_position() -> None:
    log, broadcaster = FakeLog(), EventBroadcaster()
    log.append(3)
    tail = follower(log, broadcaster)
    assert await tail.follow() == 0
    log.append(2)
    assert await tail.follow() == 0
    assert log.reads == [("newest", None), ("newest", None)]  # no entry was read
    assert tail.position == 5

    subscription = broadcaster.subscribe()
    later = log.append(1)
    assert await tail.follow() == 1
    assert drain(subscription) == later  # none of the history before it subscribed
    assert log.reads[-1] == ("after", 5)


async def test_it_catches_up_in_batches_in_log_order_each_event_once() -> None:
    log, broadcaster = FakeLog(), EventBroadcaster(queue_size=2000)
    tail = follower(log, broadcaster, batch_size=500)
    await tail.follow()
    subscription = broadcaster.subscribe()
    added = log.append(1200)
    assert await tail.follow() == 1200
    assert [read for read in log.reads if read[0] == "after"] == [("after", 0), ("after", 500), ("after", 1000)]
    assert drain(subscription) == added
    assert await tail.follow() == 0  # caught up: nothing is offered again
    assert drain(subscription) == []


async def test_erased_entries_are_simply_not_there() -> None:
    log, broadcaster = FakeLog(), EventBroadcaster()
    tail = follower(log, broadcaster)
    await tail.follow()
    subscription = broadcaster.subscribe()
    first, erased, last = log.append(3)
    log.entries.remove(erased)
    await tail.follow()
    assert drain(subscription) == [first, last]


async def test_a_subscriber_that_comes_while_it_reads_the_newest_position_misses_nothing() -> None:
    log, broadcaster = FakeLog(), EventBroadcaster()
    tail = follower(log, broadcaster)
    log.append(2)
    await tail.follow()
    subscriptions: list[StreamSubscription] = []

    def somebody_comes() -> None:
        subscriptions.append(broadcaster.subscribe())
        log.append(1)  # committed after it subscribed: the position read next includes it

    log.during_newest = somebody_comes
    assert await tail.follow() == 1
    [subscription] = subscriptions
    # It reads on from where it was, rather than passing over what the newcomer is owed.
    assert [e.seq for e in drain(subscription)] == [3]
    assert log.reads[-2:] == [("newest", None), ("after", 2)]


@pytest.mark.parametrize("other_stream_open", [False, True], ids=["alone", "beside-another-stream"])
async def test_a_stream_gets_what_was_committed_while_it_was_subscribing(other_stream_open: bool) -> None:
    # `GET /events/stream`: read the newest position, then subscribe after it. The follower may have its round in
    # between and read past that position: passing over it (nobody subscribed) or passing it on (to other streams).
    log, broadcaster = FakeLog(), EventBroadcaster()
    tail = follower(log, broadcaster)
    log.append(2)
    other = broadcaster.subscribe(after=2) if other_stream_open else None
    await tail.follow()

    start = await log.newest_seq()  # the handler reads the newest position
    owed = log.append(1)  # another replica commits
    await tail.follow()  # the follower's round, while the handler is on its way to subscribing
    subscription = broadcaster.subscribe(after=start)
    later = log.append(1)
    await tail.follow()

    assert drain(subscription) == owed + later
    if other is not None:
        assert drain(other) == owed + later  # each once, though the follower read the first one again
    assert await tail.follow() == 0


async def test_a_stream_that_subscribes_while_it_reads_past_the_stream_s_start_gets_everything_in_order() -> None:
    log, broadcaster = FakeLog(), EventBroadcaster()
    tail = follower(log, broadcaster)
    log.append(2)
    other = broadcaster.subscribe(after=2)
    await tail.follow()

    start = await log.newest_seq()  # the handler reads the newest position: 2
    first = log.append(1)
    await tail.follow()  # passes 3 on to the other stream
    second = log.append(1)
    subscriptions: list[StreamSubscription] = []

    def somebody_comes() -> None:
        subscriptions.append(broadcaster.subscribe(after=start))  # after 2, while it reads after 3

    log.during_read = somebody_comes
    await tail.follow()
    log.during_read = None
    [subscription] = subscriptions
    assert drain(subscription) == []  # not 4 before 3: it gets both from the next read
    await tail.follow()
    assert log.reads[-1] == ("after", 2)
    assert drain(subscription) == first + second
    assert drain(other) == first + second


async def test_a_filtered_stream_does_not_hold_the_follower_back() -> None:
    log, broadcaster = FakeLog(), EventBroadcaster()
    tail = follower(log, broadcaster)
    await tail.follow()
    subscription = broadcaster.subscribe(EventFilter(type="projects.project.started.v1"), after=0)
    log.append(3)
    assert await tail.follow() == 3
    assert drain(subscription) == []
    assert await tail.follow() == 0
    assert log.reads[-1] == ("after", 3)  # not again from its start: it was offered what it did not want


async def test_a_subscriber_gets_only_what_comes_after_its_start() -> None:
    log, broadcaster = FakeLog(), EventBroadcaster()
    tail = follower(log, broadcaster)
    await tail.follow()
    log.append(3)  # logged since the follower last looked, before the subscriber's start
    subscription = broadcaster.subscribe(after=3)
    later = log.append(2)
    await tail.follow()
    assert drain(subscription) == later


async def test_its_first_round_starts_where_the_earliest_subscriber_does() -> None:
    log, broadcaster = FakeLog(), EventBroadcaster()
    log.append(2)
    early = broadcaster.subscribe(after=2)  # a stream that started before the follower's first read
    later = log.append(3)
    tail = follower(log, broadcaster)
    await tail.follow()
    assert drain(early) == later


async def test_a_failed_read_or_publish_loses_nothing_and_offers_nothing_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log, broadcaster = FakeLog(), EventBroadcaster()
    tail = follower(log, broadcaster)
    await tail.follow()
    subscription = broadcaster.subscribe()
    added = log.append(2)
    log.failing = True
    with pytest.raises(ConnectionError):
        await tail.follow()
    log.failing = False
    assert await tail.follow() == 2
    assert drain(subscription) == added

    publish = broadcaster.publish

    def explode(events: Sequence[LoggedEvent], *, after: int | None = None) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(broadcaster, "publish", explode)
    missed = log.append(1)
    with pytest.raises(RuntimeError):
        await tail.follow()
    monkeypatch.undo()
    later = log.append(1)
    await tail.follow()
    assert drain(subscription) == missed + later  # it goes back for what the subscriber was not offered

    def offer_then_explode(events: Sequence[LoggedEvent], *, after: int | None = None) -> None:
        publish(events, after=after)
        raise RuntimeError("boom")

    monkeypatch.setattr(broadcaster, "publish", offer_then_explode)
    offered = log.append(1)
    with pytest.raises(RuntimeError):
        await tail.follow()
    monkeypatch.undo()
    later = log.append(1)
    await tail.follow()
    assert drain(subscription) == offered + later  # what it was offered is not offered again


async def test_a_wake_brings_a_round_at_once_and_stop_ends_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    warnings: list[str] = []

    class RecordingLog:
        def info(self, event: str, **fields: object) -> None:
            pass

        def warning(self, event: str, **fields: object) -> None:
            warnings.append(event)

    monkeypatch.setattr(log_follower_module, "log", RecordingLog())
    log, broadcaster = FakeLog(), EventBroadcaster()
    tail = follower(log, broadcaster, poll_interval_s=60)
    running = asyncio.create_task(tail.run())
    try:
        subscription = broadcaster.subscribe()
        await asyncio.sleep(0.05)  # the first round is done; the next poll is a minute away
        added = log.append(2)
        tail.wake()
        assert [await subscription.next(1) for _ in added] == added

        log.failing = True  # a failing round is logged, and the loop goes on
        tail.wake()
        await asyncio.sleep(0.05)
        assert warnings == ["log_follower.round_failed"]
        log.failing = False
        later = log.append(1)
        tail.wake()
        assert await subscription.next(1) == later[0]
    finally:
        tail.stop()
        await asyncio.wait_for(running, 1)


async def test_it_polls_for_what_other_replicas_log() -> None:
    log, broadcaster = FakeLog(), EventBroadcaster()
    tail = follower(log, broadcaster, poll_interval_s=0.05)
    running = asyncio.create_task(tail.run())
    try:
        subscription = broadcaster.subscribe()
        await asyncio.sleep(0.1)
        added = log.append(1)  # no wake: logged by another process
        assert await subscription.next(1) == added[0]
    finally:
        tail.stop()
        await asyncio.wait_for(running, 1)


async def test_a_wake_with_nobody_subscribed_costs_nothing() -> None:
    log, broadcaster = FakeLog(), EventBroadcaster()
    tail = follower(log, broadcaster, poll_interval_s=60)
    running = asyncio.create_task(tail.run())
    try:
        await asyncio.sleep(0.05)
        reads = len(log.reads)
        tail.wake()
        await asyncio.sleep(0.05)
        assert len(log.reads) == reads
    finally:
        tail.stop()
        await asyncio.wait_for(running, 1)
