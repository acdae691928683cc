"""Events of the safeguarding area (being built)."""

from medic.shared.events import EventPayload

PUBLISHED: tuple[type[EventPayload], ...] = ()
