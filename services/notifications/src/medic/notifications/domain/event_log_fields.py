"""What the ops event log keeps of each event: an allow-list of `data` fields per event type. No I/O here.

The log keeps ids, codes, states, dates, counts and organisations' names (partners, GP practices, schools, local
authorities: not personal data, and what ops reads first). It never keeps a person's name or address, nor a label
or text a person typed (project titles, group and cycle names): those stay with the service that owns them. An
event type not listed here keeps its ids only (`id`, `*_id`, `*_ids` holding id-shaped values), so a new event shows
up in the log safely before anyone decides more. The addresses of the directory (`projects.contact_address.*`, the
only events carrying personal data) keep `contact_id`, `kind` and `partner_id`, whatever their version.
"""

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

CONTACT_ADDRESS_PREFIX = "projects.contact_address."
CONTACT_ADDRESS_FIELDS = frozenset({"contact_id", "kind", "partner_id"})

# Field groups, space-separated, shared by families of events.
_PROJECT = "project_id cohort_id group_id practice_id partner_ids "
_TRANSITION = _PROJECT + "from_state to_state"
_AGREEMENT = "partner_id revision agreement_id kind starts_on ends_on status"
_SCHOOL = "urn laestab name phase local_authority_code local_authority_name state_funded"
_SESSION = "session_id term_id urn "
_SESSION_DAY = _SESSION + "date year_group key_stage topic_id "
_ACTIVITY = "activity_id cycle_id kind "
_REGISTRATION = _ACTIVITY + "participant_id status places_taken waitlisted "
_CYCLE = "cycle_id academic_year capacity applications_open_on applications_close_on programme_starts_on"
_APPLICATION = "application_id cycle_id participant_id "
_CONSENT = "participant_id scope party partner_ids "
_MATCH = "match_id programme_id mentor_id participant_id "
_TRANSITIONS = (
    "proposal_submitted changes_requested approved rejected governance_cleared delivery_started evaluation_started "
    "submitted showcased assessed closed withdrawn paused reopened"
)

_FIELDS: dict[str, str] = {
    # projects: partners (an organisation's name and areas of work show), their contacts (ids only), agreements
    "projects.partner.registered.v1": "partner_id name kind areas_of_work",
    "projects.partner.updated.v1": "partner_id revision name kind areas_of_work",
    "projects.partner.archived.v1": "partner_id revision",
    "projects.partner.unarchived.v1": "partner_id revision",
    "projects.partner_contact.added.v1": "partner_id revision contact_id primary",
    "projects.partner_contact.updated.v1": "partner_id revision contact_id primary",
    "projects.partner_contact.removed.v1": "partner_id revision contact_id",
    "projects.partner_agreement.added.v1": _AGREEMENT,
    "projects.partner_agreement.updated.v1": _AGREEMENT,
    "projects.partner_agreement.activated.v1": _AGREEMENT,
    "projects.partner_agreement.terminated.v1": _AGREEMENT,
    # projects: set-up (a group's name is a label people type: not kept)
    "projects.cohort.created.v1": "cohort_id academic_year placement_start placement_end min_group_size max_group_size",
    "projects.cohort.changed.v1": "cohort_id academic_year placement_start placement_end min_group_size max_group_size",
    "projects.practice.registered.v1": "practice_id ods_code name area",
    "projects.practice.changed.v1": "practice_id ods_code name area",
    "projects.supervisor.registered.v1": "supervisor_id practice_ids",
    "projects.supervisor.changed.v1": "supervisor_id practice_ids",
    "projects.student.registered.v1": "student_id",
    "projects.student.changed.v1": "student_id",
    "projects.group.created.v1": "group_id cohort_id practice_id student_ids supervisor_ids",
    "projects.group.changed.v1": "group_id cohort_id practice_id student_ids supervisor_ids",
    "projects.group.formed.v1": "group_id cohort_id practice_id student_ids supervisor_ids",
    # projects: lifecycle (a title is text students type: not kept)
    "projects.project.created.v1": _PROJECT + "topic",
    "projects.project.updated.v1": _PROJECT + "section state",
    **{f"projects.project.{verb}.v1": _TRANSITION for verb in _TRANSITIONS.split()},
    "projects.project.verification_requested.v1": _PROJECT + "partner_id",
    "projects.project.verification_link_issued.v1": _PROJECT + "verification_id partner_id contact_id expires_at",
    "projects.project.verified.v1": _PROJECT + "verification_id",
    "projects.project.disputed.v1": _PROJECT + "verification_id",
    "projects.project.verification_pending.v1": _PROJECT + "verification_id partner_id contact_id issued_at",
    # projects: milestones and assessment (never a mark)
    "projects.cohort_milestone.set.v1": "cohort_id milestone due_on",
    "projects.milestone.approaching.v1": "project_id cohort_id group_id milestone due_on",
    "projects.milestone.due.v1": "project_id cohort_id group_id milestone due_on",
    "projects.milestone.overdue.v1": "project_id cohort_id group_id milestone due_on",
    "projects.cohort.rubric_set.v1": "cohort_id criteria",
    "projects.project.marks_recorded.v1": _PROJECT + "assessment_complete",
    "projects.project.marks_moderated.v1": _PROJECT,
    "projects.cohort.marks_released.v1": "cohort_id project_ids",
    "projects.project.nominated_for_prize.v1": _PROJECT + "nominations",
    "projects.project.reflection_written.v1": _PROJECT + "student_id",
    # projects: the verification email's request (its link is a credential: never kept)
    "projects.verification_link.mail_requested.v1": "verification_id project_id partner_id contact_id expires_at",
    # outreach: schools (organisations), primary sessions (counts, never a pupil)
    "outreach.school.registered.v1": _SCHOOL,
    "outreach.school.updated.v1": _SCHOOL,
    "outreach.session.planned.v1": _SESSION_DAY + "student_ids",
    "outreach.session.plan_reviewed.v1": _SESSION,
    "outreach.session.delivered.v1": _SESSION_DAY + "pupils classes teacher_present_throughout",
    "outreach.session.feedback_collected.v1": _SESSION,
    "outreach.session.closed.v1": _SESSION,
    "outreach.session.cancelled.v1": _SESSION,
    "outreach.indicator_edition.loaded.v1": "dataset edition geography rows participants_rederived",
    # outreach: WATCCH activities, surveys, cycles (a cycle's name is a label: not kept), applications, outcomes
    "outreach.activity.scheduled.v1": _ACTIVITY + "capacity",
    "outreach.activity.capacity_changed.v1": _ACTIVITY + "capacity places_taken waitlisted",
    "outreach.activity.cancelled.v1": _ACTIVITY + "places_taken waitlisted",
    "outreach.activity.pairs_assigned.v1": _ACTIVITY + "pairs",
    "outreach.activity.registration_confirmed.v1": _REGISTRATION + "from_waitlist",
    "outreach.activity.registration_waitlisted.v1": _REGISTRATION,
    "outreach.activity.registration_cancelled.v1": _REGISTRATION,
    "outreach.activity.attendance_recorded.v1": _ACTIVITY + "participant_id attendance hours",
    "outreach.survey.questionnaire_version_published.v1": "questionnaire_id version items",
    "outreach.survey.response_recorded.v1": "response_id questionnaire_id version participant_id cycle_id "
    "activity_id kind",
    "outreach.watcch_cycle.opened.v1": _CYCLE,
    "outreach.watcch_cycle.closed.v1": _CYCLE,
    "outreach.watcch_application.submitted.v1": _APPLICATION + "school_urn year_group entered_by_coordinator",
    "outreach.watcch_application.decided.v1": _APPLICATION + "eligible rules_version reevaluation",
    "outreach.watcch_application.waitlisted.v1": _APPLICATION,
    "outreach.watcch_application.offered.v1": _APPLICATION + "expires_at from_waitlist",
    "outreach.watcch_application.accepted.v1": _APPLICATION,
    "outreach.watcch_application.declined.v1": _APPLICATION,
    "outreach.watcch_application.offer_expired.v1": _APPLICATION,
    "outreach.watcch_application.enrolled.v1": _APPLICATION,
    "outreach.watcch_application.completed.v1": _APPLICATION,
    "outreach.watcch_application.withdrawn.v1": _APPLICATION + "previous_state",
    "outreach.outcome.recorded.v1": "outcome_id participant_id stage course_type entry_year outcome_source",
    # outreach: safeguarding (university ids, codes and dates)
    "outreach.safeguarding_person.registered.v1": "person_id",
    "outreach.safeguarding_person.left.v1": "person_id left_on",
    "outreach.dbs_check.recorded.v1": "person_id check_id level workforce issued_on seen_how recheck_due_on",
    "outreach.dbs_check.voided.v1": "person_id check_id reason",
    "outreach.dbs_check.update_service_checked.v1": "person_id check_id checked_on result recheck_due_on",
    "outreach.dbs_check.recheck_due.v1": "person_id check_id due_on days_before",
    "outreach.dbs_check.lapsed.v1": "person_id check_id due_on",
    "outreach.safeguarding_training.recorded.v1": "person_id training_id expires_on completed_on",
    "outreach.safeguarding_training.expiring.v1": "person_id training_id expires_on days_before",
    "outreach.safeguarding_training.lapsed.v1": "person_id training_id expires_on",
    "outreach.safeguarding_renewal.started.v1": "person_id",
    "outreach.safeguarding_renewal.stopped.v1": "person_id",
    # outreach: consent (codes and dates, never the wording)
    "outreach.consent.given.v1": _CONSENT + "text_version method given_on recorded_at expires_on",
    "outreach.consent.withdrawn.v1": _CONSENT + "method withdrawn_on recorded_at",
    "outreach.consent.expiring.v1": _CONSENT + "expires_on days_left",
    "outreach.consent.expired.v1": _CONSENT + "expires_on",
    # outreach: mentoring (codes, never notes)
    "outreach.mentoring_programme.created.v1": "programme_id cycle_id starts_on ends_on",
    "outreach.mentoring_match.proposed.v1": _MATCH,
    "outreach.mentoring_match.accepted.v1": _MATCH,
    "outreach.mentoring_match.declined.v1": _MATCH,
    "outreach.mentoring_match.paused.v1": _MATCH + "automatic reason_codes",
    "outreach.mentoring_match.resumed.v1": _MATCH,
    "outreach.mentoring_match.completed.v1": _MATCH,
    "outreach.mentoring_match.ended.v1": _MATCH + "previous_state by_erasure",
    "outreach.mentoring_session.logged.v1": "session_id " + _MATCH + "held_on mode topic minutes",
    # outreach: erasure and retention (ids, dates and counts)
    "outreach.participant.erased.v1": "participant_id erased_at erasure_id",
    "outreach.partner_erasure_notice.requested.v1": "partner_id participant_id erasure_id",
    "outreach.safeguarding_person.erased.v1": "person_id erased_at erasure_id",
    "outreach.retention_review.listed.v1": "review_id year participants safeguarding_people erase_from",
    "outreach.retention_review.completed.v1": "review_id year listed kept erased",
}

FIELDS: Mapping[str, frozenset[str]] = MappingProxyType(
    {event_type: frozenset(fields.split()) for event_type, fields in _FIELDS.items()}
)
"""The `data` fields the log keeps, by event type (the contact addresses' prefix rule aside)."""

# An id: a UUID, a university id, a URN, a code. No `@`, no spaces: never an address or a sentence.
_ID_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")


def kept_fields(event_type: str) -> frozenset[str] | None:
    """The fields the log keeps of an event of this type; None for a type it knows nothing of (ids only)."""
    if event_type.startswith(CONTACT_ADDRESS_PREFIX):
        return CONTACT_ADDRESS_FIELDS
    return FIELDS.get(event_type)


def loggable(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What the log keeps of `data`: the type's allow-listed fields, or an unknown type's ids.

    Allowed fields keep their values as published; the caller still redacts personal keys nested inside them (no
    contract has any: that is the net under a publisher's mistake)."""
    fields = kept_fields(event_type)
    if fields is not None:
        return {key: value for key, value in data.items() if key in fields}
    return {key: value for key, value in data.items() if _is_id_key(key) and _is_id_value(value)}


def _is_id_key(key: str) -> bool:
    return key == "id" or key.endswith(("_id", "_ids"))


def _is_id_value(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_id_scalar(item) for item in value)
    return value is None or _is_id_scalar(value)


def _is_id_scalar(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and _ID_TEXT.fullmatch(value) is not None
