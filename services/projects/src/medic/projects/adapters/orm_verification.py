"""Partner verification links. Only a hash of each link's token is kept: the table alone opens nothing."""

from sqlalchemy import Boolean, Column, ForeignKey, String, Table, Text, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

verification_links = Table(
    "verification_links",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("partner_id", Uuid, ForeignKey("partners.id"), nullable=False),
    Column("contact_id", Uuid, nullable=False),  # the partner contact it was sent to
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256, hex
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("superseded", Boolean, nullable=False),
    Column("decision", String(20), nullable=True),
    Column("comment", Text, nullable=False),
    Column("decided_at", UtcDateTime, nullable=True),
)
