"""The notifications database schema (SQLAlchemy Core). Migrations in `migrations/` create it."""

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, MetaData, String, Table, Text, Uuid

from medic.shared.db import UtcDateTime
from medic.shared.inbox import inbox_table
from medic.shared.outbox import outbox_table

metadata = MetaData()

event_log = Table(
    "event_log",
    metadata,
    # The arrival order, which `GET /events` pages by: a late event (its `time` long past) still comes after
    # every page already read. BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("type", String(200), nullable=False),
    Column("source", Text, nullable=False),
    Column("subject", Text),
    Column("time", UtcDateTime, nullable=False),
    Column("correlation_id", Uuid, nullable=False),
    Column("causation_id", Uuid),
    Column("data", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Index("ix_event_log_time", "time"),
    Index("ix_event_log_type", "type"),
    Index("ix_event_log_correlation_id", "correlation_id"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
