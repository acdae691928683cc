"""The emails' tables (on the service's one `metadata`): each email asked for, its attempts, and who unsubscribed
from which optional kind. Migration 0005 creates them."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from medic.notifications.adapters.orm import metadata
from medic.shared.db import UtcDateTime

emails = Table(
    "emails",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(100), nullable=False),
    Column("cause_id", String(200), nullable=False),
    Column("recipient", String(254), nullable=False),  # lower-cased
    Column("recipient_name", String(200)),
    Column("context", JSON),  # what the templates need; dropped once sent
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # When the sender may take it: the next attempt, or (while a sender holds it) the end of that sender's lease.
    Column("next_attempt_at", UtcDateTime),
    Column("claim", Uuid),  # the holding sender's claim: a result is written only by the claim it was sent under
    Column("sent_at", UtcDateTime),
    Column("last_error", String(300)),
    Column("last_code", Integer),
    # One email per (cause, recipient, kind): a redelivered event, or a rule run twice, queues nothing more.
    UniqueConstraint("cause_id", "recipient", "kind", name="uq_emails_cause_recipient_kind"),
    Index("ix_emails_due", "status", "next_attempt_at"),
    Index("ix_emails_created", "created_at", "id"),
    Index("ix_emails_recipient", "recipient"),
)

email_attempts = Table(
    "email_attempts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("email_id", Uuid, ForeignKey("emails.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("code", Integer),
    Column("detail", Text),
    Column("duration_ms", Integer, nullable=False),
    Index("ix_email_attempts_email", "email_id", "id"),
)

# A row per (recipient, optional kind) unsubscribed from; subscribing again deletes it.
email_unsubscriptions = Table(
    "email_unsubscriptions",
    metadata,
    Column("recipient", String(254), nullable=False),
    Column("kind", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("recipient", "kind", name="pk_email_unsubscriptions"),
)
