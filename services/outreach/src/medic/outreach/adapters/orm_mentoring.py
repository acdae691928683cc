"""Tables of the mentoring area: programmes, mentors' profiles, mentees' preferences, matches, mentoring sessions
and their notes.

A participant appears by their pseudonymous id only (no foreign key to `participants`, so erasure decides what
stays); a mentor by their university id. Free text is in two places, each deleted on erasure: a mentor's `about`
and a session's notes (their own table, coordinators only).
"""

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Index, SmallInteger, String, Table, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

mentoring_programmes = Table(
    "mentoring_programmes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("cycle_id", Uuid, ForeignKey("watcch_cycles.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("interests", JSON, nullable=False),  # the codes its mentors and mentees choose from
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_mentoring_programmes_cycle_id", "cycle_id"),
)

mentor_profiles = Table(
    "mentor_profiles",
    metadata,
    Column("programme_id", Uuid, ForeignKey("mentoring_programmes.id"), primary_key=True),
    Column("person_id", String(50), primary_key=True),
    Column("interests", JSON, nullable=False),
    Column("availability", JSON, nullable=False),  # [[weekday, part of day], ...]
    Column("max_mentees", SmallInteger, nullable=False),
    Column("about", String(2000)),  # the mentor's own words; deleted on erasure
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_mentor_profiles_person_id", "person_id"),
)

mentee_preferences = Table(
    "mentee_preferences",
    metadata,
    Column("programme_id", Uuid, ForeignKey("mentoring_programmes.id"), primary_key=True),
    Column("participant_id", Uuid, primary_key=True),
    Column("interests", JSON, nullable=False),
    Column("availability", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_mentee_preferences_participant_id", "participant_id"),
)

mentoring_matches = Table(
    "mentoring_matches",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("programme_id", Uuid, ForeignKey("mentoring_programmes.id"), nullable=False),
    Column("mentor_id", String(50), nullable=False),
    Column("participant_id", Uuid, nullable=False),
    Column("state", String(15), nullable=False),
    Column("proposed_at", UtcDateTime, nullable=False),
    Column("active_since", UtcDateTime),
    Column("first_active_on", Date),
    Column("paused_automatically", Boolean, nullable=False),
    Column("pause_reasons", JSON, nullable=False),  # codes of the unmet conditions of an automatic pause
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_mentoring_matches_mentor_state", "mentor_id", "state"),
    Index("ix_mentoring_matches_participant_state", "participant_id", "state"),
    Index("ix_mentoring_matches_programme_id", "programme_id"),
)

mentoring_sessions = Table(
    "mentoring_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("match_id", Uuid, ForeignKey("mentoring_matches.id"), nullable=False),
    Column("held_on", Date, nullable=False),
    Column("mode", String(10), nullable=False),
    Column("minutes", SmallInteger, nullable=False),
    Column("topic", String(40), nullable=False),
    Column("logged_by", String(200), nullable=False),
    Column("logged_at", UtcDateTime, nullable=False),
    Index("ix_mentoring_sessions_match_id", "match_id"),
)

# Free text about a session: coordinators only; deleted with the participant's erasure.
mentoring_session_notes = Table(
    "mentoring_session_notes",
    metadata,
    Column("session_id", Uuid, ForeignKey("mentoring_sessions.id"), primary_key=True),
    Column("notes", String(4000), nullable=False),
)
