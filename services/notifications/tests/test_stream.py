"""`GET /events/stream`: the live tail as Server-Sent Events, and how it ends."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import TYPE_CHECKING

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from medic.notifications.adapters.broadcaster import EventBroadcaster
from medic.notifications.bootstrap import NotificationsService, build, streams_end_on_exit_signal
from medic.notifications.entrypoints.http import events
from medic.notifications.settings import NotificationsSettings
from services.notifications.tests.event_log_support import logged

if TYPE_CHECKING:  # conftest is not importable at run time (--import-mode=importlib); fixtures hand these out
    from services.notifications.tests.conftest import DeliverTo, EnvelopeFactory, ServiceWith, SseCall


def _messages(body: str) -> list[dict[str, str]]:
    """Parse SSE messages (comments skipped)."""
    messages = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if fields:
            messages.append(fields)
    return messages


async def test_committed_events_are_streamed_as_server_sent_events(
    service: NotificationsService,
    client: httpx.AsyncClient,
    ops: dict[str, str],
    envelope: EnvelopeFactory,
    deliver_to: DeliverTo,
    sse: type[SseCall],
) -> None:
    stream = sse(service.app, "/events/stream", headers=ops, query="source=%2Fservices%2Foutreach")
    start = await stream.start()
    assert start["status"] == 200
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["cache-control"] == "no-cache"

    skipped = envelope()
    wanted = envelope(
        type="outreach.session.booked.v1",
        source="/services/outreach",
        subject="s/7",
        data={"session_id": "s-7", "school": "Hillside", "contact_email": "head@hillside.example"},
    )
    await deliver_to(skipped, wanted)
    body = await stream.read_until("\n\n")

    # Each message carries the same item `GET /events` returns.
    reply = await client.get("/events", params={"type": wanted.type}, headers=ops)
    [item] = reply.json()["items"]
    [message] = _messages(body)
    assert body == f"id: {wanted.id}\nevent: outreach.session.booked.v1\ndata: {message['data']}\n\n"
    assert json.loads(message["data"]) == item
    assert item["data"] == {"session_id": "s-7"}  # a type the log has no allow-list for keeps its ids only
    assert str(skipped.id) not in body

    assert service.broadcaster.subscriber_count == 1
    await stream.disconnect()
    assert service.broadcaster.subscriber_count == 0


async def test_type_and_subject_filters_apply_to_the_stream(
    service: NotificationsService,
    ops: dict[str, str],
    envelope: EnvelopeFactory,
    deliver_to: DeliverTo,
    sse: type[SseCall],
) -> None:
    stream = sse(service.app, "/events/stream", headers=ops, query="type=projects.project.started.v1&subject=p%2F2")
    await stream.start()
    a = envelope(type="projects.project.started.v1", subject="p/1")
    b = envelope(type="projects.project.started.v1", subject="p/2")
    c = envelope(subject="p/2")
    await deliver_to(a, b, c)
    body = await stream.read_until("\n\n")
    assert [m["id"] for m in _messages(body)] == [str(b.id)]
    await stream.disconnect()
    assert service.broadcaster.subscriber_count == 0


async def test_a_stream_starts_after_what_is_logged_already(
    service_with: ServiceWith, ops: dict[str, str], envelope: EnvelopeFactory, sse: type[SseCall]
) -> None:
    # Polled rarely, the log follower has not read past the earlier events when the stream starts: they are in
    # its next read, and the stream must still leave them out.
    service = await service_with(NOTIFICATIONS_STREAM_POLL_INTERVAL_S=60)
    for earlier in (envelope(), envelope()):
        await service.consumer.consumer.handle(earlier)
    stream = sse(service.app, "/events/stream", headers=ops)
    await stream.start()
    later = envelope()
    await service.consumer.consumer.handle(later)
    body = await stream.read_until("\n\n")
    assert [m["id"] for m in _messages(body)] == [str(later.id)]
    await stream.disconnect()


def _without_middleware(service: NotificationsService) -> FastAPI:
    """The same routes and state with no middleware in front. The request middleware runs the response in a
    task of its own, which happens to take the stream to its first step before the disconnect reaches it."""
    app = FastAPI()
    app.state = service.app.state
    app.include_router(events.router)
    return app


@pytest.mark.parametrize(
    ("through_middleware", "spec_version", "stalled_send", "error"),
    [
        # The response sends its start, and the server's `send` raises: the stream never takes a step.
        (False, "2.4", False, ClientDisconnect),
        # The start is stuck in `send` when the response hears the disconnect, and cancels the stream.
        (False, "2.3", True, None),
        # The whole app, as served: the request middleware passes the server's error on.
        (True, "2.4", False, OSError),
    ],
    ids=["send-raises", "send-stalls", "whole-app"],
)
async def test_a_client_gone_before_the_stream_starts_leaves_no_subscriber(
    service: NotificationsService,
    ops: dict[str, str],
    sse: type[SseCall],
    through_middleware: bool,
    spec_version: str,
    stalled_send: bool,
    error: type[Exception] | None,
) -> None:
    app = service.app if through_middleware else _without_middleware(service)
    stream = sse(app, "/events/stream", headers=ops, spec_version=spec_version, stalled_send=stalled_send)
    raised = await stream.gone_before_it_starts()
    assert (type(raised) is error) if error else raised is None, repr(raised)
    assert service.broadcaster.subscriber_count == 0


async def test_an_idle_stream_sends_keepalive_comments(
    service_with: ServiceWith, ops: dict[str, str], sse: type[SseCall]
) -> None:
    service = await service_with(NOTIFICATIONS_STREAM_KEEPALIVE_S=0.05)
    stream = sse(service.app, "/events/stream", headers=ops)
    await stream.start()
    body = await stream.read_until(": keepalive\n\n: keepalive\n\n", timeout_s=2)
    assert set(body.split("\n\n")) == {": keepalive", ""}
    await stream.disconnect()
    assert service.broadcaster.subscriber_count == 0


async def test_the_default_keepalive_is_15_seconds(service: NotificationsService) -> None:
    assert service.app.state.stream_keepalive_s == 15.0


def test_the_log_is_polled_every_half_second_by_default_and_the_interval_must_be_positive() -> None:
    assert NotificationsSettings().stream_poll_interval_s == 0.5
    for wrong in (0, -1):
        with pytest.raises(ValidationError, match="NOTIFICATIONS_STREAM_POLL_INTERVAL_S"):
            NotificationsSettings.model_validate({"NOTIFICATIONS_STREAM_POLL_INTERVAL_S": wrong})


async def test_the_stream_ends_cleanly_when_the_app_shuts_down(
    settings: NotificationsSettings, ops: dict[str, str], sse: type[SseCall]
) -> None:
    service = build(settings, start_consumer=False)
    async with LifespanManager(service.app) as manager:
        stream = sse(manager.app, "/events/stream", headers=ops)
        await stream.start()
        assert service.broadcaster.subscriber_count == 1
    # Leaving the lifespan closed the broadcaster: the response completed without any disconnect.
    assert await stream.read_to_end(timeout_s=2) == ""
    assert stream.task is not None
    await asyncio.wait_for(stream.task, 2)
    assert stream.task.exception() is None
    assert service.broadcaster.subscriber_count == 0


async def test_a_dropped_subscriber_s_stream_ends(
    service_with: ServiceWith, ops: dict[str, str], sse: type[SseCall]
) -> None:
    service = await service_with(NOTIFICATIONS_STREAM_QUEUE_SIZE=1)
    stream = sse(service.app, "/events/stream", headers=ops)
    await stream.start()
    service.broadcaster.publish([logged(), logged()])  # two at once into a queue of one
    await stream.read_to_end(timeout_s=2)
    assert stream.finished
    assert service.broadcaster.subscriber_count == 0


async def test_an_exit_signal_ends_the_streams_and_reaches_the_server_s_handler() -> None:
    broadcaster = EventBroadcaster()
    subscription = broadcaster.subscribe()
    received: list[int] = []
    original = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        with streams_end_on_exit_signal(broadcaster):
            assert signal.getsignal(signal.SIGTERM) is not original
            signal.raise_signal(signal.SIGTERM)
            assert await asyncio.wait_for(subscription.next(5), 1) is None
            assert broadcaster.closed
            assert received == [signal.SIGTERM]
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler)
        handler(signal.SIGTERM, None)  # restored: the server's handler alone
        assert received == [signal.SIGTERM, signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, original)


async def test_a_default_signal_action_is_left_alone() -> None:
    original = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with streams_end_on_exit_signal(EventBroadcaster()):
            assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, original)
