"""Integration event contracts: the payloads services publish, one package or module per publishing service.

Consumers import these classes; a change to a published payload is a new version (`.v2`), never an edit.
"""

from medic.shared.events import EventPayload

from . import outreach, projects
from .projects import PartnerKind, PartnerRegisteredV1

ALL_EVENT_PAYLOADS: tuple[type[EventPayload], ...] = (*projects.PUBLISHED, *outreach.PUBLISHED)

__all__ = ["ALL_EVENT_PAYLOADS", "PartnerKind", "PartnerRegisteredV1"]
