"""DeliveryPolicy: poison messages dead-lettered at once, others retried through the delay queue.

The incoming message and the retry publisher are fakes of the policy's own ports.
"""

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from medic.shared.contracts import PartnerRegisteredV1
from medic.shared.delivery import ATTEMPTS_HEADER, POISON, Delivery, DeliveryPolicy, PoisonMessage, attempts_of
from medic.shared.delivery import describe as _describe
from medic.shared.events import RawEnvelope

PERSONAL = "alice@example.org"


def _validation_error() -> ValidationError:
    try:
        PartnerRegisteredV1.model_validate(
            {
                "partner_id": PERSONAL,
                "name": "",
                "kind": f"kind-of-{PERSONAL}",
                "contact_email": PERSONAL,
                "areas_of_work": [{"note": PERSONAL}],
            }
        )
    except ValidationError as error:
        return error
    raise AssertionError("the payload should not validate")


def _json_error() -> json.JSONDecodeError:
    try:
        json.loads('{"email": "alice@example.org", oops}')
    except json.JSONDecodeError as error:
        return error
    raise AssertionError("the body should not parse")


def test_describe_names_fields_never_values() -> None:
    error = _validation_error()
    assert PERSONAL in str(error)  # pydantic's own message would leak it

    described = _describe(error)

    assert described == "ValidationError on areas_of_work.0, contact_email, kind, name, partner_id"
    assert PERSONAL not in described


def test_describe_envelope_errors_name_the_attributes() -> None:
    with pytest.raises(ValidationError) as caught:
        RawEnvelope.model_validate({"source": "/s", "type": "nope", "data": {"email": PERSONAL}})
    described = _describe(caught.value)
    assert described == "ValidationError on correlationid, type"
    assert PERSONAL not in described


def test_describe_other_errors() -> None:
    json_error = _json_error()
    assert _describe(json_error) == f"invalid JSON at position {json_error.pos}"
    assert PERSONAL not in _describe(json_error)
    assert _describe(RuntimeError(f"could not save {PERSONAL}")) == "RuntimeError"
    assert _describe(PoisonMessage("no handler for event type 'a.b.c.v1'")) == "no handler for event type 'a.b.c.v1'"


@pytest.mark.parametrize(
    ("error", "poison"),
    [
        (PoisonMessage("no handler"), True),
        (_validation_error(), True),
        (_json_error(), True),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), True),
        (RuntimeError("database busy"), False),
        (ConnectionError("broker gone"), False),
        (OperationalError("SELECT 1", {}, Exception("locked")), False),
        (ValueError("a bug, not a malformed message"), False),
    ],
)
def test_poison_classification(error: Exception, poison: bool) -> None:
    assert isinstance(error, POISON) is poison


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (None, 0),
        ({}, 0),
        ({"other": 5}, 0),
        ({ATTEMPTS_HEADER: 0}, 0),
        ({ATTEMPTS_HEADER: 3}, 3),
        ({ATTEMPTS_HEADER: "3"}, 0),
        ({ATTEMPTS_HEADER: None}, 0),
        ({ATTEMPTS_HEADER: 2.5}, 0),
        ({ATTEMPTS_HEADER: True}, 0),
    ],
)
def test_attempts_header_parsing(headers: dict[str, Any] | None, expected: int) -> None:
    assert attempts_of(FakeMessage(headers=headers or {})) == expected


@dataclass
class FakeMessage:
    headers: dict[str, Any] = field(default_factory=dict)
    body: bytes = b'{"any": "body"}'
    message_id: str | None = field(default_factory=lambda: str(uuid.uuid4()))
    type: str | None = "projects.partner.registered.v1"
    settled: list[str] = field(default_factory=list)

    async def ack(self, multiple: bool = False) -> None:
        self.settled.append("ack")

    async def reject(self, requeue: bool = False) -> None:
        self.settled.append("requeue" if requeue else "reject")


@dataclass
class FakeRetries:
    fail: bool = False
    published: list[tuple[Delivery, str, dict[str, Any]]] = field(default_factory=list)

    async def __call__(self, message: Delivery, queue: str, headers: dict[str, Any]) -> None:
        if self.fail:
            raise ConnectionError("cannot publish")
        self.published.append((message, queue, headers))


def _policy(retries: FakeRetries, max_attempts: int = 3) -> DeliveryPolicy:
    return DeliveryPolicy("t1.outreach.retry", max_attempts=max_attempts, publish_retry=retries)


@pytest.mark.parametrize("error", [PoisonMessage("no handler"), _validation_error(), _json_error()])
async def test_poison_is_rejected_at_once(error: Exception) -> None:
    retries, message = FakeRetries(), FakeMessage(headers={ATTEMPTS_HEADER: 0})
    await _policy(retries).failed(message, error)
    assert message.settled == ["reject"]
    assert retries.published == []


async def test_transient_failure_is_parked_in_the_retry_queue_and_acked() -> None:
    retries, message = FakeRetries(), FakeMessage(headers={"x-custom": "kept"})

    await _policy(retries).failed(message, RuntimeError("database busy"))

    assert message.settled == ["ack"]  # the original is acked: its copy waits in the retry queue
    assert retries.published == [(message, "t1.outreach.retry", {"x-custom": "kept", ATTEMPTS_HEADER: 1})]


async def test_attempts_count_up_then_dead_letter() -> None:
    retries = FakeRetries()
    policy = _policy(retries, max_attempts=3)

    second = FakeMessage(headers={ATTEMPTS_HEADER: 1})
    await policy.failed(second, RuntimeError("again"))
    assert second.settled == ["ack"]
    assert retries.published[-1][2][ATTEMPTS_HEADER] == 2

    third = FakeMessage(headers={ATTEMPTS_HEADER: 2})
    await policy.failed(third, RuntimeError("and again"))
    assert third.settled == ["reject"]
    assert len(retries.published) == 1


async def test_one_attempt_allowed_means_no_retry() -> None:
    retries, message = FakeRetries(), FakeMessage()
    await _policy(retries, max_attempts=1).failed(message, RuntimeError("once"))
    assert message.settled == ["reject"]
    assert retries.published == []


async def test_retry_that_cannot_be_published_is_dead_lettered_never_acked() -> None:
    message = FakeMessage()
    await _policy(FakeRetries(fail=True)).failed(message, RuntimeError("database busy"))
    assert message.settled == ["reject"]


async def test_outcomes_are_logged_without_the_body(capsys: pytest.CaptureFixture[str]) -> None:
    message = FakeMessage(body=json.dumps({"email": PERSONAL}).encode())
    await _policy(FakeRetries()).failed(message, _validation_error())
    await _policy(FakeRetries()).failed(FakeMessage(), RuntimeError(f"could not save {PERSONAL}"))
    logged = "".join(capsys.readouterr())
    assert "event.dead_lettered" in logged
    assert "event.retry_scheduled" in logged
    assert PERSONAL not in logged
