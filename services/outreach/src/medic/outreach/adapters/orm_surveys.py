"""Questionnaires, their versions and items; responses and their answers. Participants by pseudonymous id only."""

from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from medic.shared.db import UtcDateTime

from .metadata import metadata

survey_questionnaires = Table(
    "survey_questionnaires",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

survey_versions = Table(
    "survey_versions",
    metadata,
    Column("questionnaire_id", Uuid, ForeignKey("survey_questionnaires.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("published_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

survey_items = Table(
    "survey_items",
    metadata,
    Column("questionnaire_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("code", String(40), nullable=False),
    Column("text", String(300), nullable=False),
    ForeignKeyConstraint(
        ["questionnaire_id", "version"], ["survey_versions.questionnaire_id", "survey_versions.version"]
    ),
    UniqueConstraint("questionnaire_id", "version", "code", name="uq_survey_items_code"),
)

survey_responses = Table(
    "survey_responses",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("questionnaire_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("participant_id", Uuid, ForeignKey("participants.participant_id"), nullable=False),
    Column("cycle_id", Uuid, ForeignKey("watcch_cycles.id"), nullable=False),
    Column("activity_id", Uuid, ForeignKey("activities.id")),
    Column("kind", String(4), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(
        ["questionnaire_id", "version"], ["survey_versions.questionnaire_id", "survey_versions.version"]
    ),
    # One response per participant, version and kind: a second is refused (409), also when two race.
    UniqueConstraint("questionnaire_id", "version", "participant_id", "kind", name="uq_survey_responses_one"),
    Index("ix_survey_responses_questionnaire_id_cycle_id", "questionnaire_id", "cycle_id"),
    Index("ix_survey_responses_participant_id", "participant_id"),
)

survey_answers = Table(
    "survey_answers",
    metadata,
    Column("response_id", Uuid, ForeignKey("survey_responses.id"), primary_key=True),
    Column("item_code", String(40), primary_key=True),
    Column("value", SmallInteger, nullable=False),  # 1 to 5
)
