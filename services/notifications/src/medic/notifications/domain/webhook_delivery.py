"""Webhook delivery rules, with no I/O: the retry schedule, what a response means, when an endpoint is given up on.

- Attempts follow Svix's schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h later, each wait
  with +-20% jitter (so a burst of failures does not come back as one burst). After the eighth attempt the delivery
  has failed; `recover` or `resend` sends it again.
- Success is a 2xx only. A 3xx is a failure: redirects are never followed (the target was not checked).
- 410 Gone: the receiver says the endpoint is gone for good: the delivery fails and the endpoint is disabled.
- 429 Too Many Requests: the receiver is alive and asks us to slow down. We wait what its `Retry-After` says,
  clamped to 1 min .. 6 h (1 min when it gives none), and the attempt does not count against the schedule, up to
  `MAX_FREE_THROTTLES` times per delivery (then they count, so a receiver answering 429 forever cannot keep a
  delivery alive past its schedule). It still counts as a failure for the endpoint's health: an endpoint that only
  ever answers 429 is failing.
- A timeout waits at least a minute before the next try, whatever the schedule says: the receiver is struggling.
- An endpoint with no success since its first failure `disable_after_s` ago (5 days by default) is disabled.
"""

import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# Seconds before attempt n+1, for n = 0 (the first attempt) .. 7.
RETRY_SCHEDULE_S: tuple[float, ...] = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
MAX_ATTEMPTS = len(RETRY_SCHEDULE_S)
JITTER = 0.2
MIN_BACKOFF_AFTER_THROTTLE_OR_TIMEOUT_S = 60.0
MAX_RETRY_AFTER_S = 6 * 3600.0
MAX_FREE_THROTTLES = 20
EXCERPT_BYTES = 1024  # of a response body kept with its attempt
ERROR_CHARS = 200  # of an error description kept with its attempt

MESSAGE_ID_PREFIX = "msg_"
TEST_EVENT_TYPE = "webhook.test.v1"
_MESSAGE_ID = re.compile(r"msg_[0-9a-f]{32}")


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"  # 2xx
    FAILED = "failed"  # any other status (3xx included), or a connection error
    TIMED_OUT = "timed_out"
    THROTTLED = "throttled"  # 429
    GONE = "gone"  # 410: the endpoint is disabled
    REFUSED = "refused"  # the address is not one we may connect to (checked again at send time)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt (or in flight, while a dispatcher holds its lease)
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # out of attempts, or its endpoint was disabled or deleted


def classify(status: int | None, *, timed_out: bool = False, refused: bool = False) -> Outcome:
    """What an attempt's result means. `status` is None when no response came."""
    if refused:
        return Outcome.REFUSED
    if timed_out:
        return Outcome.TIMED_OUT
    if status is None:
        return Outcome.FAILED
    if 200 <= status < 300:
        return Outcome.SUCCEEDED
    if status == 410:
        return Outcome.GONE
    if status == 429:
        return Outcome.THROTTLED
    return Outcome.FAILED


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date); None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def jittered(seconds: float, random: float) -> float:
    """`seconds` moved by up to +-JITTER, `random` being uniform in [0, 1)."""
    return seconds * (1 + JITTER * (2 * random - 1))


@dataclass(frozen=True)
class Next:
    """A delivery's state after an attempt."""

    status: DeliveryStatus
    attempts: int  # attempts that count against the schedule
    free_throttles: int
    available_at: datetime | None  # the next attempt, when pending


def after_attempt(
    outcome: Outcome,
    *,
    attempts: int,
    free_throttles: int,
    now: datetime,
    random: float,
    retry_after_s: float | None = None,
) -> Next:
    """The delivery's next state, given the attempt's outcome and the attempts made before it."""
    if outcome is Outcome.SUCCEEDED:
        return Next(DeliveryStatus.SUCCEEDED, attempts + 1, free_throttles, None)
    if outcome is Outcome.GONE:
        return Next(DeliveryStatus.FAILED, attempts + 1, free_throttles, None)
    floor = 0.0
    if outcome is Outcome.THROTTLED:
        asked = retry_after_s if retry_after_s is not None else 0.0
        floor = min(MAX_RETRY_AFTER_S, max(MIN_BACKOFF_AFTER_THROTTLE_OR_TIMEOUT_S, asked))
        if free_throttles < MAX_FREE_THROTTLES:
            # Not counted: the receiver is up and asked for a pause. Jitter only upwards, to honour the ask.
            delay = floor * (1 + JITTER * random)
            return Next(DeliveryStatus.PENDING, attempts, free_throttles + 1, now + timedelta(seconds=delay))
    elif outcome is Outcome.TIMED_OUT:
        floor = MIN_BACKOFF_AFTER_THROTTLE_OR_TIMEOUT_S
    made = attempts + 1
    if made >= MAX_ATTEMPTS:
        return Next(DeliveryStatus.FAILED, made, free_throttles, None)
    delay = max(floor, jittered(RETRY_SCHEDULE_S[made], random))
    return Next(DeliveryStatus.PENDING, made, free_throttles, now + timedelta(seconds=delay))


def failing_too_long(failing_since: datetime | None, now: datetime, disable_after_s: float) -> bool:
    return failing_since is not None and (now - failing_since).total_seconds() >= disable_after_s


def disabled_reason_failing(failing_since: datetime) -> str:
    return f"no successful delivery since {failing_since.astimezone(UTC).isoformat(timespec='seconds')}"


DISABLED_REASON_GONE = "the endpoint answered 410 Gone"


# --- message ids ---------------------------------------------------------------------------------------------------


def message_id_text(hex_id: str) -> str:
    """The `webhook-id` of a message: `msg_` and its uuid's 32 hex digits (the same on every retry)."""
    return MESSAGE_ID_PREFIX + hex_id


def is_message_id(text: str) -> bool:
    return _MESSAGE_ID.fullmatch(text) is not None


# --- summaries -----------------------------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending sequence; None when it is empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class TokenBucket:
    """An endpoint's rate limit: `rate` deliveries a second, in bursts of at most max(1, rate)."""

    rate: float
    tokens: float
    at: float  # monotonic seconds when `tokens` was counted

    @classmethod
    def full(cls, rate: float, now: float) -> "TokenBucket":
        return cls(rate, max(1.0, rate), now)

    def refilled(self, now: float) -> "TokenBucket":
        return TokenBucket(self.rate, min(max(1.0, self.rate), self.tokens + (now - self.at) * self.rate), now)

    def available(self) -> int:
        return int(self.tokens)

    def take(self, n: int) -> "TokenBucket":
        return TokenBucket(self.rate, self.tokens - n, self.at)

    def seconds_until_one(self) -> float:
        return max(0.0, (1.0 - self.tokens) / self.rate)
