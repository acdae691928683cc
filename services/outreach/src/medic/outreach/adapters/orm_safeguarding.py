"""Tables of the safeguarding area. The history itself is `record_history` (orm_history.py); these hold what the
history must not: the person's name (personal data, apart), and each certificate number's keyed hash and last four
digits (by check), all of which erasure deletes. `safeguarding_people` is the list of people registered, with their
leaving date and when their personal details were erased (for retention)."""

from sqlalchemy import Column, Date, ForeignKey, Index, String, Table, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

safeguarding_people = Table(
    "safeguarding_people",
    metadata,
    Column("person_id", String(64), primary_key=True),  # their university id
    Column("registered_at", UtcDateTime, nullable=False),
    Column("left_on", Date, nullable=True),
    Column("erased_at", UtcDateTime, nullable=True),
)

# Personal data: read back only for the single person view, for coordinators and the person; never published or
# logged. Deleted by erasure.
safeguarding_person_names = Table(
    "safeguarding_person_names",
    metadata,
    Column(
        "person_id",
        String(64),
        ForeignKey("safeguarding_people.person_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("full_name", String(200), nullable=False),
)

# One row per DBS check: HMAC-SHA256 of the certificate number under OUTREACH_DBS_CERTIFICATE_KEY, and its last four
# digits. Never listed, logged or published. Deleted by erasure (the check stays in the history).
dbs_certificates = Table(
    "dbs_certificates",
    metadata,
    Column("check_id", Uuid, primary_key=True),
    Column("person_id", String(64), ForeignKey("safeguarding_people.person_id", ondelete="CASCADE"), nullable=False),
    Column("number_hmac", String(64), nullable=False),
    Column("last_four", String(4), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_dbs_certificates_person", "person_id"),
)
