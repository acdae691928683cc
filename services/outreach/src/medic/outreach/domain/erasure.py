"""Erasure ("forget me"): what an erasure is, why it was asked for, and the record kept as its proof. No I/O here.

An erasure deletes a person's personal details (never masks them) and strips or deletes what was derived from them;
the pseudonymous id stays where it only counts (an application's state, attendance, survey scores, outcomes), so
the aggregate figures still add up. What is kept is the erasure record: who asked (by reason code and an optional
request reference, never free text), who erased, when, and how much went from where: the proof UK GDPR's
accountability principle (art. 5(2)) asks for.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SubjectKind(StrEnum):
    """Whose record: a WATCCH participant (by pseudonymous id) or a medical student's safeguarding record (by
    person id, the university id their token names)."""

    PARTICIPANT = "participant"
    SAFEGUARDING_PERSON = "safeguarding_person"


class ErasureReason(StrEnum):
    """Why a record is erased: a code, never typed text (it is kept for good and may be shown to auditors)."""

    SUBJECT_REQUEST = "subject_request"  # the person asked (UK GDPR art. 17)
    PARENT_OR_GUARDIAN_REQUEST = "parent_or_guardian_request"  # for a child, a person with parental responsibility
    CONSENT_WITHDRAWN = "consent_withdrawn"  # the lawful basis was consent and it was withdrawn
    LEFT_THE_PROGRAMME = "left_the_programme"  # a medical student left, or a participant left WATCCH
    RETENTION_PERIOD_ENDED = "retention_period_ended"  # the yearly retention sweep
    UNLAWFULLY_PROCESSED = "unlawfully_processed"  # held without a basis (e.g. entered in error)


class ErasureNotFound(LookupError):
    """No such participant or person here (and no erasure of them either)."""


@dataclass(frozen=True)
class ErasureRecord:
    """The proof an erasure happened, kept for good: ids, codes, a timestamp and counts only."""

    id: uuid.UUID
    kind: SubjectKind
    subject_id: str
    erased_at: datetime
    erased_by: str  # the coordinator's user id, or "retention-sweep"
    reason: ErasureReason
    request_reference: str | None  # e.g. the data-protection office's case number
    deleted: Mapping[str, int] = field(hash=False)  # what went, by kind of data: how many rows or events
    partners_notified: int = 0
    retention_review_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Erasure:
    """The answer to an erasure: the record, and whether it was there already (then nothing new happened)."""

    record: ErasureRecord
    already_erased: bool


SWEEP_USER = "retention-sweep"
