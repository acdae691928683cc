"""Events published by the projects service."""

import uuid
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload


class PartnerKind(StrEnum):
    CHARITY = "charity"
    SCHOOL = "school"
    OUTREACH_TEAM = "outreach_team"
    NETWORK = "network"
    COMMUNITY_GROUP = "community_group"
    NHS_SERVICE = "nhs_service"


class PartnerRegisteredV1(EventPayload):
    """A community partner was registered. Carries no contact details: those stay in projects."""

    event_type: ClassVar[str] = "projects.partner.registered.v1"
    source: ClassVar[str] = "/services/projects"

    partner_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    kind: PartnerKind
    areas_of_work: list[str] = Field(default_factory=list, max_length=20)
