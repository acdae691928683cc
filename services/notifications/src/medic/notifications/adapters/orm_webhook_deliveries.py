"""Webhook messages, their deliveries (one per endpoint) and every attempt; and each endpoint's delivery health.

Endpoints themselves are H1's table (`orm_webhook_endpoints`): ids only here, no foreign key, so an endpoint's
deletion leaves its attempt history readable until retention removes it.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)

from medic.notifications.adapters.orm import metadata
from medic.shared.db import UtcDateTime

# One per (partner, event type, event): stored even when no endpoint wants it yet, so a later replay can send it.
webhook_messages = Table(
    "webhook_messages",
    metadata,
    Column("id", Uuid, primary_key=True),  # `webhook-id` is `msg_` + its hex
    Column("partner_id", Uuid, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("body", Text, nullable=False),  # the raw JSON body, fixed once: every attempt sends these bytes
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("partner_id", "event_type", "event_id", name="uq_webhook_messages_event"),
    Index("ix_webhook_messages_partner_type_created", "partner_id", "event_type", "created_at"),
)

# One per (message, endpoint). `available_at` is when it may next be tried; a dispatcher claiming it moves it past
# its lease and sets `claim`, and only the holder of that claim may write its result.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("message_id", Uuid, nullable=False),
    Column("endpoint_id", Uuid, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),  # counted against the retry schedule
    Column("free_throttles", Integer, nullable=False),  # 429s that did not count
    Column("available_at", UtcDateTime, nullable=False),
    Column("claim", Uuid),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("message_id", "endpoint_id", name="uq_webhook_deliveries_message_endpoint"),
    # What is waiting, per endpoint, oldest first: claims, the dispatcher's scan of due endpoints, backlogs.
    Index(
        "ix_webhook_deliveries_pending",
        "endpoint_id",
        "available_at",
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    ),
    Index("ix_webhook_deliveries_endpoint", "endpoint_id", "status", "updated_at"),  # recover
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    # The order attempts are listed by. BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("delivery_id", Uuid, nullable=False),
    Column("message_id", Uuid, nullable=False),
    Column("endpoint_id", Uuid, nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("status_code", Integer),
    Column("duration_ms", Float, nullable=False),
    Column("response_excerpt", Text),  # at most 1 kB of what the receiver answered; never the request body
    Column("error", String(200)),
    Index("ix_webhook_attempts_endpoint", "endpoint_id", "id"),
    Index("ix_webhook_attempts_message", "message_id", "id"),
    Index("ix_webhook_attempts_endpoint_time", "endpoint_id", "attempted_at"),
)

webhook_endpoint_health = Table(
    "webhook_endpoint_health",
    metadata,
    Column("endpoint_id", Uuid, primary_key=True),
    Column("failing_since", UtcDateTime),  # the first failure after the last success; None while healthy
    Column("last_success_at", UtcDateTime),
    Column("last_failure_at", UtcDateTime),
)
