"""Every kind of email this service sends: subject, whether one may unsubscribe, and a sample for previews.

A kind's description is a label (previews, preferences, the unsubscribe footer); which event sends which kind,
and to whom, is `service_layer.email_rules`; each kind's wording is in
`templates/emails/<name>.txt.j2` and `.html.j2`; docs/email-messages.md lists them for people. Every recipient is an
adult (a supervisor, a student, a partner contact or a coordinator); a context never holds a child's details. Dates
arrive formatted (text), as the templates print them.
"""

from collections.abc import Mapping
from types import MappingProxyType

from medic.notifications.domain.emails import EmailKind

PROPOSAL_WAITING = "proposal_waiting"
CHANGES_REQUESTED = "changes_requested"
PROPOSAL_APPROVED = "proposal_approved"
PROPOSAL_REJECTED = "proposal_rejected"
VERIFICATION_REQUEST = "verification_request"
VERIFICATION_RESULT = "verification_result"
MILESTONE_APPROACHING = "milestone_approaching"
MILESTONE_DUE = "milestone_due"
MILESTONE_OVERDUE = "milestone_overdue"
DBS_RECHECK_DUE = "dbs_recheck_due"
CONSENT_EXPIRING = "consent_expiring"
WATCCH_OFFER_MADE = "watcch_offer_made"
WATCCH_OFFER_EXPIRING = "watcch_offer_expiring"
WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled"

_PROJECT = {
    "project_id": "3f2c9a52-7d3e-4d6b-9d7c-0b6a1c2e4f10",
    "project_title": "Healthy lunchboxes at Riverside Primary",
    "group_name": "A1",
}
_MILESTONE = {**_PROJECT, "milestone": "proposal due", "due_on": "Friday 16 October 2026"}

_KINDS = (
    EmailKind(
        name=PROPOSAL_WAITING,
        subject="A project proposal is waiting for your review: {{ project_title }}",
        optional=False,
        description="Proposal waiting for review (to the group's supervisors)",
        sample=_PROJECT,
    ),
    EmailKind(
        name=CHANGES_REQUESTED,
        subject="Changes requested to your proposal: {{ project_title }}",
        optional=False,
        description="Changes requested to a proposal (to the group's students)",
        sample=_PROJECT,
    ),
    EmailKind(
        name=PROPOSAL_APPROVED,
        subject="Your proposal was approved: {{ project_title }}",
        optional=False,
        description="Proposal approved (to the group's students)",
        sample=_PROJECT,
    ),
    EmailKind(
        name=PROPOSAL_REJECTED,
        subject="Your proposal was not approved: {{ project_title }}",
        optional=False,
        description="Proposal not approved (to the group's students)",
        sample=_PROJECT,
    ),
    EmailKind(
        name=VERIFICATION_REQUEST,
        subject="Please confirm what our students delivered: {{ project_title }}",
        optional=False,
        description="Request to verify a project, with its link (to the partner contact)",
        sample={
            **_PROJECT,
            "link": "https://projects.example/verifications/sample-token-not-a-real-one",
            "expires_at": "Friday 18 December 2026, 14:00 UK time",
        },
    ),
    EmailKind(
        name=VERIFICATION_RESULT,
        subject="Your partner {{ 'confirmed' if result == 'verified' else 'disputed' }} the project: "
        "{{ project_title }}",
        optional=False,
        description="Partner's verification answer (to the group's students and supervisors)",
        sample={**_PROJECT, "result": "verified"},
    ),
    EmailKind(
        name=MILESTONE_APPROACHING,
        subject="{{ milestone | capitalize }} on {{ due_on }}: {{ project_title }}",
        optional=True,
        description="Milestone coming up, within a week (to the group's students)",
        sample=_MILESTONE,
    ),
    EmailKind(
        name=MILESTONE_DUE,
        subject="{{ milestone | capitalize }} today: {{ project_title }}",
        optional=True,
        description="Milestone due today (to the group's students)",
        sample=_MILESTONE,
    ),
    EmailKind(
        name=MILESTONE_OVERDUE,
        subject="Overdue: {{ milestone }} for {{ project_title }}",
        optional=False,
        description="Milestone overdue (to the group's students)",
        sample=_MILESTONE,
    ),
    EmailKind(
        name=DBS_RECHECK_DUE,
        subject="DBS recheck due in {{ days_before }} days (person {{ person_id }})",
        optional=False,
        description="DBS recheck due in 30, 14 or 7 days (to the coordinators)",
        sample={"person_id": "2301234", "due_on": "Monday 1 February 2027", "days_before": 30},
    ),
    EmailKind(
        name=CONSENT_EXPIRING,
        subject="A WATCCH consent expires in {{ days_left }} days",
        optional=False,
        description="WATCCH consent nearing its end (to the coordinators)",
        sample={
            "participant_id": "8d0f6c1e-2b7a-4f39-a1d2-5c6e7f809a1b",
            "scope": "partner sharing",
            "expires_on": "Thursday 31 December 2026",
            "days_left": 14,
        },
    ),
    EmailKind(
        name=WATCCH_OFFER_MADE,
        subject="A WATCCH place was offered",
        optional=True,
        description="WATCCH place offered (to the coordinators)",
        sample={
            "application_id": "5b1e0c7d-9a2f-4e3b-8c6d-1f2a3b4c5d6e",
            "cycle_id": "0c9b8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d",
            "expires_at": "Monday 14 December 2026, 17:00 UK time",
            "from_waitlist": False,
        },
    ),
    EmailKind(
        name=WATCCH_OFFER_EXPIRING,
        subject="A WATCCH offer lapses soon",
        optional=False,
        description="WATCCH offer about to lapse (to the coordinators)",
        sample={
            "application_id": "5b1e0c7d-9a2f-4e3b-8c6d-1f2a3b4c5d6e",
            "cycle_id": "0c9b8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d",
            "expires_at": "Monday 14 December 2026, 17:00 UK time",
        },
    ),
    EmailKind(
        name=WEBHOOK_ENDPOINT_DISABLED,
        subject="A webhook endpoint was disabled",
        optional=False,
        description="Webhook endpoint disabled (to the partner's primary contact and the coordinators)",
        sample={
            "endpoint_id": "9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b",
            "partner_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "url": "https://hooks.riverside.example/medic",
            "reason": "failing since Monday 7 December 2026, 04:00 UK time",
            "disabled_at": "Saturday 12 December 2026, 04:00 UK time",
        },
    ),
)

KINDS: Mapping[str, EmailKind] = MappingProxyType({kind.name: kind for kind in _KINDS})
