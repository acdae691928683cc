"""The outreach database schema (SQLAlchemy Core), one module per area. Migrations in `migrations/` create it."""

from medic.shared.inbox import inbox_table
from medic.shared.outbox import outbox_table

from .metadata import metadata
from .orm_partners import known_partners
from .orm_schools import school_contacts, schools

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

__all__ = ["inbox", "known_partners", "metadata", "outbox", "school_contacts", "schools"]
