"""What partner payloads need that events do not repeat: project titles, which partner a school is, each partner's
message sequence. Organisations and ids only: nothing here is personal data."""

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Uuid

from medic.notifications.adapters.orm import metadata
from medic.shared.db import UtcDateTime

# A project's title from its creation: later events carry no title.
partner_event_projects = Table(
    "partner_event_projects",
    metadata,
    Column("project_id", Uuid, primary_key=True),
    Column("title", String(200), nullable=False),
)

# The last `sequence` given to each partner's messages: incremented in the consumer's transaction, so it is gap-free
# and in commit order (the row lock serialises two consumers numbering for the same partner).
partner_event_sequences = Table(
    "partner_event_sequences",
    metadata,
    Column("partner_id", Uuid, primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
)

# Partners as projects published them (to check and name a school link's partner). `revision` orders updates;
# registration is revision 0.
partner_event_partners = Table(
    "partner_event_partners",
    metadata,
    Column("partner_id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("revision", Integer, nullable=False),
)

# Schools as outreach published them (to check and name a school link's URN).
partner_event_schools = Table(
    "partner_event_schools",
    metadata,
    Column("urn", String(6), primary_key=True),
    Column("name", String(200), nullable=False),
)

# Which partner organisation a school is (a coordinator says so): its sessions' events go to that partner.
partner_school_links = Table(
    "partner_school_links",
    metadata,
    Column("urn", String(6), primary_key=True),
    Column("partner_id", Uuid, nullable=False),
    Column("linked_at", UtcDateTime, nullable=False),
    Index("ix_partner_school_links_partner", "partner_id"),
)
