"""The event envelope (CloudEvents 1.0 attribute names) and typed, versioned event payloads.

An event type reads `<service>.<entity>.<past-tense-verb>.v<N>` and is also the routing key. A payload
class declares its type once; `Envelope.wrap` builds the envelope around it, and consumers validate
`data` back into the class registered for the type they received.
"""

import re
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

EVENT_TYPE_PATTERN = re.compile(r"^[a-z]+\.[a-z_]+\.[a-z_]+\.v[1-9][0-9]*$")


class EventPayload(BaseModel):
    """Base of every integration event payload. Subclasses set `event_type` and `source`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    source: ClassVar[str]
    # True only for the few events that must carry personal data (adults' contact addresses for the email directory):
    # the publisher's outbox deletes them as soon as they are published (`OutboxRelay(personal_types=...)`).
    personal_data: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type is not None and not EVENT_TYPE_PATTERN.fullmatch(event_type):  # `$` alone allows "\n"
            raise ValueError(f"event type {event_type!r} must read <service>.<entity>.<verb>.v<N>")


PayloadT = TypeVar("PayloadT")


class Envelope(BaseModel, Generic[PayloadT]):
    """CloudEvents 1.0 attributes plus the `correlationid` and `causationid` extensions."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str = Field(min_length=1)
    type: str = Field(pattern=EVENT_TYPE_PATTERN.pattern)
    specversion: Literal["1.0"] = "1.0"
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: uuid.UUID
    causationid: uuid.UUID | None = None
    data: PayloadT

    @classmethod
    def wrap(
        cls,
        payload: EventPayload,
        *,
        subject: str | None,
        correlation_id: uuid.UUID,
        causation_id: uuid.UUID | None = None,
    ) -> "Envelope[EventPayload]":
        return Envelope[EventPayload](
            source=payload.source,
            type=payload.event_type,
            subject=subject,
            correlationid=correlation_id,
            causationid=causation_id,
            data=payload,
        )


# What a consumer first parses: the attributes, with `data` left for the payload class of `type`.
RawEnvelope = Envelope[dict[str, Any]]
