"""Tables of community partners: the organisations, their contacts and their agreements."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    text,
)

from medic.shared.db import UtcDateTime

from .metadata import metadata

partners = Table(
    "partners",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_key", String(200), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("areas_of_work", JSON, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime, nullable=True),
    # Raised by every change to the partner, its contacts or agreements; a write that did not start from the
    # current revision is refused (optimistic locking).
    Column("revision", Integer, nullable=False, server_default="1"),
)

partner_contacts = Table(
    "partner_contacts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("partner_id", Uuid, ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=True),  # unknown for the contact a registration's contact_email made
    Column("email", String(320), nullable=False),
    Column("role", String(100), nullable=False),
    Column("is_primary", Boolean, nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    UniqueConstraint("partner_id", "email", name="uq_partner_contacts_email"),
    # At most one primary contact per partner, whatever the code does.
    Index(
        "uq_partner_contacts_one_primary",
        "partner_id",
        unique=True,
        postgresql_where=text("is_primary"),
        sqlite_where=text("is_primary"),
    ),
)

partner_agreements = Table(
    "partner_agreements",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("partner_id", Uuid, ForeignKey("partners.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("status", String(20), nullable=False),  # draft, active or terminated; expired is read from ends_on
    Column("added_at", UtcDateTime, nullable=False),
)
