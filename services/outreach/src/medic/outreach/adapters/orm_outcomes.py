"""WATCCH progression outcomes: one row per fact (participant, stage, course type, year of entry, source)."""

from sqlalchemy import Column, Date, ForeignKey, Index, SmallInteger, String, Table, UniqueConstraint, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

progression_outcomes = Table(
    "progression_outcomes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("participant_id", Uuid, ForeignKey("participants.participant_id"), nullable=False),
    Column("stage", String(10), nullable=False),
    Column("course_type", String(20), nullable=False),
    Column("entry_year", SmallInteger, nullable=False),
    Column("source", String(15), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint(
        "participant_id", "stage", "course_type", "entry_year", "source", name="uq_progression_outcomes_fact"
    ),
    Index("ix_progression_outcomes_participant_id", "participant_id"),
)
