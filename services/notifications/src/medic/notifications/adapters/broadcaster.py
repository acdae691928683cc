"""The live tail's fan-out in this process: committed events offered to each stream subscriber.

The events come from the log itself (service_layer/log_follower.py reads what any replica has committed, in log
order), so every replica's streams carry every event, each once. Every subscriber has its own bounded queue, and
its own mark: the log position it has been offered everything up to. It is offered only what lies past its mark,
so the follower may read an event again for a newcomer without anyone getting it twice. Publishing never waits: a
subscriber whose queue is full has fallen too far behind, and is dropped (its stream ends; it can catch up through
`GET /events`).
"""

import asyncio
import contextlib
import itertools
from collections.abc import Sequence

from medic.notifications.domain.model import EventFilter, LoggedEvent
from medic.shared.logging import get_logger

log = get_logger(__name__)

_ids = itertools.count(1)


class StreamSubscription:
    """One subscriber's queue. Read it with `next`; None means the subscription has ended.

    `after`: its mark, the log position it has been offered everything up to; it is offered only later events. It
    starts at the position the stream starts after (the newest entry when it subscribed), and moves on with each
    event offered, wanted or not. None (no start given): whatever is published from now on.
    """

    def __init__(self, event_filter: EventFilter, *, queue_size: int, after: int | None = None) -> None:
        self.id = next(_ids)
        self.filter = event_filter
        self.after = after
        self.closed = False
        self.dropped = False
        self._queue: asyncio.Queue[LoggedEvent | None] = asyncio.Queue(maxsize=queue_size)

    async def next(self, timeout_s: float) -> LoggedEvent | None:
        """The next event, None once the subscription is closed; raises TimeoutError after `timeout_s` idle."""
        if self.closed:
            return None
        async with asyncio.timeout(timeout_s):
            return await self._queue.get()

    def _offer(self, event: LoggedEvent) -> bool:
        """Queues the event if it is past the mark and matches the filter. False: the queue is full."""
        if event.seq is not None:
            if self.after is not None and event.seq <= self.after:
                return True  # offered already, or logged before the stream started
            self.after = event.seq  # moved on first: whatever happens next, it is never offered twice
        if not self.filter.matches(event):
            return True
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            return False
        return True

    def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        # Wakes a reader waiting on an empty queue; one with a full queue is not waiting, and sees `closed`.
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)


class EventBroadcaster:
    def __init__(self, *, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[int, StreamSubscription] = {}
        self.closed = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def earliest_mark(self) -> int | None:
        """The lowest log position a subscriber has been offered everything up to, if any subscriber has a mark."""
        return min((s.after for s in self._subscribers.values() if s.after is not None), default=None)

    def subscribe(self, event_filter: EventFilter | None = None, *, after: int | None = None) -> StreamSubscription:
        """A subscription to events matching `event_filter` (all by default) logged after position `after`."""
        subscription = StreamSubscription(event_filter or EventFilter(), queue_size=self._queue_size, after=after)
        if self.closed:
            subscription._close()
        else:
            self._subscribers[subscription.id] = subscription
        return subscription

    def unsubscribe(self, subscription: StreamSubscription) -> None:
        """End the subscription; safe to call again, or after it was dropped or the broadcaster closed."""
        self._subscribers.pop(subscription.id, None)
        subscription._close()

    def publish(self, events: Sequence[LoggedEvent], *, after: int | None = None) -> None:
        """Offer committed events, in log order, to every subscriber that wants them, without ever waiting for one.

        `after`: the events are everything logged after this position up to the last of them. A subscriber whose
        mark is lower is passed over: it is owed events before these, and gets all of them, in order, from a later
        read that starts at its mark.
        """
        for subscription in list(self._subscribers.values()):
            if after is not None and subscription.after is not None and subscription.after < after:
                continue
            for event in events:
                if not subscription._offer(event):
                    self._subscribers.pop(subscription.id, None)
                    subscription.dropped = True
                    subscription._close()
                    log.warning("stream.subscriber_dropped", subscriber=subscription.id, queue_size=self._queue_size)
                    break

    def close(self) -> None:
        """End every stream (the app is shutting down); later subscriptions end at once."""
        self.closed = True
        subscribers, self._subscribers = list(self._subscribers.values()), {}
        for subscription in subscribers:
            subscription._close()
