"""The delivery rules on their own: schedule and jitter, what each response means, 429 and timeouts, Retry-After,
giving up, the disable clock, and the rate limit's token bucket."""

from datetime import UTC, datetime, timedelta

import pytest

from medic.notifications.domain.webhook_delivery import (
    MAX_ATTEMPTS,
    MAX_FREE_THROTTLES,
    MAX_RETRY_AFTER_S,
    RETRY_SCHEDULE_S,
    DeliveryStatus,
    Outcome,
    TokenBucket,
    after_attempt,
    classify,
    failing_too_long,
    is_message_id,
    jittered,
    parse_retry_after,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_the_schedule_is_svixs() -> None:
    assert RETRY_SCHEDULE_S == (0, 5, 300, 1800, 7200, 18000, 36000, 36000) and MAX_ATTEMPTS == 8


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SUCCEEDED),
        (204, Outcome.SUCCEEDED),
        (299, Outcome.SUCCEEDED),
        (301, Outcome.FAILED),
        (302, Outcome.FAILED),
        (304, Outcome.FAILED),
        (400, Outcome.FAILED),
        (404, Outcome.FAILED),
        (410, Outcome.GONE),
        (429, Outcome.THROTTLED),
        (500, Outcome.FAILED),
        (None, Outcome.FAILED),
    ],
)
def test_only_2xx_succeeds(status: int | None, outcome: Outcome) -> None:
    assert classify(status) is outcome


def test_timeouts_and_refusals_are_told_apart() -> None:
    assert classify(None, timed_out=True) is Outcome.TIMED_OUT
    assert classify(None, refused=True) is Outcome.REFUSED


@pytest.mark.parametrize("random", [0.0, 0.25, 0.5, 0.999])
def test_each_retry_waits_its_step_within_20_percent(random: float) -> None:
    for made in range(1, MAX_ATTEMPTS):
        following = after_attempt(Outcome.FAILED, attempts=made - 1, free_throttles=0, now=NOW, random=random)
        assert following.status is DeliveryStatus.PENDING and following.attempts == made
        assert following.available_at is not None
        waited = (following.available_at - NOW).total_seconds()
        step = RETRY_SCHEDULE_S[made]
        assert step * 0.8 <= waited <= step * 1.2
    assert jittered(100, 0.0) == 80 and jittered(100, 0.5) == 100


def test_the_eighth_failure_is_the_last() -> None:
    following = after_attempt(Outcome.FAILED, attempts=MAX_ATTEMPTS - 1, free_throttles=0, now=NOW, random=0.5)
    assert (following.status, following.attempts, following.available_at) == (DeliveryStatus.FAILED, 8, None)


def test_success_and_gone_are_final() -> None:
    done = after_attempt(Outcome.SUCCEEDED, attempts=3, free_throttles=0, now=NOW, random=0.5)
    assert (done.status, done.attempts) == (DeliveryStatus.SUCCEEDED, 4)
    gone = after_attempt(Outcome.GONE, attempts=0, free_throttles=0, now=NOW, random=0.5)
    assert gone.status is DeliveryStatus.FAILED


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [(None, 60, 72), (1, 60, 72), (120, 120, 144), (10**9, MAX_RETRY_AFTER_S, MAX_RETRY_AFTER_S * 1.2)],
)
def test_429_waits_as_asked_clamped_and_costs_no_attempt(retry_after: float | None, low: float, high: float) -> None:
    following = after_attempt(
        Outcome.THROTTLED, attempts=2, free_throttles=0, now=NOW, random=0.999, retry_after_s=retry_after
    )
    assert (following.status, following.attempts, following.free_throttles) == (DeliveryStatus.PENDING, 2, 1)
    assert following.available_at is not None
    assert low <= (following.available_at - NOW).total_seconds() <= high


def test_429s_count_once_a_receiver_has_had_its_share() -> None:
    following = after_attempt(
        Outcome.THROTTLED, attempts=2, free_throttles=MAX_FREE_THROTTLES, now=NOW, random=0.5, retry_after_s=120
    )
    assert following.attempts == 3 and following.available_at is not None
    assert (following.available_at - NOW).total_seconds() == max(120, RETRY_SCHEDULE_S[3])


def test_a_timeout_waits_at_least_a_minute() -> None:
    following = after_attempt(Outcome.TIMED_OUT, attempts=0, free_throttles=0, now=NOW, random=0.5)
    assert following.attempts == 1 and following.available_at == NOW + timedelta(seconds=60)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after(" 7 ", NOW) == 7
    assert parse_retry_after("Mon, 07 Dec 2026 12:05:00 GMT", NOW) == 300
    assert parse_retry_after("Mon, 07 Dec 2026 11:00:00 GMT", NOW) == 0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("-5", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_the_disable_clock() -> None:
    assert not failing_too_long(None, NOW, 3600)
    assert not failing_too_long(NOW - timedelta(seconds=3599), NOW, 3600)
    assert failing_too_long(NOW - timedelta(seconds=3600), NOW, 3600)


def test_message_ids() -> None:
    assert is_message_id("msg_" + "a" * 32)
    assert not is_message_id("msg_" + "A" * 32) and not is_message_id("msg_123") and not is_message_id("a" * 36)


def test_the_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket.full(5, now=0.0)
    assert bucket.available() == 5
    bucket = bucket.take(5)
    assert bucket.available() == 0 and bucket.seconds_until_one() == pytest.approx(0.2)
    assert bucket.refilled(0.2).available() == 1
    assert bucket.refilled(100).available() == 5  # never more than a burst
    assert TokenBucket.full(0.5, now=0).available() == 1
