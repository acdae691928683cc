"""The email rules that need no I/O: what a request accepts, the retry schedule, what a failure leads to, the
attempt log's scrubbing, unsubscribe tokens."""

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from medic.notifications.domain.emails import (
    AttemptOutcome,
    EmailKind,
    EmailRequest,
    EmailStatus,
    InvalidEmailRequest,
    RetryPolicy,
    after_failure,
    email_id_from_token,
    scrub_detail,
    unsubscribe_key,
    unsubscribe_token,
)

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def request(**overrides: object) -> EmailRequest:
    values: dict[str, object] = {
        "kind": "proposal_waiting",
        "cause_id": str(uuid.uuid4()),
        "recipient": "Dr.Ahmed@NHS.example",
        "recipient_name": "Dr Ahmed",
        "context": {"project_title": "Lunchboxes"},
    }
    values.update(overrides)
    return EmailRequest(**values)  # type: ignore[arg-type]


def test_a_request_keeps_the_address_lower_cased_and_the_name_on_one_line() -> None:
    made = request(recipient="  Dr.Ahmed@NHS.example ", recipient_name="Dr\r\nBcc: x@y.example  Ahmed")
    assert made.recipient == "dr.ahmed@nhs.example"
    assert made.recipient_name == "Dr Bcc: x@y.example Ahmed"  # no line break: never a second header


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recipient": "not an address"}, "recipient"),
        ({"recipient": "a@b.example\r\nBcc: c@d.example"}, "recipient"),
        ({"recipient": "Name <a@b.example>"}, "recipient"),
        ({"recipient": "a,b@c.example"}, "recipient"),
        ({"recipient": "x" * 250 + "@b.example"}, "recipient"),
        ({"kind": "Proposal Waiting"}, "kind"),
        ({"cause_id": ""}, "cause_id"),
        ({"cause_id": "a\nb"}, "cause_id"),
        ({"cause_id": "x" * 201}, "cause_id"),
        ({"context": {"due": datetime(2026, 1, 1, tzinfo=UTC)}}, "context"),
        ({"context": {"ratio": float("nan")}}, "context"),
    ],
)
def test_a_request_that_cannot_become_an_email_is_refused_naming_the_field(
    overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidEmailRequest) as refused:
        request(**overrides)
    assert refused.value.field == field


def test_a_kind_name_is_a_template_file_name() -> None:
    with pytest.raises(ValueError, match="kind name"):
        EmailKind(name="../etc/passwd", subject="x", optional=False, description="x")


def test_retries_follow_the_schedule_with_jitter_then_give_up() -> None:
    policy = RetryPolicy(delays=(timedelta(seconds=30), timedelta(minutes=2)), jitter=0.2)
    rng = random.Random(7)
    first = policy.delay_after(1, rng)
    second = policy.delay_after(2, rng)
    assert first is not None and timedelta(seconds=24) <= first <= timedelta(seconds=36)
    assert second is not None and timedelta(seconds=96) <= second <= timedelta(seconds=144)
    assert policy.delay_after(3, rng) is None
    assert policy.max_attempts == 3
    spread = {policy.delay_after(1, rng) for _ in range(20)}
    assert len(spread) > 1, "jitter spreads retries of many emails failing together"


def test_the_default_schedule_spans_about_fifteen_hours() -> None:
    total = sum(RetryPolicy().delays, timedelta())
    assert timedelta(hours=14) < total < timedelta(hours=17)


@pytest.mark.parametrize(
    ("outcome", "attempts", "status", "retried"),
    [
        (AttemptOutcome.TRANSIENT, 1, EmailStatus.QUEUED, True),
        (AttemptOutcome.TRANSIENT, 2, EmailStatus.QUEUED, True),
        (AttemptOutcome.TRANSIENT, 3, EmailStatus.FAILED, False),  # the delays ran out
        (AttemptOutcome.PERMANENT, 1, EmailStatus.BOUNCED, False),
        (AttemptOutcome.RENDER_ERROR, 1, EmailStatus.FAILED, False),
    ],
)
def test_what_a_failed_attempt_leads_to(
    outcome: AttemptOutcome, attempts: int, status: EmailStatus, retried: bool
) -> None:
    policy = RetryPolicy(delays=(timedelta(seconds=30), timedelta(minutes=2)), jitter=0)
    step = after_failure(outcome, attempts, NOW, policy)
    assert step.status is status
    assert (step.next_attempt_at is not None) == retried
    if retried:
        assert step.next_attempt_at == NOW + policy.delays[attempts - 1]


def test_only_bounced_and_failed_emails_may_be_retried_by_hand() -> None:
    assert {status for status in EmailStatus if status.retryable_by_hand} == {EmailStatus.BOUNCED, EmailStatus.FAILED}


def test_the_attempt_log_keeps_no_address_and_one_short_line() -> None:
    detail = "550 5.1.1 <Bob@Example.org>:\r\n Recipient address rejected: " + "x" * 500
    scrubbed = scrub_detail(detail, "bob@example.org")
    assert "bob@example.org" not in scrubbed.lower()
    assert scrubbed.startswith("550 5.1.1 <<recipient>>: Recipient address rejected")
    assert "\n" not in scrubbed and len(scrubbed) == 300


def test_an_unsubscribe_token_names_its_email_and_cannot_be_forged() -> None:
    key = unsubscribe_key(b"service secret")
    email_id = uuid.uuid4()
    token = unsubscribe_token(key, email_id)
    assert email_id_from_token(key, token) == email_id
    assert str(email_id) not in token and email_id.hex not in token  # opaque; names no address either
    other = uuid.uuid4()
    forged = unsubscribe_token(key, other).split(".")[0] + "." + token.split(".")[1]
    assert email_id_from_token(key, forged) is None
    assert email_id_from_token(unsubscribe_key(b"another secret"), token) is None
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert email_id_from_token(key, tampered) is None
    for junk in ("", "abc", "a.b", token + "x", token.replace(".", "!"), "=" * 66):
        assert email_id_from_token(key, junk) is None


def test_the_unsubscribe_key_is_not_the_secret_it_comes_from() -> None:
    assert unsubscribe_key(b"service secret") != b"service secret"
    assert len(unsubscribe_key(b"service secret")) == 32
