"""Events published by the outreach service, one module per area.

Each module lists what it publishes in `PUBLISHED`; `PUBLISHED` here is all of them. No event carries a
participant's personal details or free text about anyone: participants appear by their pseudonymous id only.
"""

from medic.shared.events import EventPayload

from . import (
    activities,
    consent,
    erasure,
    indicators,
    mentoring,
    outcomes,
    primary,
    safeguarding,
    schools,
    surveys,
    watcch,
)
from .schools import SchoolPhase, SchoolRegisteredV1, SchoolUpdatedV1, SchoolV1

PUBLISHED: tuple[type[EventPayload], ...] = (
    *schools.PUBLISHED,
    *primary.PUBLISHED,
    *indicators.PUBLISHED,
    *activities.PUBLISHED,
    *surveys.PUBLISHED,
    *watcch.PUBLISHED,
    *outcomes.PUBLISHED,
    *safeguarding.PUBLISHED,
    *consent.PUBLISHED,
    *mentoring.PUBLISHED,
    *erasure.PUBLISHED,
)

__all__ = ["PUBLISHED", "SchoolPhase", "SchoolRegisteredV1", "SchoolUpdatedV1", "SchoolV1"]
