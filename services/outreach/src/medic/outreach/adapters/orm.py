"""The outreach database schema (SQLAlchemy Core), one module per area. Migrations in `migrations/` create it.

Importing this module imports every area's tables, so `metadata` describes the whole database (the migration test
compares the two).
"""

from medic.shared.inbox import inbox_table
from medic.shared.outbox import outbox_table

from . import (
    orm_activities,
    orm_area_indicators,
    orm_consent,
    orm_erasure,
    orm_history,
    orm_mentoring,
    orm_outcomes,
    orm_primary,
    orm_safeguarding,
    orm_surveys,
    orm_watcch,
)
from .metadata import metadata
from .orm_partners import known_partners
from .orm_schools import school_contacts, schools

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

AREAS = (
    orm_activities,
    orm_area_indicators,
    orm_consent,
    orm_erasure,
    orm_history,
    orm_mentoring,
    orm_outcomes,
    orm_primary,
    orm_safeguarding,
    orm_surveys,
    orm_watcch,
)

__all__ = ["AREAS", "inbox", "known_partners", "metadata", "outbox", "school_contacts", "schools"]
