"""The ops event log: every domain event as received, reduced to its type's allow-listed fields. No I/O here."""

import base64
import binascii
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MAX_PAGE_SIZE = 500


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class LoggedEvent:
    """One event in the log. `data` holds only what `event_log_fields` allows for its type."""

    id: uuid.UUID
    type: str
    source: str
    subject: str | None
    time: datetime
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    received_at: datetime
    data: dict[str, Any] = field(hash=False)
    # Its position in the log, in the order events were received: set once it has been read back from the log.
    seq: int | None = None


class InvalidQuery(ValueError):
    """A query the log cannot answer; `field` names the offending parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


_CURSOR_ALPHABET = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_SEQ_TEXT = re.compile(r"[0-9]{1,19}")  # ASCII digits only: `int` also takes "-1", " 1", "1_0", other scripts' digits
MAX_SEQ = 2**63 - 1  # the largest BIGINT


@dataclass(frozen=True)
class Cursor:
    """A position in the log, which is in the order events were received: the next page starts after it."""

    seq: int

    @classmethod
    def after(cls, event: LoggedEvent) -> "Cursor":
        if event.seq is None:
            raise ValueError("only an event read from the log has a position in it")
        return cls(seq=event.seq)

    def encode(self) -> str:
        """Opaque to clients: url-safe base64, unpadded, of the arrival sequence number."""
        return base64.urlsafe_b64encode(str(self.seq).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "Cursor":
        if not _CURSOR_ALPHABET.match(token):
            raise InvalidQuery("cursor", "malformed cursor: use the `next_cursor` of a previous page")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            if not _SEQ_TEXT.fullmatch(raw) or int(raw) > MAX_SEQ:
                raise ValueError("a cursor's sequence number is a non-negative BIGINT")
            return cls(seq=int(raw))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidQuery("cursor", "malformed cursor: use the `next_cursor` of a previous page") from None


@dataclass(frozen=True)
class EventFilter:
    """Exact-match filters on the envelope attributes; None matches anything. Shared by the log and the stream."""

    type: str | None = None
    source: str | None = None
    subject: str | None = None

    def matches(self, event: LoggedEvent) -> bool:
        return (
            (self.type is None or event.type == self.type)
            and (self.source is None or event.source == self.source)
            and (self.subject is None or event.subject == self.subject)
        )


@dataclass(frozen=True)
class EventLogQuery:
    """One page of the log, in the order received: `since` inclusive, `until` exclusive, both on the event `time`."""

    filter: EventFilter = field(default_factory=EventFilter)
    correlation_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: Cursor | None = None
    limit: int = 100

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None:
                try:
                    object.__setattr__(self, name, as_utc(moment))
                except OverflowError:  # e.g. 0001-01-01T00:00+01:00: before the first UTC instant, as is every event
                    edge = datetime.min if moment.year == datetime.min.year else datetime.max
                    object.__setattr__(self, name, edge.replace(tzinfo=UTC))
        # `since` after `until` is a valid, empty range: the page is empty, as for any range nothing falls in.
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise InvalidQuery("limit", f"`limit` must be between 1 and {MAX_PAGE_SIZE}")


@dataclass(frozen=True)
class EventPage:
    """A page and where the next one starts.

    `next_cursor` is the position after the page's last event, on the last page too: a client that has read
    everything keeps it and asks again later for what arrived since. A page with no events answers the cursor it
    was asked from (nothing was read past it), or None when it was asked from the start: there is nothing to skip.
    `has_more` says whether more events were already there to read.
    """

    items: Sequence[LoggedEvent]
    next_cursor: Cursor | None
    has_more: bool

    @classmethod
    def of(cls, rows: Sequence[LoggedEvent], *, limit: int, after: Cursor | None = None) -> "EventPage":
        """`rows` holds up to `limit + 1` events after `after`: one more than the page means there is a next page."""
        items = rows[:limit]
        return cls(items=items, next_cursor=Cursor.after(items[-1]) if items else after, has_more=len(rows) > limit)
