"""Events about Community Action Projects and their lifecycle, published by the projects service.

They carry ids, states and what consumers need: never a student's name or email, never marks, never the free
text of a proposal or a reviewer's comment (those stay in projects; a consumer that needs them asks its API).
"""

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

_SOURCE = "/services/projects"


class ProjectFacts(EventPayload):
    """What every project event carries: who the project belongs to, so consumers can route it."""

    source: ClassVar[str] = _SOURCE

    project_id: uuid.UUID = Field(description="The project's id, the same in every event about it.")
    cohort_id: uuid.UUID = Field(description="The cohort (academic year) the project belongs to.")
    group_id: uuid.UUID = Field(description="The student group running the project.")
    practice_id: uuid.UUID = Field(description="The GP practice hosting the group's placement.")
    partner_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=20, description="The community partners involved, the lead first."
    )


class ProjectCreatedV1(ProjectFacts):
    """A group started a project (in draft)."""

    event_type: ClassVar[str] = "projects.project.created.v1"
    title: str = Field(min_length=1, max_length=200, description="The project's working title.")
    topic: str = Field(min_length=1, max_length=100, description="The health topic, e.g. `nutrition`.")


class ProjectUpdatedV1(ProjectFacts):
    """A section of the project was edited (the section only, not its content)."""

    event_type: ClassVar[str] = "projects.project.updated.v1"
    section: str = Field(
        description="proposal, governance, dbs_attestation, delivery, evaluation, showcase, progress, measures or pdsa."
    )
    state: str = Field(description="The project's state, unchanged by the edit.")


class ProjectTransitionV1(ProjectFacts):
    """Base of the lifecycle events: each action has its own event type."""

    from_state: str = Field(description="The state the project left.")
    to_state: str = Field(description="The state the project is in now.")


class ProjectProposalSubmittedV1(ProjectTransitionV1):
    """The group submitted its proposal for a supervisor's review."""

    event_type: ClassVar[str] = "projects.project.proposal_submitted.v1"


class ProjectChangesRequestedV1(ProjectTransitionV1):
    """A supervisor asked the group to change its proposal."""

    event_type: ClassVar[str] = "projects.project.changes_requested.v1"


class ProjectApprovedV1(ProjectTransitionV1):
    """A supervisor approved the proposal; governance must still be cleared before delivery."""

    event_type: ClassVar[str] = "projects.project.approved.v1"


class ProjectRejectedV1(ProjectTransitionV1):
    """A supervisor rejected the proposal."""

    event_type: ClassVar[str] = "projects.project.rejected.v1"


class ProjectGovernanceClearedV1(ProjectTransitionV1):
    """A supervisor cleared the project's governance (classification, ethics, risk, DBS attestation)."""

    event_type: ClassVar[str] = "projects.project.governance_cleared.v1"


class ProjectDeliveryStartedV1(ProjectTransitionV1):
    """The group started delivering its intervention."""

    event_type: ClassVar[str] = "projects.project.delivery_started.v1"


class ProjectEvaluationStartedV1(ProjectTransitionV1):
    """Delivery is over; the group is evaluating."""

    event_type: ClassVar[str] = "projects.project.evaluation_started.v1"


class ProjectSubmittedV1(ProjectTransitionV1):
    """The group submitted the project; its partner is asked to verify what was delivered."""

    event_type: ClassVar[str] = "projects.project.submitted.v1"


class ProjectShowcasedV1(ProjectTransitionV1):
    """The project was presented at the showcase."""

    event_type: ClassVar[str] = "projects.project.showcased.v1"


class ProjectAssessedV1(ProjectTransitionV1):
    """The project's assessment is complete (marks are never in events)."""

    event_type: ClassVar[str] = "projects.project.assessed.v1"


class ProjectClosedV1(ProjectTransitionV1):
    """A coordinator closed the project."""

    event_type: ClassVar[str] = "projects.project.closed.v1"


class ProjectWithdrawnV1(ProjectTransitionV1):
    """A coordinator withdrew the project."""

    event_type: ClassVar[str] = "projects.project.withdrawn.v1"


class ProjectPausedV1(ProjectTransitionV1):
    """A coordinator paused the project."""

    event_type: ClassVar[str] = "projects.project.paused.v1"


class ProjectReopenedV1(ProjectTransitionV1):
    """A coordinator reopened a paused project, in the state it was paused in."""

    event_type: ClassVar[str] = "projects.project.reopened.v1"


class ProjectVerificationRequestedV1(ProjectFacts):
    """The lead partner's contact is (again) asked to confirm what the project delivered."""

    event_type: ClassVar[str] = "projects.project.verification_requested.v1"
    partner_id: uuid.UUID = Field(description="The partner asked.")


class ProjectVerificationLinkIssuedV1(ProjectFacts):
    """A verification link was issued to a partner contact (the link itself is never on the bus)."""

    event_type: ClassVar[str] = "projects.project.verification_link_issued.v1"
    verification_id: uuid.UUID = Field(description="The link's id.")
    partner_id: uuid.UUID = Field(description="The partner the contact belongs to.")
    contact_id: uuid.UUID = Field(description="The partner contact the link is for.")
    expires_at: datetime = Field(description="When the link stops working.")


class ProjectVerifiedV1(ProjectFacts):
    """The partner confirmed what the project delivered."""

    event_type: ClassVar[str] = "projects.project.verified.v1"
    verification_id: uuid.UUID = Field(description="The link the decision came through.")


class ProjectDisputedV1(ProjectFacts):
    """The partner disputed what the project says it delivered (their comment stays in projects)."""

    event_type: ClassVar[str] = "projects.project.disputed.v1"
    verification_id: uuid.UUID = Field(description="The link the decision came through.")


class ProjectVerificationPendingV1(ProjectFacts):
    """A verification link has gone unanswered for 7 days: a reminder (sent once per link)."""

    event_type: ClassVar[str] = "projects.project.verification_pending.v1"
    verification_id: uuid.UUID = Field(description="The unanswered link.")
    partner_id: uuid.UUID = Field(description="The partner asked.")
    contact_id: uuid.UUID = Field(description="The partner contact the link went to.")
    issued_at: datetime = Field(description="When the link went out.")


# The event each lifecycle action publishes, by the action's name.
TRANSITION_EVENTS: dict[str, type[ProjectTransitionV1]] = {
    "submit_proposal": ProjectProposalSubmittedV1,
    "request_changes": ProjectChangesRequestedV1,
    "approve": ProjectApprovedV1,
    "reject": ProjectRejectedV1,
    "clear_governance": ProjectGovernanceClearedV1,
    "start_delivery": ProjectDeliveryStartedV1,
    "start_evaluation": ProjectEvaluationStartedV1,
    "submit": ProjectSubmittedV1,
    "showcase": ProjectShowcasedV1,
    "assess": ProjectAssessedV1,
    "close": ProjectClosedV1,
    "withdraw": ProjectWithdrawnV1,
    "pause": ProjectPausedV1,
    "reopen": ProjectReopenedV1,
}

PUBLISHED: tuple[type[EventPayload], ...] = (
    ProjectCreatedV1,
    ProjectUpdatedV1,
    *TRANSITION_EVENTS.values(),
    ProjectVerificationRequestedV1,
    ProjectVerificationLinkIssuedV1,
    ProjectVerifiedV1,
    ProjectDisputedV1,
    ProjectVerificationPendingV1,
)
