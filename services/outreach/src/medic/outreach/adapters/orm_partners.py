"""Outreach's copy of the community partners registered by projects."""

from sqlalchemy import JSON, Column, String, Table, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

known_partners = Table(
    "known_partners",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("areas_of_work", JSON, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)
