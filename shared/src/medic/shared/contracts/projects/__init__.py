"""Events published by the projects service, one module per area: partners, set-up, projects.

Each module lists what it publishes in `PUBLISHED`; `PUBLISHED` here is all of them.
"""

from medic.shared.events import EventPayload

from . import assessment, contacts, milestones, partners, projects, setup
from .partners import PartnerKind, PartnerRegisteredV1

PUBLISHED: tuple[type[EventPayload], ...] = (
    *partners.PUBLISHED,
    *setup.PUBLISHED,
    *projects.PUBLISHED,
    *milestones.PUBLISHED,
    *assessment.PUBLISHED,
    *contacts.PUBLISHED,
)

__all__ = ["PUBLISHED", "PartnerKind", "PartnerRegisteredV1"]
