"""The yearly retention review, as dates and states. No I/O here.

On 1 September each year (where the programmes run) the records past their retention period are listed; a
coordinator may keep one, with a reason code and a day to review it again; from 1 November (after the end of
October), and never less than `min_review_days` after the listing, everything listed and not kept is erased. A
review belongs to the year whose 1 September it follows: one review per year, listed once and completed once.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from medic.outreach.domain.dates import add_months, add_years
from medic.outreach.domain.erasure import SubjectKind

LISTING_DAY = (9, 1)  # 1 September
ERASING_DAY = (11, 1)  # 1 November: everything not kept by the end of October goes


class KeepReason(StrEnum):
    """Why a record past its retention is kept for now (a code: kept for the review's report)."""

    SAFEGUARDING_CONCERN = "safeguarding_concern"  # an open or recent safeguarding matter involving the person
    LEGAL_CLAIM = "legal_claim"  # a claim, complaint or investigation that needs the record
    STATUTORY_REQUIREMENT = "statutory_requirement"  # a law or regulator requires it kept longer
    STILL_ACTIVE = "still_active"  # the person is in a programme again (a new cycle, back at the school)


class ItemStatus(StrEnum):
    LISTED = "listed"
    KEPT = "kept"
    ERASED = "erased"
    FAILED = "failed"  # the erasure raised; the next run tries again


class ReviewStatus(StrEnum):
    LISTED = "listed"
    COMPLETED = "completed"


class RetentionConflict(Exception):
    """The review or item is not in a state that allows this (409); `field` names what decides."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class RetentionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class RetentionPolicy:
    participant_years: int  # after the programme of the participant's last cycle ended
    safeguarding_months: int  # after the medical student left
    min_review_days: int  # the least time coordinators get between the listing and the erasing

    def participants_ended_before(self, day: date) -> date:
        """Participants whose last programme ended before this day are due on `day`."""
        return add_years(day, -self.participant_years)

    def people_left_before(self, day: date) -> date:
        """Medical students who left before this day are due on `day`."""
        return add_months(day, -self.safeguarding_months)


def review_year(today: date) -> int:
    """The year of the latest 1 September on or before `today`: the review `today` belongs to."""
    return today.year if (today.month, today.day) >= LISTING_DAY else today.year - 1


def listing_day(year: int) -> date:
    return date(year, *LISTING_DAY)


def erase_from(year: int, listed_on: date, policy: RetentionPolicy) -> date:
    """1 November of the review's year, or `min_review_days` after a late listing, whichever is later."""
    return max(date(year, *ERASING_DAY), listed_on + timedelta(days=policy.min_review_days))


@dataclass(frozen=True)
class ReviewItem:
    id: uuid.UUID
    review_id: uuid.UUID
    kind: SubjectKind
    subject_id: str
    due_since: date  # when its retention period ended
    status: ItemStatus
    keep_reason: KeepReason | None = None
    review_again_on: date | None = None
    kept_by: str | None = None
    kept_at: datetime | None = None
    erased_at: datetime | None = None
    failure: str | None = None  # the error's type name, never its message


@dataclass(frozen=True)
class Review:
    id: uuid.UUID
    year: int
    listed_at: datetime
    listed_by: str  # a coordinator's user id, or "retention-sweep"
    erase_from: date
    status: ReviewStatus
    completed_at: datetime | None = None


def check_keep(review: Review, item: ReviewItem, review_again_on: date, today: date) -> None:
    """A coordinator may keep a listed (or failed) item of a review not yet completed, to review again later."""
    if review.status is ReviewStatus.COMPLETED:
        raise RetentionConflict("the review is completed: what was not kept is erased", "review_id")
    if item.status is ItemStatus.ERASED:
        raise RetentionConflict("the record is erased already", "item_id")
    if review_again_on <= today:
        raise RetentionConflict("the day to review it again must be after today", "review_again_on")


def check_run(review: Review, today: date) -> None:
    """The erasing stage runs from the review's `erase_from` day, once."""
    if review.status is ReviewStatus.COMPLETED:
        raise RetentionConflict("the review is completed already", "review_id")
    if today < review.erase_from:
        raise RetentionConflict(
            f"coordinators may keep records until {review.erase_from - timedelta(days=1)}: erasing starts on "
            f"{review.erase_from}",
            "erase_from",
        )


def still_kept(review_again_on: date | None, day: date) -> bool:
    """A record kept in an earlier review is not listed again before the day it is to be reviewed again."""
    return review_again_on is not None and review_again_on > day
