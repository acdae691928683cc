"""The ops log stores each event's allow-listed fields: organisations' names show; people's names, addresses, free
text and credentials never reach it; a type it does not know keeps its ids only."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import select

from medic.notifications.adapters import orm
from medic.notifications.bootstrap import NotificationsService
from medic.notifications.domain.event_log_fields import CONTACT_ADDRESS_FIELDS, FIELDS, kept_fields, loggable
from medic.shared.contracts import ALL_EVENT_PAYLOADS
from medic.shared.logging import is_personal_key

if TYPE_CHECKING:  # conftest is not importable at run time (--import-mode=importlib); fixtures hand these out
    from services.notifications.tests.conftest import DeliverTo, EnvelopeFactory

# The only personal-sounding keys the log keeps: organisations' names, which are not personal data.
ORGANISATION_NAMES = {
    ("projects.partner.registered.v1", "name"),
    ("projects.partner.updated.v1", "name"),
    ("projects.practice.registered.v1", "name"),
    ("projects.practice.changed.v1", "name"),
    ("outreach.school.registered.v1", "name"),
    ("outreach.school.updated.v1", "name"),
    ("outreach.school.registered.v1", "local_authority_name"),
    ("outreach.school.updated.v1", "local_authority_name"),
}
# Text people type, and a credential: published, never logged.
NEVER_LOGGED = {
    ("projects.project.created.v1", "title"),
    ("projects.group.created.v1", "name"),
    ("projects.group.changed.v1", "name"),
    ("projects.group.formed.v1", "name"),
    ("outreach.watcch_cycle.opened.v1", "name"),
    ("outreach.watcch_cycle.closed.v1", "name"),
    ("projects.contact_address.set.v1", "email"),
    ("projects.contact_address.set.v1", "display_name"),
    ("projects.contact_address.set.v1", "primary"),
    ("projects.verification_link.mail_requested.v1", "link"),
}


def test_every_published_event_type_has_an_allow_list_naming_only_its_own_fields() -> None:
    for payload in ALL_EVENT_PAYLOADS:
        fields = kept_fields(payload.event_type)
        assert fields is not None, f"decide what the log keeps of {payload.event_type} in event_log_fields.py"
        assert fields <= set(payload.model_fields) | CONTACT_ADDRESS_FIELDS, payload.event_type
    assert set(FIELDS) <= {payload.event_type for payload in ALL_EVENT_PAYLOADS}, "an allow-list for no event"


def test_what_is_left_out_and_what_personal_sounding_keys_stay_are_exactly_the_decided_ones() -> None:
    left_out = {
        (payload.event_type, field)
        for payload in ALL_EVENT_PAYLOADS
        for field in payload.model_fields
        if field not in (kept_fields(payload.event_type) or ())
    }
    assert left_out == NEVER_LOGGED
    personal_sounding = {
        (event_type, field) for event_type, fields in FIELDS.items() for field in fields if is_personal_key(field)
    }
    assert personal_sounding == ORGANISATION_NAMES


def test_a_type_nobody_listed_keeps_its_ids_only() -> None:
    data: dict[str, Any] = {
        "id": 7,
        "widget_id": str(uuid.uuid4()),
        "owner_ids": [str(uuid.uuid4()), "2301234"],
        "parent_id": None,
        "note": "Ada was here",
        "name": "Ada Lovelace",
        "email_id": "ada@example.org",  # shaped like an id by name, not by value
        "message_id": "hello there",
        "contact_id": {"email": "ada@example.org"},
        "flag_id": True,
        "count": 3,
    }
    assert loggable("projects.widget.made.v1", data) == {
        "id": 7,
        "widget_id": data["widget_id"],
        "owner_ids": data["owner_ids"],
        "parent_id": None,
    }


def test_the_contact_address_events_keep_ids_and_kind_whatever_their_version() -> None:
    data = {"contact_id": "c", "kind": "student", "partner_id": None, "email": "a@b.example", "display_name": "Ada"}
    for version in ("set.v1", "set.v2", "removed.v1"):
        assert loggable(f"projects.contact_address.{version}", data) == {
            "contact_id": "c",
            "kind": "student",
            "partner_id": None,
        }


@pytest.mark.parametrize(
    ("event_type", "data", "kept"),
    [
        (
            "projects.contact_address.set.v1",
            {"contact_id": "C1", "kind": "partner_contact", "partner_id": "P1", "primary": True,
             "email": "ada@riverside.example", "display_name": "Ada Lovelace"},
            {"contact_id": "C1", "kind": "partner_contact", "partner_id": "P1"},
        ),
        (
            "projects.verification_link.mail_requested.v1",
            {"verification_id": "V1", "project_id": "PR1", "partner_id": "P1", "contact_id": "C1",
             "link": "https://projects.example/verifications/tok_secret", "expires_at": "2026-12-21T00:00:00Z"},
            {"verification_id": "V1", "project_id": "PR1", "partner_id": "P1", "contact_id": "C1",
             "expires_at": "2026-12-21T00:00:00Z"},
        ),
        (
            "projects.project.created.v1",
            {"project_id": "PR1", "cohort_id": "CO1", "group_id": "G1", "practice_id": "PA1", "partner_ids": ["P1"],
             "title": "Cooking with Ada's class", "topic": "nutrition"},
            {"project_id": "PR1", "cohort_id": "CO1", "group_id": "G1", "practice_id": "PA1", "partner_ids": ["P1"],
             "topic": "nutrition"},
        ),
        (
            "outreach.school.registered.v1",
            {"urn": "100000", "laestab": "2013614", "name": "Hillside Primary School", "phase": "primary",
             "local_authority_code": "201", "local_authority_name": "City of London", "state_funded": True},
            {"urn": "100000", "laestab": "2013614", "name": "Hillside Primary School", "phase": "primary",
             "local_authority_code": "201", "local_authority_name": "City of London", "state_funded": True},
        ),
    ],
)  # fmt: skip
async def test_what_reaches_the_log_through_the_consumer(
    service: NotificationsService,
    client: httpx.AsyncClient,
    ops: dict[str, str],
    envelope: EnvelopeFactory,
    deliver_to: DeliverTo,
    event_type: str,
    data: dict[str, Any],
    kept: dict[str, Any],
) -> None:
    await deliver_to(envelope(type=event_type, data=data))
    [item] = (await client.get("/events", headers=ops)).json()["items"]
    assert item["data"] == kept
    async with service.engine.connect() as connection:
        stored = (await connection.execute(select(orm.event_log.c.data))).scalar_one()
    assert stored == kept  # left out before storage, not only on the way out


async def test_personal_keys_nested_in_an_allowed_field_are_still_redacted(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    """No contract nests anything personal: this is the net under a publisher's mistake."""
    data = {"partner_id": "P1", "name": "Riverside", "kind": "charity", "areas_of_work": [{"email": "a@b.example"}]}
    await deliver_to(envelope(type="projects.partner.registered.v1", data=data))
    [item] = (await client.get("/events", headers=ops)).json()["items"]
    assert item["data"]["areas_of_work"] == [{"email": "[redacted]"}] and item["data"]["name"] == "Riverside"
