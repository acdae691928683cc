"""The outreach database schema (SQLAlchemy Core). Migrations in `migrations/` create it."""

from sqlalchemy import JSON, Column, MetaData, String, Table, Uuid

from medic.shared.db import UtcDateTime
from medic.shared.inbox import inbox_table
from medic.shared.outbox import outbox_table

metadata = MetaData()

known_partners = Table(
    "known_partners",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("areas_of_work", JSON, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
