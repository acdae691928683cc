"""Request and response models of the erasure and retention routes: codes, ids, dates and counts, no free text."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from medic.outreach.domain.erasure import Erasure, ErasureNotFound, ErasureReason, ErasureRecord, SubjectKind
from medic.outreach.domain.retention import (
    ItemStatus,
    KeepReason,
    RetentionConflict,
    RetentionNotFound,
    Review,
    ReviewItem,
    ReviewStatus,
)
from medic.outreach.service_layer.retention import ReviewView
from medic.shared.http_fields import IsoDate
from medic.shared.openapi import ErrorOut, FieldErrorsOut

REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,39}$"


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ErasureReason = Field(description="Why (a code: no free text is taken)", examples=["subject_request"])
    request_reference: str | None = Field(
        default=None,
        pattern=REFERENCE_PATTERN,
        description="The request's reference in the data-protection office's case system, if any (letters, digits, "
        "`/ _ . -`; no names)",
        examples=["DPO-2026-0142"],
    )


class ErasureOut(BaseModel):
    """An erasure record: the proof kept (ids, codes, when, by whom, how much went from where)."""

    id: uuid.UUID
    subject_kind: SubjectKind
    subject_id: str = Field(description="The participant's pseudonymous id, or the medical student's person id")
    status: str = Field(description="`erased` now, or `already_erased` (nothing new was done)", examples=["erased"])
    erased_at: datetime
    erased_by: str = Field(description="The coordinator's user id, or `retention-sweep`")
    reason: ErasureReason
    request_reference: str | None
    deleted: dict[str, int] = Field(description="What went, by kind of data: rows or events deleted or stripped")
    partners_notified: int = Field(description="Partners to be told (named in a partner-sharing consent)")
    retention_review_id: uuid.UUID | None
    kept: list[str] = Field(description="What is kept, and why (see docs/erasure.md)")

    @classmethod
    def of(cls, record: ErasureRecord, *, already: bool = False) -> "ErasureOut":
        return cls(
            id=record.id,
            subject_kind=record.kind,
            subject_id=record.subject_id,
            status="already_erased" if already else "erased",
            erased_at=record.erased_at,
            erased_by=record.erased_by,
            reason=record.reason,
            request_reference=record.request_reference,
            deleted=dict(record.deleted),
            partners_notified=record.partners_notified,
            retention_review_id=record.retention_review_id,
            kept=list(KEPT[record.kind]),
        )

    @classmethod
    def of_erasure(cls, erasure: Erasure) -> "ErasureOut":
        return cls.of(erasure.record, already=erasure.already_erased)


KEPT: dict[SubjectKind, tuple[str, ...]] = {
    SubjectKind.PARTICIPANT: (
        "this erasure record: the proof of the erasure (UK GDPR art. 5(2), accountability)",
        "the pseudonymous id in applications' states, attendance, survey scores and outcomes: the aggregate "
        "figures (no personal details are linked to it any more)",
        "each decision's outcome (eligible or not), without the values judged",
    ),
    SubjectKind.SAFEGUARDING_PERSON: (
        "this erasure record: the proof of the erasure (UK GDPR art. 5(2), accountability)",
        "what the safeguarding area keeps of the history (see docs/erasure.md): that checks were seen, by whom "
        "and when, with no certificate number",
    ),
}


class KeepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: KeepReason = Field(description="Why it is kept (a code)", examples=["legal_claim"])
    review_again_on: IsoDate = Field(
        description="When to review it again (after today): it is listed again by the first review on or after it",
        examples=["2030-09-01"],
    )


class ReviewItemOut(BaseModel):
    id: uuid.UUID
    subject_kind: SubjectKind
    subject_id: str
    due_since: date = Field(description="When its retention ended (a safeguarding record: at the latest)")
    status: ItemStatus
    keep_reason: KeepReason | None
    review_again_on: date | None
    kept_by: str | None
    kept_at: datetime | None
    erased_at: datetime | None
    failure: str | None = Field(description="The error's kind when its erasure failed (retried by the next run)")

    @classmethod
    def of(cls, item: ReviewItem) -> "ReviewItemOut":
        return cls(
            id=item.id,
            subject_kind=item.kind,
            subject_id=item.subject_id,
            due_since=item.due_since,
            status=item.status,
            keep_reason=item.keep_reason,
            review_again_on=item.review_again_on,
            kept_by=item.kept_by,
            kept_at=item.kept_at,
            erased_at=item.erased_at,
            failure=item.failure,
        )


class ReviewSummaryOut(BaseModel):
    id: uuid.UUID
    year: int
    listed_at: datetime
    listed_by: str
    erase_from: date = Field(description="From this day what is listed and not kept is erased")
    status: ReviewStatus
    completed_at: datetime | None

    @classmethod
    def of(cls, review: Review) -> "ReviewSummaryOut":
        return cls(
            id=review.id,
            year=review.year,
            listed_at=review.listed_at,
            listed_by=review.listed_by,
            erase_from=review.erase_from,
            status=review.status,
            completed_at=review.completed_at,
        )


class ReviewOut(ReviewSummaryOut):
    """A retention review and what it did: listed, kept (with reasons), erased, failed."""

    listed: int
    kept: int
    erased: int
    failed: int
    items: list[ReviewItemOut]

    @classmethod
    def of_view(cls, view: ReviewView) -> "ReviewOut":
        return cls(
            **ReviewSummaryOut.of(view.review).model_dump(),
            listed=len(view.items),
            kept=view.count(ItemStatus.KEPT),
            erased=view.count(ItemStatus.ERASED),
            failed=view.count(ItemStatus.FAILED),
            items=[ReviewItemOut.of(i) for i in view.items],
        )


@contextmanager
def answering_errors() -> Iterator[None]:
    try:
        yield
    except (ErasureNotFound, RetentionNotFound) as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except RetentionConflict as error:
        loc = ["body", error.field] if error.field else ["body"]
        detail = [{"loc": loc, "msg": error.message, "type": "conflict"}]
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described: dict[int, tuple[object, str]] = {
        200: (ErasureOut, "Erased before: the first erasure's record (nothing new is done or published)"),
        404: (ErrorOut, "No such participant, person, review or item"),
        409: (
            FieldErrorsOut,
            "Not now (`loc` names what decides): the review's state, its erasing day, or a day "
            "that must be after today",
        ),
        422: (FieldErrorsOut, "Bad input: `loc` names the field"),
    }
    return {code: {"model": described[code][0], "description": described[code][1]} for code in codes}
