"""WATCCH activities and their registrations (with attendance). Participants by pseudonymous id only."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

activities = Table(
    "activities",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("cycle_id", Uuid, ForeignKey("watcch_cycles.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("title", String(200), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("place", String(200), nullable=False),
    Column("host_kind", String(20)),
    Column("capacity", Integer, nullable=False),
    Column("places_taken", Integer, nullable=False),  # registered; raised only while below capacity
    Column("created_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime),
    Index("ix_activities_cycle_id_starts_at", "cycle_id", "starts_at"),
)

activity_registrations = Table(
    "activity_registrations",
    metadata,
    Column("activity_id", Uuid, ForeignKey("activities.id"), primary_key=True),
    Column("participant_id", Uuid, ForeignKey("participants.participant_id"), primary_key=True),
    Column("status", String(12), nullable=False),
    Column("asked_at", UtcDateTime, nullable=False),  # the waitlist's order
    Column("attendance", String(12)),
    Column("attended_minutes", Integer),
    Column("pair", Integer),  # work experience: the pair the participant is placed in
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_activity_registrations_participant_id", "participant_id"),
)
