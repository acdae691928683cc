"""Tables of the webhook endpoints area (migration 0003): the endpoints, and their signing secrets (encrypted)."""

from sqlalchemy import JSON, BigInteger, Boolean, Column, ForeignKey, Index, Integer, Table, Text, Uuid, text

from medic.notifications.adapters.orm import metadata
from medic.shared.db import UtcDateTime

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("partner_id", Uuid, nullable=False),
    Column("url", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("event_types", JSON, nullable=False),  # a list of catalogue names; an endpoint has a few
    Column("enabled", Boolean, nullable=False),
    Column("paused", Boolean, nullable=False),
    Column("rate_limit_per_s", Integer),
    Column("disabled_reason", Text),
    Column("disabled_at", UtcDateTime),
    Column("enabled_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("secret_rotated_at", UtcDateTime),
    Column("rotation_ends_at", UtcDateTime),
    Index("ix_webhook_endpoints_partner_id", "partner_id", "created_at"),
    Index("ix_webhook_endpoints_created_at", "created_at", "id"),
)

webhook_endpoint_secrets = Table(
    "webhook_endpoint_secrets",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("endpoint_id", Uuid, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("sealed", Text, nullable=False),  # Fernet ciphertext of the `whsec_` secret (adapters/secret_box.py)
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),  # null: the current secret
    Index("ix_webhook_endpoint_secrets_endpoint_id", "endpoint_id"),
    # One current secret per endpoint, whatever two rotations at once might try.
    Index(
        "uq_webhook_endpoint_secrets_current",
        "endpoint_id",
        unique=True,
        postgresql_where=text("expires_at IS NULL"),
        sqlite_where=text("expires_at IS NULL"),
    ),
)
