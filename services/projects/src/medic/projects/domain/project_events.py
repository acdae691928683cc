"""Domain events of a project, past tense. The service layer turns them into integration events."""

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ProjectEvent:
    project_id: uuid.UUID


@dataclass(frozen=True)
class ProjectCreated(ProjectEvent):
    pass


@dataclass(frozen=True)
class ProjectEdited(ProjectEvent):
    section: str


@dataclass(frozen=True)
class ProjectTransitioned(ProjectEvent):
    action: str
    from_state: str
    to_state: str
    reason: str | None
    by: str  # the user who took the action
    at: datetime


@dataclass(frozen=True)
class VerificationRequested(ProjectEvent):
    """The partner is (again) asked to confirm what was delivered."""


@dataclass(frozen=True)
class VerificationDecided(ProjectEvent):
    decision: str
    verification_id: uuid.UUID
