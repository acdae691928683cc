"""Entries of the ops event log, made up for tests of the log and its live tail."""

import uuid
from datetime import UTC, datetime
from typing import Any

from medic.notifications.domain.model import LoggedEvent


def logged(type: str = "projects.partner.registered.v1", **overrides: Any) -> LoggedEvent:
    """A logged event of `type`, now, with no data; `overrides` sets any other field (e.g. `seq`)."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "type": type,
        "source": "/services/projects",
        "subject": None,
        "time": now,
        "correlation_id": uuid.uuid4(),
        "causation_id": None,
        "received_at": now,
        "data": {},
    }
    values.update(overrides)
    return LoggedEvent(**values)
