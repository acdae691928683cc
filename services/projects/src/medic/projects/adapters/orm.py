"""The projects database schema (SQLAlchemy Core). Migrations in `migrations/` create it."""

from sqlalchemy import JSON, Column, MetaData, String, Table, Uuid

from medic.shared.db import UtcDateTime
from medic.shared.inbox import inbox_table
from medic.shared.outbox import outbox_table

metadata = MetaData()

partners = Table(
    "partners",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_key", String(200), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("contact_email", String(320), nullable=False),
    Column("areas_of_work", JSON, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
