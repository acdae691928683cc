"""Schools are organisations: their events carry the register's facts (URN, LAESTAB, name, phase, local authority,
funding), never the school contact's name or email, which stay in outreach.
"""

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

from .source import SOURCE


class SchoolPhase(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    ALL_THROUGH = "all_through"
    SPECIAL = "special"
    SIXTEEN_PLUS = "sixteen_plus"


class SchoolV1(EventPayload):
    """What every school event carries: the school as it now is."""

    source: ClassVar[str] = SOURCE

    urn: str = Field(description="The school's URN in Get Information About Schools, 6 digits.", examples=["100000"])
    laestab: str = Field(
        description="Local authority code (3 digits) and establishment number (4 digits).", examples=["2013614"]
    )
    name: str = Field(description="The school's name.", examples=["Hillside Primary School"])
    phase: SchoolPhase = Field(description="The phase of education.")
    local_authority_code: str = Field(description="The local authority's 3-digit code.", examples=["201"])
    local_authority_name: str = Field(description="The local authority's name.", examples=["City of London"])
    state_funded: bool = Field(description="False for an independent school.")


class SchoolRegisteredV1(SchoolV1):
    """A school was added to outreach's register (by hand or by an import)."""

    event_type: ClassVar[str] = "outreach.school.registered.v1"


class SchoolUpdatedV1(SchoolV1):
    """A school's register facts changed (not its contact: that is never published)."""

    event_type: ClassVar[str] = "outreach.school.updated.v1"


PUBLISHED: tuple[type[EventPayload], ...] = (SchoolRegisteredV1, SchoolUpdatedV1)
