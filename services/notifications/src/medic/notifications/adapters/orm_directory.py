"""The directory of adult contacts and what the email rules keep to address and time their messages."""

from sqlalchemy import Boolean, Column, ForeignKey, Index, PrimaryKeyConstraint, String, Table, Text, Uuid

from medic.notifications.adapters.orm import metadata
from medic.shared.db import UtcDateTime

# Supervisors, students and partner contacts by (kind, their projects id). `email`/`display_name` are personal
# data, NULL once the contact is removed (the row stays as a tombstone: see domain.directory).
directory_contacts = Table(
    "directory_contacts",
    metadata,
    Column("kind", String(20), nullable=False),
    Column("contact_id", Uuid, nullable=False),
    Column("partner_id", Uuid),
    Column("is_primary", Boolean, nullable=False, default=False),
    Column("email", Text),
    Column("display_name", Text),
    Column("as_of", UtcDateTime, nullable=False),
    Column("removed_at", UtcDateTime),
    PrimaryKeyConstraint("kind", "contact_id", name="pk_directory_contacts"),
    Index("ix_directory_contacts_partner_id", "partner_id"),
)

directory_groups = Table(
    "directory_groups",
    metadata,
    Column("group_id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
)

# kind: `student` or `supervisor`; the member's id is their contact id of that kind.
directory_group_members = Table(
    "directory_group_members",
    metadata,
    Column("group_id", Uuid, ForeignKey("directory_groups.group_id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("contact_id", Uuid, nullable=False),
    PrimaryKeyConstraint("group_id", "kind", "contact_id", name="pk_directory_group_members"),
)

directory_projects = Table(
    "directory_projects",
    metadata,
    Column("project_id", Uuid, primary_key=True),
    Column("group_id", Uuid, nullable=False),
    Column("title", Text),
    Column("lead_partner_id", Uuid),
    Column("as_of", UtcDateTime, nullable=False),
)

# The "WATCCH offer expiring" timer: one row per application with an offer (pseudonymous ids only).
watcch_offer_reminders = Table(
    "watcch_offer_reminders",
    metadata,
    Column("application_id", Uuid, primary_key=True),
    Column("cycle_id", Uuid, nullable=False),
    Column("participant_id", Uuid, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("remind_at", UtcDateTime, nullable=False),
    Column("state", String(20), nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
    Index("ix_watcch_offer_reminders_due", "state", "remind_at"),
    Index("ix_watcch_offer_reminders_participant_id", "participant_id"),
)
