"""WATCCH: participants, their personal details (one table, nothing else), individual indicators, cycles with
their versioned rules, applications, referee links and the offer-expiry timer's firings.

Personal details live in `personal_details` only, keyed by the participant's pseudonymous id; no other table holds
or refers to its columns, so erasing a person is one `DELETE` of one row. Every other table names the participant
by the id alone.
"""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Uuid,
)

from medic.shared.db import UtcDateTime

from .metadata import metadata

participants = Table(
    "participants",
    metadata,
    Column("participant_id", Uuid, primary_key=True),  # uuid4: random, says nothing about the person
    Column("created_at", UtcDateTime, nullable=False),
)

# Everything that identifies a participant or is written by or about them in free text. One row per participant.
personal_details = Table(
    "personal_details",
    metadata,
    Column("participant_id", Uuid, ForeignKey("participants.participant_id"), primary_key=True),
    Column("given_name", String(100), nullable=False),
    Column("family_name", String(100), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("email", String(254), nullable=False),
    Column("phone", String(20)),
    Column("home_postcode", String(8), nullable=False),
    Column("guardian_name", String(200), nullable=False),
    Column("guardian_email", String(254)),
    Column("guardian_phone", String(20)),
    Column("referee_name", String(200)),
    Column("referee_email", String(254)),
    Column("answers", JSON, nullable=False),  # {question: answer} of the form, free text
    Column("notes", JSON, nullable=False),  # coordinators' free text about the participant, e.g. why withdrawn
    Column("updated_at", UtcDateTime, nullable=False),
)

individual_indicators = Table(
    "individual_indicators",
    metadata,
    Column("participant_id", Uuid, ForeignKey("participants.participant_id"), primary_key=True),
    Column("measure", String(30), primary_key=True),
    Column("source", String(20), primary_key=True),
    Column("recorded_at", UtcDateTime, primary_key=True),
    Column("value", String(40), nullable=False),
)

watcch_cycles = Table(
    "watcch_cycles",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("academic_year", String(7), nullable=False, unique=True),
    Column("capacity", Integer, nullable=False),
    Column("places_taken", Integer, nullable=False),  # offered + accepted + enrolled + completed
    Column("applications_open_on", Date, nullable=False),
    Column("applications_close_on", Date, nullable=False),
    Column("programme_starts_on", Date, nullable=False),
    Column("programme_ends_on", Date, nullable=False),
    Column("offer_lifetime_days", SmallInteger, nullable=False),
    Column("year_groups", JSON, nullable=False),
    Column("questions", JSON, nullable=False),
    Column("status", String(10), nullable=False),
    Column("rules_version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

watcch_rule_versions = Table(
    "watcch_rule_versions",
    metadata,
    Column("cycle_id", Uuid, ForeignKey("watcch_cycles.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("rules", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

watcch_applications = Table(
    "watcch_applications",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("reference", String(15), nullable=False, unique=True),
    Column("cycle_id", Uuid, ForeignKey("watcch_cycles.id"), nullable=False),
    Column("participant_id", Uuid, ForeignKey("participants.participant_id"), nullable=False),
    Column("school_urn", String(6), ForeignKey("schools.urn"), nullable=False),
    Column("year_group", String(10), nullable=False),
    Column("state", String(15), nullable=False),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("entered_by_coordinator", Boolean, nullable=False),
    Column("rules_version", Integer),
    Column("decision", JSON),  # the findings, rule by rule, with the values used
    Column("decided_at", UtcDateTime),
    Column("eligible_at", UtcDateTime),  # the waitlist order: this, then the draw
    Column("queue_draw", Integer),
    Column("offered_at", UtcDateTime),
    Column("offer_expires_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_watcch_applications_cycle_state", "cycle_id", "state"),
    Index("ix_watcch_applications_offer_expires_at", "offer_expires_at"),
    # Activities and surveys ask whether a participant is enrolled in a cycle, on every registration and response.
    Index("ix_watcch_applications_participant_cycle", "participant_id", "cycle_id"),
)

watcch_referee_links = Table(
    "watcch_referee_links",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("application_id", Uuid, ForeignKey("watcch_applications.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("superseded", Boolean, nullable=False),
    Column("decision", String(20)),
    Column("decided_at", UtcDateTime),
    Index("ix_watcch_referee_links_application_id", "application_id"),
)

# A timer's firing, once per key (e.g. `offer_expiry:<application>:<offered_at>`), as projects' fired_timers.
watcch_fired_timers = Table(
    "watcch_fired_timers",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("fired_at", UtcDateTime, nullable=False),
)
