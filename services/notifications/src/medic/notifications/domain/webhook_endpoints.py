"""Partner webhook endpoints: what one is, what may be asked of one, and how its signing secrets rotate. No I/O here.

An endpoint belongs to one partner organisation and receives the partner event types it subscribes to (names from
`partner_events.CATALOGUE`). It is enabled or disabled (by its owner, or by delivery: 410 Gone, or failing too long),
and separately paused (deliveries wait until it is resumed). Its signing secrets: one current, plus those rotated
out less than the overlap ago, which keep signing beside it so a receiver can switch over without losing a message.
"""

import enum
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_ENDPOINTS_PER_PARTNER = 20
MAX_DESCRIPTION_LENGTH = 500
MAX_RATE_LIMIT_PER_S = 1000
# Rotated-out secrets that may still sign at once (Svix keeps up to 10): rotating more often retires the oldest.
MAX_PREVIOUS_SECRETS = 9
DISABLED_BY_OWNER = "disabled by its owner"


class InvalidEndpoint(ValueError):
    """A value an endpoint may not have; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class EndpointNotFound(LookupError):
    """No such endpoint, or not one the caller may see (the same answer, so ids of others' endpoints leak nothing)."""


class EndpointConflict(Exception):
    """What was asked conflicts with the state of things (409); the message says why."""


@dataclass(frozen=True)
class WebhookEndpoint:
    id: uuid.UUID
    partner_id: uuid.UUID
    url: str
    description: str
    event_types: tuple[str, ...]
    enabled: bool
    paused: bool
    rate_limit_per_s: int | None
    disabled_reason: str | None
    disabled_at: datetime | None
    enabled_at: datetime  # when it was created or last enabled again: a failing streak counts from no earlier
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime | None
    rotation_ends_at: datetime | None  # the last rotated-out secret stops signing then

    def subscribes_to(self, event_type: str) -> bool:
        return event_type in self.event_types

    def previous_secrets_sign_until(self, now: datetime) -> datetime | None:
        """When the rotated-out secrets stop signing, if some still do."""
        return self.rotation_ends_at if self.rotation_ends_at is not None and self.rotation_ends_at > now else None


class Keep(enum.Enum):
    """A field a change leaves as it is (for fields where null means something)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class EndpointChanges:
    """What an update changes: None (or KEEP) leaves a field as it is; `rate_limit_per_s=None` removes the limit."""

    url: str | None = None
    description: str | None = None
    event_types: tuple[str, ...] | None = None
    enabled: bool | None = None
    rate_limit_per_s: int | Keep | None = KEEP


def checked_event_types(event_types: Sequence[str], catalogue: Collection[str]) -> tuple[str, ...]:
    """The subscription as stored: each type once, in the order given; InvalidEndpoint on `event_types` otherwise."""
    if not event_types:
        raise InvalidEndpoint("event_types", "subscribe to at least one event type (see GET /webhooks/event-types)")
    unknown = sorted({name for name in event_types if name not in catalogue})
    if unknown:
        raise InvalidEndpoint(
            "event_types", f"not in the event catalogue: {', '.join(unknown)} (see GET /webhooks/event-types)"
        )
    if len(set(event_types)) != len(event_types):
        raise InvalidEndpoint("event_types", "name each event type once")
    return tuple(event_types)


def checked_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidEndpoint("description", f"at most {MAX_DESCRIPTION_LENGTH} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in description):
        raise InvalidEndpoint("description", "no control characters")
    return description


def checked_rate_limit(rate_limit_per_s: int | None) -> int | None:
    if rate_limit_per_s is not None and not 1 <= rate_limit_per_s <= MAX_RATE_LIMIT_PER_S:
        raise InvalidEndpoint("rate_limit_per_s", f"between 1 and {MAX_RATE_LIMIT_PER_S} messages a second, or null")
    return rate_limit_per_s


def check_room_for_another(endpoints_of_partner: int) -> None:
    if endpoints_of_partner >= MAX_ENDPOINTS_PER_PARTNER:
        raise EndpointConflict(f"a partner has at most {MAX_ENDPOINTS_PER_PARTNER} endpoints: delete one first")


# Secrets


@dataclass(frozen=True)
class SecretPeriod:
    """When one stored secret signs: from `created_at` until `expires_at` (None: the current secret, until rotated)."""

    id: int
    created_at: datetime
    expires_at: datetime | None

    def signs_at(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True)
class Rotation:
    """What rotating changes in the stored periods: new ends for some, and which to delete (stopped signing)."""

    expire: dict[int, datetime]
    delete: tuple[int, ...]
    rotation_ends_at: datetime | None


def rotation(periods: Sequence[SecretPeriod], *, now: datetime, overlap_s: float) -> Rotation:
    """Rotating at `now`: the current secret keeps signing for `overlap_s` more, beside the new one; of the older ones,
    those still signing keep their end, but no more than MAX_PREVIOUS_SECRETS of them; the rest go."""
    ends = now + timedelta(seconds=overlap_s)
    expire: dict[int, datetime] = {}
    still: list[SecretPeriod] = []
    delete: list[int] = []
    for period in sorted(periods, key=lambda p: (p.created_at, p.id), reverse=True):  # newest first
        if period.expires_at is None:
            if overlap_s > 0:
                expire[period.id] = ends
                still.append(SecretPeriod(period.id, period.created_at, ends))
            else:
                delete.append(period.id)
        elif period.signs_at(now):
            still.append(period)
        else:
            delete.append(period.id)
    keep, retire = still[:MAX_PREVIOUS_SECRETS], still[MAX_PREVIOUS_SECRETS:]
    delete.extend(period.id for period in retire)
    for period in retire:
        expire.pop(period.id, None)
    ends_at = max((p.expires_at for p in keep if p.expires_at is not None), default=None)
    return Rotation(expire=expire, delete=tuple(delete), rotation_ends_at=ends_at)


def signing_order(periods: Sequence[SecretPeriod], *, now: datetime) -> list[int]:
    """The secrets that sign a message sent at `now`: the current one first, then the rotated-out ones, newest first."""
    signing = [p for p in periods if p.signs_at(now)]
    return [p.id for p in sorted(signing, key=lambda p: (p.expires_at is None, p.created_at, p.id), reverse=True)]
