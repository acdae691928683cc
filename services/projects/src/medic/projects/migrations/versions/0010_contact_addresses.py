"""Publish every adult's address once, for the notifications directory: the supervisors, students and partner
contacts registered before `projects.contact_address.set.v1` existed (later changes publish their own).

A data migration: it stages the events in the outbox, which the relay publishes once the service runs. The events
are the only ones carrying names and addresses (see medic.shared.contracts.projects.contacts).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from medic.shared.contracts.projects.contacts import ContactAddressSetV1, ContactKind
from medic.shared.db import UtcDateTime
from medic.shared.events import Envelope

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_outbox = sa.table(
    "outbox",
    sa.column("event_id", sa.Uuid()),
    sa.column("event_type", sa.String()),
    sa.column("body", sa.LargeBinary()),
    sa.column("state", sa.String()),
    sa.column("created_at", UtcDateTime()),
    sa.column("available_at", UtcDateTime()),
    sa.column("attempts", sa.Integer()),
    sa.column("correlation_id", sa.Uuid()),
)
_people = {
    ContactKind.SUPERVISOR: sa.table("supervisors", sa.column("id", sa.Uuid()), sa.column("name"), sa.column("email")),
    ContactKind.STUDENT: sa.table("students", sa.column("id", sa.Uuid()), sa.column("name"), sa.column("email")),
}
_partner_contacts = sa.table(
    "partner_contacts",
    sa.column("id", sa.Uuid()),
    sa.column("partner_id", sa.Uuid()),
    sa.column("name"),
    sa.column("email"),
    sa.column("is_primary", sa.Boolean()),
)


def backfill(connection: sa.Connection) -> int:
    """Stage a `projects.contact_address.set.v1` per supervisor, student and partner contact; returns how many."""
    payloads: list[ContactAddressSetV1] = []
    for kind, table in _people.items():
        for row in connection.execute(sa.select(table).order_by(table.c.id)):
            payloads.append(ContactAddressSetV1(contact_id=row.id, kind=kind, email=row.email, display_name=row.name))
    query = sa.select(_partner_contacts).order_by(_partner_contacts.c.partner_id, _partner_contacts.c.id)
    for row in connection.execute(query):
        payloads.append(
            ContactAddressSetV1(
                contact_id=row.id,
                kind=ContactKind.PARTNER_CONTACT,
                partner_id=row.partner_id,
                primary=row.is_primary,
                email=row.email,
                display_name=row.name,
            )
        )
    now, correlation_id = datetime.now(UTC), uuid.uuid4()  # one correlation id: the backfill
    rows = []
    for payload in payloads:
        subject = f"contacts/{payload.kind.value}/{payload.contact_id}"
        envelope = Envelope.wrap(payload, subject=subject, correlation_id=correlation_id)
        rows.append(
            {
                "event_id": envelope.id,
                "event_type": envelope.type,
                "body": envelope.model_dump_json(serialize_as_any=True).encode(),
                "state": "pending",
                "created_at": now,
                "available_at": now,
                "attempts": 0,
                "correlation_id": correlation_id,
            }
        )
    if rows:
        connection.execute(sa.insert(_outbox), rows)
    return len(rows)


def upgrade() -> None:
    backfill(op.get_bind())


def downgrade() -> None:
    pass  # the events may be published already: there is nothing to undo
