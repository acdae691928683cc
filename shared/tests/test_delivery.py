"""DeliveryPolicy: poison messages dead-lettered at once, others retried through the delay queue.

The broker and the incoming message are stand-ins: only the attributes the middleware reads.
"""

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import structlog
from faststream.exceptions import AckMessage, RejectMessage
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from medic.shared.contracts import PartnerRegisteredV1
from medic.shared.delivery import ATTEMPTS_HEADER, POISON, DeliveryPolicy, PoisonMessage, _attempts, _describe
from medic.shared.events import RawEnvelope
from medic.shared.topology import Topology

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
    ],
)
def test_attempts_header_parsing(headers: dict[str, Any] | None, expected: int) -> None:
    assert _attempts(FakeMessage(headers=headers)) == expected  # type: ignore[arg-type]


@dataclass
class FakeMessage:
    headers: dict[str, Any] | None = None
    body: bytes = b'{"any": "body"}'
    message_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    type: str = "projects.partner.registered.v1"
    content_type: str = "application/json"


@dataclass
class FakeBroker:
    fail: bool = False
    published: list[dict[str, Any]] = field(default_factory=list)

    async def publish(self, message: Any, **kwargs: Any) -> None:
        if self.fail:
            raise ConnectionError("cannot publish")
        self.published.append({"message": message, **kwargs})


def _policy(broker: FakeBroker | None, max_attempts: int = 3) -> DeliveryPolicy:
    policy = DeliveryPolicy("outreach", Topology("t1"), max_attempts=max_attempts)
    policy.broker = broker  # type: ignore[assignment]
    return policy


async def _deliver(policy: DeliveryPolicy, message: FakeMessage, error: BaseException | None) -> bool | None:
    delivery = policy(message, context=None)
    await delivery.on_receive()
    assert structlog.contextvars.get_contextvars() == {
        "event_id": message.message_id,
        "event_type": message.type,
        "consumer": "outreach",
    }
    try:
        return await delivery.after_processed(type(error) if error else None, error, None)
    finally:
        assert structlog.contextvars.get_contextvars() == {}  # nothing leaks into the next message


async def test_success_is_left_to_faststream() -> None:
    broker = FakeBroker()
    assert await _deliver(_policy(broker), FakeMessage(), None) is False
    assert broker.published == []


async def test_faststream_instructions_pass_through() -> None:
    broker = FakeBroker()
    assert await _deliver(_policy(broker), FakeMessage(), AckMessage()) is False
    assert broker.published == []


@pytest.mark.parametrize("error", [PoisonMessage("no handler"), _validation_error(), _json_error()])
async def test_poison_is_rejected_at_once(error: Exception) -> None:
    broker = FakeBroker()
    with pytest.raises(RejectMessage):
        await _deliver(_policy(broker), FakeMessage(headers={ATTEMPTS_HEADER: 0}), error)
    assert broker.published == []


async def test_transient_failure_is_parked_in_the_retry_queue() -> None:
    broker = FakeBroker()
    message = FakeMessage(headers={"x-custom": "kept"})

    with pytest.raises(AckMessage):  # the original is acked: its copy waits in the retry queue
        await _deliver(_policy(broker), message, RuntimeError("database busy"))

    (retry,) = broker.published
    assert retry["message"] == message.body
    assert retry["exchange"] == ""
    assert retry["routing_key"] == "t1.outreach.retry"
    assert retry["headers"] == {"x-custom": "kept", ATTEMPTS_HEADER: 1}
    assert retry["message_id"] == message.message_id
    assert retry["message_type"] == message.type
    assert retry["content_type"] == "application/json"
    assert retry["persist"] is True
    assert retry["mandatory"] is True


async def test_attempts_count_up_then_dead_letter() -> None:
    broker = FakeBroker()
    policy = _policy(broker, max_attempts=3)

    with pytest.raises(AckMessage):
        await _deliver(policy, FakeMessage(headers={ATTEMPTS_HEADER: 1}), RuntimeError("again"))
    assert broker.published[-1]["headers"][ATTEMPTS_HEADER] == 2

    with pytest.raises(RejectMessage):
        await _deliver(policy, FakeMessage(headers={ATTEMPTS_HEADER: 2}), RuntimeError("and again"))
    assert len(broker.published) == 1


async def test_one_attempt_allowed_means_no_retry() -> None:
    broker = FakeBroker()
    with pytest.raises(RejectMessage):
        await _deliver(_policy(broker, max_attempts=1), FakeMessage(), RuntimeError("once"))
    assert broker.published == []


@pytest.mark.parametrize("broker", [FakeBroker(fail=True), None])
async def test_retry_that_cannot_be_published_is_dead_lettered(broker: FakeBroker | None) -> None:
    with pytest.raises(RejectMessage):
        await _deliver(_policy(broker), FakeMessage(), RuntimeError("database busy"))
