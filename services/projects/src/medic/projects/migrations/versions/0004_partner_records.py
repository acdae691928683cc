"""Partners grown up: contacts, agreements, archiving.

Each partner's `contact_email` becomes its first, primary contact (name unknown), and the column goes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# On SQLite, batch mode alters `partners` by copying it and dropping the old table, and with foreign keys on,
# dropping it deletes the rows that reference it (ON DELETE CASCADE). So `partners` is altered while no contact
# or agreement table refers to it: before they are created, and after they are dropped.


def upgrade() -> None:
    partners = sa.table(
        "partners",
        sa.column("id", sa.Uuid()),
        sa.column("contact_email", sa.String()),
        sa.column("registered_at", sa.DateTime(timezone=True)),
    )
    existing = op.get_bind().execute(sa.select(partners.c.id, partners.c.contact_email, partners.c.registered_at)).all()
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        batch.drop_column("contact_email")

    contacts = op.create_table(
        "partner_contacts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("partner_id", sa.Uuid(), sa.ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("partner_id", "email", name="uq_partner_contacts_email"),
    )
    op.create_index(
        "uq_partner_contacts_one_primary",
        "partner_contacts",
        ["partner_id"],
        unique=True,
        postgresql_where=sa.text("is_primary"),
        sqlite_where=sa.text("is_primary"),
    )
    op.create_table(
        "partner_agreements",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("partner_id", sa.Uuid(), sa.ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_partner_agreements_partner_id", "partner_agreements", ["partner_id"])

    # Each registration's address becomes the partner's first, primary contact; its name is not known.
    if existing:
        op.bulk_insert(
            contacts,
            [
                {
                    "id": uuid.uuid4(),
                    "partner_id": row.id,
                    "name": None,
                    "email": row.contact_email,
                    "role": "",
                    "is_primary": True,
                    "added_at": row.registered_at,
                }
                for row in existing
            ],
        )


def downgrade() -> None:
    contacts = sa.table(
        "partner_contacts",
        sa.column("partner_id", sa.Uuid()),
        sa.column("email", sa.String()),
        sa.column("is_primary", sa.Boolean()),
    )
    primary = op.get_bind().execute(sa.select(contacts.c.partner_id, contacts.c.email).where(contacts.c.is_primary))
    addresses = {row.partner_id: row.email for row in primary}
    op.drop_index("ix_partner_agreements_partner_id", table_name="partner_agreements")
    op.drop_table("partner_agreements")
    op.drop_index("uq_partner_contacts_one_primary", table_name="partner_contacts")
    op.drop_table("partner_contacts")

    # A partner without contacts gets "" back: the old schema has no way to say "none".
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("contact_email", sa.String(320), nullable=False, server_default=""))
        batch.drop_column("revision")
        batch.drop_column("archived_at")
    partners = sa.table("partners", sa.column("id", sa.Uuid()), sa.column("contact_email", sa.String()))
    for partner_id, email in addresses.items():
        op.execute(partners.update().where(partners.c.id == partner_id).values(contact_email=email))
