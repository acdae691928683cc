"""Envelope (CloudEvents 1.0 names), payload type names, and the PartnerRegisteredV1 contract."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from medic.shared.contracts import ALL_EVENT_PAYLOADS, PartnerKind, PartnerRegisteredV1
from medic.shared.contracts.projects.contacts import ContactAddressSetV1
from medic.shared.events import EVENT_TYPE_PATTERN, Envelope, EventPayload, RawEnvelope

CLOUDEVENTS_ATTRIBUTES = {
    "id",
    "source",
    "type",
    "specversion",
    "time",
    "subject",
    "datacontenttype",
    "correlationid",
    "causationid",
    "data",
}


def _payload(**overrides: Any) -> PartnerRegisteredV1:
    values: dict[str, Any] = {
        "partner_id": uuid.uuid4(),
        "name": "Riverside Youth Network",
        "kind": PartnerKind.NETWORK,
        "areas_of_work": ["mental health", "housing"],
    }
    return PartnerRegisteredV1(**(values | overrides))


def test_wrap_builds_cloudevents_attributes() -> None:
    payload = _payload()
    correlation_id, causation_id = uuid.uuid4(), uuid.uuid4()
    before = datetime.now(UTC)

    envelope = Envelope.wrap(
        payload, subject=str(payload.partner_id), correlation_id=correlation_id, causation_id=causation_id
    )

    assert set(json.loads(envelope.model_dump_json(serialize_as_any=True))) == CLOUDEVENTS_ATTRIBUTES
    assert envelope.specversion == "1.0"
    assert envelope.datacontenttype == "application/json"
    assert envelope.type == "projects.partner.registered.v1" == PartnerRegisteredV1.event_type
    assert envelope.source == "/services/projects" == PartnerRegisteredV1.source
    assert envelope.subject == str(payload.partner_id)
    assert envelope.correlationid == correlation_id
    assert envelope.causationid == causation_id
    assert envelope.data is payload
    assert isinstance(envelope.id, uuid.UUID)
    assert envelope.id.version == 4
    assert envelope.time.tzinfo is not None
    assert before <= envelope.time <= datetime.now(UTC) + timedelta(seconds=1)


def test_each_wrap_gets_its_own_id_and_no_causation_by_default() -> None:
    payload, correlation_id = _payload(), uuid.uuid4()
    first = Envelope.wrap(payload, subject=None, correlation_id=correlation_id)
    second = Envelope.wrap(payload, subject=None, correlation_id=correlation_id)
    assert first.id != second.id
    assert first.causationid is None
    assert first.subject is None


def test_json_round_trip_through_raw_envelope_into_the_payload_class() -> None:
    payload = _payload(kind="school")
    envelope = Envelope.wrap(payload, subject="s-1", correlation_id=uuid.uuid4())

    body = envelope.model_dump_json(serialize_as_any=True)
    raw = RawEnvelope.model_validate_json(body)

    assert raw.id == envelope.id
    assert raw.type == envelope.type
    assert raw.source == envelope.source
    assert raw.time == envelope.time
    assert raw.correlationid == envelope.correlationid
    assert raw.data == {
        "partner_id": str(payload.partner_id),
        "name": "Riverside Youth Network",
        "kind": "school",
        "areas_of_work": ["mental health", "housing"],
    }
    decoded = PartnerRegisteredV1.model_validate(raw.data)
    assert decoded == payload
    assert decoded.kind is PartnerKind.SCHOOL


def test_without_serialize_as_any_the_payload_fields_would_be_lost() -> None:
    """Why the outbox serialises with `serialize_as_any=True`: the field is typed as the base class."""
    envelope = Envelope.wrap(_payload(), subject=None, correlation_id=uuid.uuid4())
    assert json.loads(envelope.model_dump_json())["data"] == {}
    assert json.loads(envelope.model_dump_json(serialize_as_any=True))["data"] != {}


@pytest.mark.parametrize(
    "bad_name",
    [
        "projects.partner.registered",  # no version
        "projects.partner.registered.v0",  # versions start at 1
        "projects.partner.registered.V1",
        "Projects.partner.registered.v1",
        "projects.partner-kind.registered.v1",
        "projects.partner.registered.v1.extra",
        "projects..registered.v1",
        "projects.partner.registered.v1\n",  # a routing key must not end in a newline
        "",
    ],
)
def test_bad_event_type_names_are_rejected_at_class_definition(bad_name: str) -> None:
    with pytest.raises(ValueError, match="must read"):

        class Bad(EventPayload):
            event_type: ClassVar[str] = bad_name
            source: ClassVar[str] = "/services/test"


def test_good_event_type_and_abstract_intermediate_classes_are_accepted() -> None:
    class Intermediate(EventPayload):  # no event_type of its own: a shared base for payloads
        pass

    class Good(Intermediate):
        event_type: ClassVar[str] = "outreach.school_visit.scheduled_late.v12"
        source: ClassVar[str] = "/services/outreach"

        visit_id: uuid.UUID

    assert EVENT_TYPE_PATTERN.fullmatch(Good.event_type)
    envelope = Envelope.wrap(Good(visit_id=uuid.uuid4()), subject=None, correlation_id=uuid.uuid4())
    assert envelope.type == "outreach.school_visit.scheduled_late.v12"


@pytest.mark.parametrize(
    "override",
    [
        {"type": "not-an-event-type"},
        {"source": ""},
        {"specversion": "0.3"},
        {"datacontenttype": "text/plain"},
        {"correlationid": "not-a-uuid"},
        {"id": "not-a-uuid"},
    ],
)
def test_envelope_rejects_bad_attributes(override: dict[str, Any]) -> None:
    values: dict[str, Any] = {
        "source": "/services/projects",
        "type": "projects.partner.registered.v1",
        "correlationid": str(uuid.uuid4()),
        "data": {},
    }
    RawEnvelope.model_validate(values)  # the baseline is valid
    with pytest.raises(ValidationError):
        RawEnvelope.model_validate(values | override)


def test_raw_envelope_requires_a_correlation_id() -> None:
    with pytest.raises(ValidationError, match="correlationid"):
        RawEnvelope.model_validate({"source": "/s", "type": "a.b.c.v1", "data": {}})


def test_partner_registered_v1_accepts_a_valid_payload() -> None:
    partner_id = uuid.uuid4()
    payload = PartnerRegisteredV1.model_validate({"partner_id": str(partner_id), "name": "A", "kind": "nhs_service"})
    assert payload.partner_id == partner_id
    assert payload.kind is PartnerKind.NHS_SERVICE
    assert payload.areas_of_work == []


@pytest.mark.parametrize(
    "override",
    [
        {"name": ""},
        {"name": "x" * 201},
        {"kind": "hospital"},
        {"partner_id": "not-a-uuid"},
        {"areas_of_work": [f"area {i}" for i in range(21)]},
        {"contact_email": "alice@example.org"},  # contact details never travel in this event
    ],
)
def test_partner_registered_v1_rejects_invalid_values(override: dict[str, Any]) -> None:
    values = {"partner_id": str(uuid.uuid4()), "name": "A", "kind": "charity"}
    with pytest.raises(ValidationError):
        PartnerRegisteredV1.model_validate(values | override)


def test_payloads_are_immutable() -> None:
    payload = _payload()
    with pytest.raises(ValidationError):
        payload.name = "changed"  # type: ignore[misc]


def test_every_published_contract_is_well_formed() -> None:
    types = [payload.event_type for payload in ALL_EVENT_PAYLOADS]
    assert len(types) == len(set(types))
    for payload in ALL_EVENT_PAYLOADS:
        assert EVENT_TYPE_PATTERN.fullmatch(payload.event_type)
        assert payload.source.startswith("/services/")
        assert payload.event_type.split(".")[0] == payload.source.removeprefix("/services/")


@pytest.mark.parametrize(
    ("kind", "partner_id", "primary", "valid"),
    [
        ("partner_contact", uuid.uuid4(), True, True),
        ("supervisor", None, False, True),
        ("partner_contact", None, False, False),  # whose contact?
        ("student", uuid.uuid4(), False, False),
        ("supervisor", None, True, False),
    ],
)
def test_a_contact_address_names_a_partner_for_partner_contacts_only(
    kind: str, partner_id: uuid.UUID | None, primary: bool, valid: bool
) -> None:
    fields = {"contact_id": uuid.uuid4(), "kind": kind, "partner_id": partner_id, "primary": primary}
    if valid:
        assert ContactAddressSetV1.model_validate({**fields, "email": "a@b.example"}).kind == kind
    else:
        with pytest.raises(ValidationError):
            ContactAddressSetV1.model_validate({**fields, "email": "a@b.example"})
    assert ContactAddressSetV1.personal_data  # its outbox rows go as soon as they are published
