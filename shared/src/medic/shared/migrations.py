"""Migration operations every service shares, frozen per version like any migration.

A service's first migration calls `create_messaging_tables_v1()`; a later change to the outbox or inbox
gets a `..._v2` here and a new migration in each service, never an edit to v1.
"""

import sqlalchemy as sa
from alembic import op


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def create_messaging_tables_v1(*, outbox: bool, inbox: bool) -> None:
    if outbox:
        op.create_table(
            "outbox",
            sa.Column("id", _big_id(), primary_key=True, autoincrement=True),
            sa.Column("event_id", sa.Uuid(), nullable=False, unique=True),
            sa.Column("event_type", sa.String(200), nullable=False),
            sa.Column("body", sa.LargeBinary(), nullable=False),
            sa.Column("state", sa.String(16), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("published_at", sa.DateTime(timezone=True)),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("last_error", sa.Text()),
        )
        op.create_index("ix_outbox_pending", "outbox", ["state", "id"])
    if inbox:
        op.create_table(
            "inbox",
            sa.Column("consumer", sa.String(100), nullable=False),
            sa.Column("event_id", sa.Uuid(), nullable=False),
            sa.Column("event_type", sa.String(200), nullable=False),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("consumer", "event_id"),
        )


def drop_messaging_tables_v1(*, outbox: bool, inbox: bool) -> None:
    if inbox:
        op.drop_table("inbox")
    if outbox:
        op.drop_index("ix_outbox_pending", "outbox")
        op.drop_table("outbox")


def upgrade_messaging_tables_v2(*, outbox: bool, inbox: bool) -> None:
    """v2: the outbox keeps each event's correlation id (the relay sets it as the AMQP property); the inbox
    gets an index on `received_at` for its retention sweep."""
    if outbox:
        with op.batch_alter_table("outbox") as table:
            table.add_column(sa.Column("correlation_id", sa.Uuid()))
    if inbox:
        op.create_index("ix_inbox_received_at", "inbox", ["received_at"])


def downgrade_messaging_tables_v2(*, outbox: bool, inbox: bool) -> None:
    if inbox:
        op.drop_index("ix_inbox_received_at", "inbox")
    if outbox:
        with op.batch_alter_table("outbox") as table:
            table.drop_column("correlation_id")
