"""Schools and, in a table of their own, their contacts (adults' personal data, never published)."""

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table

from medic.shared.db import UtcDateTime

from .metadata import metadata

schools = Table(
    "schools",
    metadata,
    Column("urn", String(6), primary_key=True),
    Column("local_authority_code", String(3), nullable=False),
    Column("establishment_number", String(4), nullable=False),
    Column("name", String(200), nullable=False),
    Column("phase", String(20), nullable=False),
    Column("local_authority_name", String(100), nullable=False),
    Column("postcode", String(8), nullable=False),
    Column("state_funded", Boolean, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Index("ix_schools_local_authority_code", "local_authority_code"),
)

school_contacts = Table(
    "school_contacts",
    metadata,
    Column("urn", String(6), ForeignKey("schools.urn"), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("role", String(20), nullable=False),
)
