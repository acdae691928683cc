"""The append-only history behind safeguarding and consent: what was recorded, when, and by whom. No I/O here.

Safeguarding and consent changes are never updated in place: each change (a check recorded, a consent withdrawn, a
correction) is a new event in its subject's stream, and the current state is a fold of the stream. "As of" a day is
the fold of what had been recorded by the end of that day, judged on that day: what the record said then, which
is what anyone could have acted on. Only erasure deletes events, or strips them to what must be kept.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo


class Stream(StrEnum):
    """Whose history: a medical student's safeguarding record (subject: their person id, the university id their
    token names), or a WATCCH participant's consents (subject: the pseudonymous participant id)."""

    SAFEGUARDING = "safeguarding"
    CONSENT = "consent"


@dataclass(frozen=True)
class HistoryEvent:
    """One recorded change. `data` is JSON (ids, codes, dates as ISO text); `recorded_by` is the staff user's id."""

    seq: int  # the order of recording, across all streams
    event_id: uuid.UUID
    stream: Stream
    subject_id: str
    type: str
    recorded_at: datetime
    recorded_by: str
    data: Mapping[str, Any] = field(hash=False)


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The last instant of `day` where the programme runs: an `as_of` day sees everything recorded by then."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone) - timedelta(microseconds=1)
