"""The ops event log, and a live tail of it.

The tail follows the database (service_layer/log_follower.py), not this process's consumer: every replica's
stream carries every event in the log, in log order, each once, within about NOTIFICATIONS_STREAM_POLL_INTERVAL_S
of its commit on another replica (at once for one logged here).
"""

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.types import Receive, Scope, Send

from medic.notifications.adapters.broadcaster import EventBroadcaster, StreamSubscription
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain.model import (
    MAX_PAGE_SIZE,
    Cursor,
    EventFilter,
    EventLogQuery,
    InvalidQuery,
    LoggedEvent,
)
from medic.notifications.entrypoints.http.dependencies import unit_of_work
from medic.notifications.service_layer import handlers
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http_fields import NO_CONTROL_CHARACTERS, Rfc3339DateTime

router = APIRouter(tags=["events"])

Ops = Annotated[Principal, Depends(require_roles(Role.OPS))]


def _exact_match(description: str, *, alias: str | None = None) -> Any:
    return Query(alias=alias, description=description, max_length=500, pattern=NO_CONTROL_CHARACTERS)


TypeFilter = Annotated[str | None, _exact_match("Exact event type", alias="type")]
SourceFilter = Annotated[str | None, _exact_match("Exact event source, e.g. `/services/projects`")]
SubjectFilter = Annotated[str | None, _exact_match("Exact event subject")]
# Opaque to clients, so the document names a format of its own: only a `next_cursor` is one.
CURSOR_FORMAT = "event-log-cursor"


class EventOut(BaseModel):
    id: uuid.UUID
    type: str
    source: str
    subject: str | None
    time: datetime
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    received_at: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, event: LoggedEvent) -> "EventOut":
        return cls(
            id=event.id,
            type=event.type,
            source=event.source,
            subject=event.subject,
            time=event.time,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            received_at=event.received_at,
            data=event.data,
        )


class EventPageOut(BaseModel):
    items: list[EventOut]
    next_cursor: str | None = Field(
        description="Pass it back as `cursor` for what comes next: after the last page too, to resume later and get "
        "only what arrived since. Null only when nothing has been read yet (an empty page asked without a cursor); "
        "an empty page asked with a cursor answers that cursor."
    )
    has_more: bool = Field(description="Whether more events were there to read already: ask again at once.")


def _query_errors(problems: Sequence[InvalidQuery]) -> HTTPException:
    """The same shape FastAPI gives validation errors, so clients read one format."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": ["query", problem.field], "msg": str(problem), "type": "value_error"} for problem in problems],
    )


@router.get(
    "/events",
    summary="The ops event log, in the order received",
    description=(
        "Every domain event the system has published, in the order this service received them: an event that "
        "arrives late comes after those already listed, whatever its `time`. Each keeps only the `data` fields its "
        "type's allow-list names (ids, codes, states, dates, counts, organisations' names; never a person's name, "
        "address or text people typed); a type with no allow-list keeps its ids. "
        "Filters are exact matches; `since` is inclusive and `until` exclusive, both on the event `time` "
        "(RFC 3339 date-times, with an offset). "
        "Pass `next_cursor` back as `cursor` for the next page while `has_more` is true; keep the last one and pass "
        "it later to get only what arrived since."
    ),
)
async def list_events(
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
    _: Ops,
    type_: TypeFilter = None,
    source: SourceFilter = None,
    subject: SubjectFilter = None,
    correlation_id: Annotated[uuid.UUID | None, Query()] = None,
    since: Annotated[Rfc3339DateTime | None, Query(description="Events at or after this time")] = None,
    until: Annotated[Rfc3339DateTime | None, Query(description="Events before this time")] = None,
    cursor: Annotated[
        str | None,
        Query(description="The `next_cursor` of the previous page", json_schema_extra={"format": CURSOR_FORMAT}),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
) -> EventPageOut:
    problems: list[InvalidQuery] = []
    after: Cursor | None = None
    if cursor is not None:
        try:
            after = Cursor.decode(cursor)
        except InvalidQuery as problem:
            problems.append(problem)
    try:
        query = EventLogQuery(
            filter=EventFilter(type=type_, source=source, subject=subject),
            correlation_id=correlation_id,
            since=since,
            until=until,
            after=after,
            limit=limit,
        )
    except InvalidQuery as problem:
        problems.append(problem)
    if problems:
        raise _query_errors(problems)
    page = await handlers.find_events(uow, query)
    return EventPageOut(
        items=[EventOut.of(event) for event in page.items],
        next_cursor=page.next_cursor.encode() if page.next_cursor else None,
        has_more=page.has_more,
    )


def _server_sent_event(event: LoggedEvent) -> str:
    # The JSON is one line: string values have their newlines escaped.
    return f"id: {event.id}\nevent: {event.type}\ndata: {EventOut.of(event).model_dump_json()}\n\n"


async def _event_stream(subscription: StreamSubscription, keepalive_s: float) -> AsyncIterator[str]:
    """Ends when the subscription does (app shutting down, subscriber dropped); Starlette cancels it on
    client disconnect."""
    while True:
        try:
            event = await subscription.next(keepalive_s)
        except TimeoutError:
            yield ": keepalive\n\n"
            continue
        if event is None:
            return
        yield _server_sent_event(event)


class _EventStreamResponse(StreamingResponse):
    """Releases its subscription however the response ends.

    Not in the stream's own `finally`: when the client is gone before the stream's first step (the disconnect
    heard while the start is still being sent, or the server's `send` raising) the generator never starts, so
    its `finally` never runs. Nor in a `BackgroundTask`: Starlette skips that when the response raises.
    """

    def __init__(self, broadcaster: EventBroadcaster, subscription: StreamSubscription, keepalive_s: float) -> None:
        super().__init__(
            _event_stream(subscription, keepalive_s),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._broadcaster = broadcaster
        self._subscription = subscription

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._broadcaster.unsubscribe(self._subscription)


@router.get(
    "/events/stream",
    summary="Live tail of the event log (Server-Sent Events)",
    description=(
        "Each event logged after the stream starts, in the order of `GET /events`, as an SSE message (`id`, "
        "`event` = type, `data` = the item as in `GET /events`), with a `: keepalive` comment when idle. Any "
        "replica's stream carries every event, whichever replica received it: the stream follows the log, "
        "within `NOTIFICATIONS_STREAM_POLL_INTERVAL_S` (0.5 s by default). A client that falls too far behind is "
        "disconnected: catch up with `GET /events`, then reconnect."
    ),
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An endless event stream"}},
)
async def stream_events(
    request: Request,
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
    _: Ops,
    type_: TypeFilter = None,
    source: SourceFilter = None,
    subject: SubjectFilter = None,
) -> StreamingResponse:
    broadcaster: EventBroadcaster = request.app.state.broadcaster
    keepalive_s: float = request.app.state.stream_keepalive_s
    # It starts after the newest entry now, so nothing already logged is replayed, and nothing logged later is
    # missed: the log follower reads from the subscribers' marks, so it goes back for an entry it read (passed over
    # with nobody subscribed, or passed on to other streams) between this read and the subscription.
    start = await handlers.newest_position(uow)
    subscription = broadcaster.subscribe(EventFilter(type=type_, source=source, subject=subject), after=start)
    return _EventStreamResponse(broadcaster, subscription, keepalive_s)
