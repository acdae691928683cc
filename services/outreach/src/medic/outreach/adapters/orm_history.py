"""The append-only history of safeguarding and consent (see domain/history.py), and one head row per stream.

`record_history` is only ever inserted into, except by erasure. `record_streams` holds one row per subject whose
row lock serialises the writers (and the guards reading) of that subject's history.
"""

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

record_history = Table(
    "record_history",
    metadata,
    # BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("stream", String(20), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("type", String(60), nullable=False),
    Column("data", JSON, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Index("ix_record_history_subject", "stream", "subject_id", "seq"),
)

record_streams = Table(
    "record_streams",
    metadata,
    Column("stream", String(20), primary_key=True),
    Column("subject_id", String(200), primary_key=True),
    Column("version", Integer, nullable=False),  # events appended so far
    Column("updated_at", UtcDateTime, nullable=False),
)
