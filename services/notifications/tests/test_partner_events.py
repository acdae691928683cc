"""What a partner may see (pure): the catalogue, and the per-type allow-list turning an internal event into partner
events, only for the partners it is about, with only ids, titles, states, dates and counts."""

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from medic.notifications.domain.partner_events import (
    CATALOGUE,
    PARTNER_EVENT_TYPE_PATTERN,
    SOURCES,
    Draft,
    Known,
    drafts,
)
from medic.shared.contracts.outreach import consent, erasure, primary
from medic.shared.contracts.projects import partners, projects
from medic.shared.events import EventPayload
from medic.shared.logging import is_personal_key

LEAD, SECOND, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
PROJECT, COHORT, GROUP, PRACTICE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
PARTICIPANT, ERASURE, SESSION, TERM = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
WHEN = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)
FACTS: dict[str, Any] = {
    "project_id": PROJECT,
    "cohort_id": COHORT,
    "group_id": GROUP,
    "practice_id": PRACTICE,
    "partner_ids": [LEAD, SECOND],
}
# What a partner must never be sent, whatever the type: the group and its students, marks, people's ids.
NEVER = {
    "group_id",
    "practice_id",
    "student_ids",
    "student_id",
    "supervisor_ids",
    "mentor_id",
    "person_id",
    "contact_id",
    "teacher_present_throughout",
    "marks",
    "partner_ids",
}


def sample(payload: type[EventPayload]) -> EventPayload:
    """A valid instance of every internal event the projection reads."""
    agreement = {
        "partner_id": LEAD,
        "revision": 3,
        "agreement_id": uuid.uuid4(),
        "kind": "data_sharing",
        "starts_on": dt.date(2026, 9, 1),
        "ends_on": dt.date(2027, 8, 31),
        "status": "active",
    }
    session = {"session_id": SESSION, "term_id": TERM, "urn": "100000"}
    day = {"date": dt.date(2026, 12, 9), "year_group": "year_5", "key_stage": "ks2", "topic_id": "healthy_eating"}
    sharing = {"participant_id": PARTICIPANT, "scope": "partner_sharing", "party": "guardian", "partner_ids": [LEAD]}
    values: dict[type[EventPayload], dict[str, Any]] = {
        projects.ProjectCreatedV1: {**FACTS, "title": "Cook & eat", "topic": "nutrition"},
        projects.ProjectVerificationRequestedV1: {**FACTS, "partner_id": LEAD},
        projects.ProjectVerifiedV1: {**FACTS, "verification_id": uuid.uuid4()},
        projects.ProjectDisputedV1: {**FACTS, "verification_id": uuid.uuid4()},
        primary.SessionPlannedV1: {**session, **day, "student_ids": ["2301234", "2301299"]},
        primary.SessionDeliveredV1: {**session, **day, "pupils": 28, "classes": 1, "teacher_present_throughout": True},
        primary.SessionCancelledV1: session,
        erasure.PartnerErasureNoticeRequestedV1: {
            "partner_id": LEAD,
            "participant_id": PARTICIPANT,
            "erasure_id": ERASURE,
        },
        consent.ConsentWithdrawnV1: {
            **sharing,
            "method": "email",
            "withdrawn_on": dt.date(2026, 12, 6),
            "recorded_at": WHEN,
        },
        consent.ConsentExpiredV1: {**sharing, "expires_on": dt.date(2026, 12, 6)},
    }
    if issubclass(payload, projects.ProjectTransitionV1):
        return payload.model_validate({**FACTS, "from_state": "proposal_review", "to_state": "approved"})
    if payload.event_type.startswith("projects.partner_agreement."):
        return payload.model_validate(agreement)
    return payload.model_validate(values[payload])


KNOWN = Known(project_title="Cook & eat", school_partner_id=OTHER)


@pytest.mark.parametrize("source", SOURCES.values(), ids=list(SOURCES))
def test_every_internal_event_read_makes_partner_events_that_fit_the_catalogue(source: type[EventPayload]) -> None:
    made = drafts(sample(source), KNOWN)
    assert made, f"{source.event_type} makes no partner event"
    for draft in made:
        data = draft.payload(sequence=1, occurred_at=WHEN)
        assert draft.event_type in CATALOGUE
        assert set(data) == set(CATALOGUE[draft.event_type].payload.model_fields)
        assert not set(data) & NEVER, draft.event_type
        assert data["partner_id"] == str(draft.partner_id) and data["sequence"] == 1
        assert dt.datetime.fromisoformat(data["occurred_at"]) == WHEN


def test_the_catalogue_names_follow_one_pattern_and_every_schema_orders_and_routes() -> None:
    for name, event_type in CATALOGUE.items():
        assert re.fullmatch(PARTNER_EVENT_TYPE_PATTERN, name) and event_type.name == name
        assert event_type.description.endswith(".")
        schema = event_type.json_schema()
        assert {"partner_id", "sequence", "occurred_at"} <= set(schema["required"]), name
        assert schema["additionalProperties"] is False, name
        for field, definition in schema["properties"].items():
            assert definition.get("description"), f"{name}.{field} needs a description for partners"
            assert not is_personal_key(field) and field not in NEVER, f"{name}.{field}"


def test_a_payload_takes_no_field_the_catalogue_does_not_name() -> None:
    draft = Draft(
        LEAD, "participant.erasure_requested.v1", {"participant_id": PARTICIPANT, "erasure_id": ERASURE, "name": "Ada"}
    )
    with pytest.raises(ValidationError):
        draft.payload(sequence=1, occurred_at=WHEN)


def test_a_project_event_goes_to_each_of_its_partners_once_saying_which_leads() -> None:
    created = projects.ProjectCreatedV1.model_validate(
        {**FACTS, "partner_ids": [LEAD, SECOND, LEAD], "title": "Cook & eat", "topic": "nutrition"}
    )
    made = drafts(created, Known())
    assert [(d.partner_id, d.event_type, d.fields["lead"]) for d in made] == [
        (LEAD, "project.created.v1", True),
        (SECOND, "project.created.v1", False),
    ]
    assert made[0].payload(sequence=4, occurred_at=WHEN) == {
        "partner_id": str(LEAD),
        "sequence": 4,
        "occurred_at": "2026-12-07T09:30:00Z",
        "project_id": str(PROJECT),
        "cohort_id": str(COHORT),
        "title": "Cook & eat",
        "lead": True,
        "topic": "nutrition",
        "state": "draft",
    }


def test_each_lifecycle_step_is_its_own_type_with_the_remembered_title() -> None:
    for action, payload in projects.TRANSITION_EVENTS.items():
        event = payload.model_validate({**FACTS, "from_state": "a", "to_state": "b"})
        [lead, second] = drafts(event, Known(project_title="Cook & eat"))
        verb = payload.event_type.split(".")[2]
        assert lead.event_type == second.event_type == f"project.{verb}.v1", action
        assert lead.fields == {
            "project_id": PROJECT,
            "cohort_id": COHORT,
            "title": "Cook & eat",
            "from_state": "a",
            "to_state": "b",
            "lead": True,
        }
    unseen = drafts(projects.ProjectApprovedV1.model_validate({**FACTS, "from_state": "a", "to_state": "b"}), Known())
    assert unseen[0].payload(sequence=1, occurred_at=WHEN)["title"] is None  # created before we listened


def test_a_project_with_no_partner_is_nobodys() -> None:
    event = projects.ProjectApprovedV1.model_validate({**FACTS, "partner_ids": [], "from_state": "a", "to_state": "b"})
    assert drafts(event, KNOWN) == []
    verified = projects.ProjectVerifiedV1.model_validate({**FACTS, "partner_ids": [], "verification_id": uuid.uuid4()})
    assert drafts(verified, KNOWN) == []


def test_verification_goes_to_the_partner_asked_and_its_answer_to_the_lead_only() -> None:
    asked = projects.ProjectVerificationRequestedV1.model_validate({**FACTS, "partner_id": SECOND})
    [draft] = drafts(asked, KNOWN)
    assert (draft.partner_id, draft.fields["lead"], draft.fields["verification_id"]) == (SECOND, False, None)
    answer = uuid.uuid4()
    for payload, kind in ((projects.ProjectVerifiedV1, "verified"), (projects.ProjectDisputedV1, "disputed")):
        [draft] = drafts(payload.model_validate({**FACTS, "verification_id": answer}), KNOWN)
        assert (draft.partner_id, draft.event_type, draft.fields["verification_id"]) == (
            LEAD,
            f"project.{kind}.v1",
            answer,
        )


def test_other_project_events_tell_partners_nothing() -> None:
    """Marks, reflections, milestones, section edits: the students' business, not the partner's."""
    for event_type in (
        "projects.project.updated.v1",
        "projects.project.marks_recorded.v1",
        "projects.project.reflection_written.v1",
        "projects.milestone.due.v1",
        "projects.project.verification_link_issued.v1",
        "projects.partner_contact.added.v1",
    ):
        assert event_type not in SOURCES


def test_an_agreement_goes_to_its_partner() -> None:
    event = sample(partners.PartnerAgreementActivatedV1)
    [draft] = drafts(event, KNOWN)
    assert draft.partner_id == LEAD and draft.event_type == "agreement.activated.v1"
    assert draft.payload(sequence=1, occurred_at=WHEN)["status"] == "active"


def test_a_session_goes_to_the_partner_its_school_is_and_to_nobody_before_it_is_linked() -> None:
    delivered = sample(primary.SessionDeliveredV1)
    assert drafts(delivered, Known()) == []
    [draft] = drafts(delivered, Known(school_partner_id=OTHER))
    data = draft.payload(sequence=2, occurred_at=WHEN)
    assert draft.partner_id == OTHER and draft.event_type == "session.delivered.v1"
    assert {k: data[k] for k in ("urn", "date", "year_group", "key_stage", "topic_id", "pupils", "classes")} == {
        "urn": "100000",
        "date": "2026-12-09",
        "year_group": "year_5",
        "key_stage": "ks2",
        "topic_id": "healthy_eating",
        "pupils": 28,
        "classes": 1,
    }
    [planned] = drafts(sample(primary.SessionPlannedV1), Known(school_partner_id=OTHER))
    assert "student_ids" not in planned.payload(sequence=3, occurred_at=WHEN)


def test_an_erasure_notice_goes_to_the_partner_named() -> None:
    [draft] = drafts(sample(erasure.PartnerErasureNoticeRequestedV1), KNOWN)
    assert draft.partner_id == LEAD and draft.event_type == "participant.erasure_requested.v1"
    assert draft.fields == {"participant_id": PARTICIPANT, "erasure_id": ERASURE}


def test_the_end_of_a_sharing_consent_goes_to_each_partner_it_named() -> None:
    base = {"participant_id": PARTICIPANT, "party": "guardian", "partner_ids": [LEAD, SECOND, LEAD]}
    withdrawn = consent.ConsentWithdrawnV1.model_validate(
        {
            **base,
            "scope": "partner_sharing",
            "method": "email",
            "withdrawn_on": dt.date(2026, 12, 6),
            "recorded_at": WHEN,
        }
    )
    made = drafts(withdrawn, KNOWN)
    assert [d.partner_id for d in made] == [LEAD, SECOND]
    assert made[0].fields == {
        "participant_id": PARTICIPANT,
        "reason": "withdrawn",
        "effective_on": dt.date(2026, 12, 6),
    }
    expired = consent.ConsentExpiredV1.model_validate(
        {**base, "scope": "partner_sharing", "expires_on": dt.date(2026, 12, 31)}
    )
    assert drafts(expired, KNOWN)[0].fields["effective_on"] == dt.date(2027, 1, 1)  # it held through its last day
    research = consent.ConsentWithdrawnV1.model_validate(
        {**base, "scope": "research", "method": "email", "withdrawn_on": dt.date(2026, 12, 6), "recorded_at": WHEN}
    )
    assert drafts(research, KNOWN) == []
