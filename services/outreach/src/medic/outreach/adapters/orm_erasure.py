"""Erasure records (the proof of each erasure, kept for good) and the yearly retention reviews with their items.

Ids, codes, dates and counts only: no personal details, no free text. A participant is named by their pseudonymous
id, a medical student by their person id.
"""

from sqlalchemy import JSON, Column, Date, ForeignKey, Index, Integer, String, Table, UniqueConstraint, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

erasure_records = Table(
    "erasure_records",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subject_kind", String(20), nullable=False),  # participant, safeguarding_person
    Column("subject_id", String(200), nullable=False),
    Column("erased_at", UtcDateTime, nullable=False),
    Column("erased_by", String(200), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("request_reference", String(40)),
    Column("deleted", JSON, nullable=False),  # {what: how many}
    Column("partners_notified", Integer, nullable=False),
    Column("retention_review_id", Uuid),
    # One erasure per subject: a second (or a concurrent one) finds the first.
    UniqueConstraint("subject_kind", "subject_id", name="uq_erasure_records_subject"),
)

retention_reviews = Table(
    "retention_reviews",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("year", Integer, nullable=False, unique=True),  # one review per year, whichever replica lists it
    Column("listed_at", UtcDateTime, nullable=False),
    Column("listed_by", String(200), nullable=False),
    Column("erase_from", Date, nullable=False),
    Column("status", String(10), nullable=False),  # listed, completed
    Column("completed_at", UtcDateTime),
)

retention_review_items = Table(
    "retention_review_items",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("review_id", Uuid, ForeignKey("retention_reviews.id"), nullable=False),
    Column("subject_kind", String(20), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("due_since", Date, nullable=False),
    Column("status", String(10), nullable=False),  # listed, kept, erased, failed
    Column("keep_reason", String(40)),
    Column("review_again_on", Date),
    Column("kept_by", String(200)),
    Column("kept_at", UtcDateTime),
    Column("erased_at", UtcDateTime),
    Column("failure", String(100)),
    UniqueConstraint("review_id", "subject_kind", "subject_id", name="uq_retention_review_items_subject"),
    Index("ix_retention_review_items_subject", "subject_kind", "subject_id"),
)
