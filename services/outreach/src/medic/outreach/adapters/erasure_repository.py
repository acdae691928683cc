"""The erasure area's storage: erasure records, retention reviews, and the deletes an erasure makes in outreach's own
WATCCH tables (personal details, derived area codes and values, individual indicators, the values a decision
judged, referee links). The consent, mentoring and safeguarding areas forget their own data (their `forget_*`).

`PARTICIPANT_DATA` says, for every table that names a participant or a person, what an erasure does to it: a test
introspects the schema and fails on a table it does not list, so a new table cannot be forgotten by erasure.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_area_indicators import participant_area_indicators, participant_areas
from medic.outreach.adapters.orm_erasure import erasure_records, retention_review_items, retention_reviews
from medic.outreach.adapters.orm_watcch import (
    individual_indicators,
    participants,
    personal_details,
    watcch_applications,
    watcch_cycles,
    watcch_referee_links,
)
from medic.outreach.domain.erasure import ErasureReason, ErasureRecord, SubjectKind
from medic.outreach.domain.retention import ItemStatus, KeepReason, Review, ReviewItem, ReviewStatus


class Handling(StrEnum):
    ERASED = "erased"  # rows about the subject are deleted, or stripped, by this area's erasure
    FORGOTTEN = "forgotten"  # deleted or stripped by the owning area's forget function, called by the erasure
    KEPT = "kept"  # kept, naming the subject by id only, for the reason given


@dataclass(frozen=True)
class TableHandling:
    handling: Handling
    why: str


# Every table with a column naming a participant or a person (see SUBJECT_COLUMNS), and what erasure does to it.
PARTICIPANT_DATA: Mapping[str, TableHandling] = {
    "personal_details": TableHandling(
        Handling.ERASED, "deleted: names, contacts, postcode, guardian, referee, answers"
    ),
    "participant_areas": TableHandling(Handling.ERASED, "deleted: the area codes derived from the home postcode"),
    "participant_area_indicators": TableHandling(Handling.ERASED, "deleted: the values derived from those areas"),
    "individual_indicators": TableHandling(Handling.ERASED, "deleted: free school meals, first in family, care..."),
    "watcch_applications": TableHandling(
        Handling.ERASED,
        "the decision is stripped to its outcome (eligible or not; the values judged are deleted) and the referee "
        "links deleted; the state stays, by pseudonymous id, for the cycle's counts and places",
    ),
    "participants": TableHandling(Handling.KEPT, "the pseudonymous id alone (a random uuid) and when it was made"),
    "activity_registrations": TableHandling(Handling.KEPT, "attendance and hours by pseudonymous id: the counts"),
    "survey_responses": TableHandling(Handling.KEPT, "scores by pseudonymous id: the pre/post change per item"),
    "progression_outcomes": TableHandling(Handling.KEPT, "applied / offered / enrolled by pseudonymous id: outcomes"),
    "record_history": TableHandling(
        Handling.FORGOTTEN,
        "consent history deleted (consent.forget_participant); safeguarding history stripped to "
        "what must be kept (safeguarding.forget_person)",
    ),
    "record_streams": TableHandling(Handling.FORGOTTEN, "the stream heads go with their histories"),
    "safeguarding_people": TableHandling(
        Handling.FORGOTTEN,
        "the person id, leaving day and when erased stay (safeguarding.forget_person marks it): "
        "the single central record shows everyone who worked with children was checked",
    ),
    "safeguarding_person_names": TableHandling(Handling.FORGOTTEN, "deleted (safeguarding.forget_person)"),
    "dbs_certificates": TableHandling(Handling.FORGOTTEN, "hashes and last four digits deleted (forget_person)"),
    "mentor_profiles": TableHandling(Handling.FORGOTTEN, "the free text deleted (mentoring.forget_mentor)"),
    "mentee_preferences": TableHandling(Handling.FORGOTTEN, "deleted (mentoring.forget_participant)"),
    "mentoring_matches": TableHandling(
        Handling.FORGOTTEN,
        "open matches ended (mentoring.forget_*); states stay by id for counts; the sessions' notes are deleted",
    ),
    "erasure_records": TableHandling(Handling.KEPT, "the proof of each erasure (UK GDPR art. 5(2) accountability)"),
    "retention_review_items": TableHandling(Handling.KEPT, "the retention review's report: listed, kept, erased"),
}
# Columns that name a participant or a person.
SUBJECT_COLUMNS = frozenset({"participant_id", "person_id", "mentor_id", "subject_id", "student_id"})


def _record(row: Row[Any]) -> ErasureRecord:
    return ErasureRecord(
        id=row.id,
        kind=SubjectKind(row.subject_kind),
        subject_id=row.subject_id,
        erased_at=row.erased_at,
        erased_by=row.erased_by,
        reason=ErasureReason(row.reason),
        request_reference=row.request_reference,
        deleted=dict(row.deleted),
        partners_notified=row.partners_notified,
        retention_review_id=row.retention_review_id,
    )


def _review(row: Row[Any]) -> Review:
    return Review(
        id=row.id,
        year=row.year,
        listed_at=row.listed_at,
        listed_by=row.listed_by,
        erase_from=row.erase_from,
        status=ReviewStatus(row.status),
        completed_at=row.completed_at,
    )


def _item(row: Row[Any]) -> ReviewItem:
    return ReviewItem(
        id=row.id,
        review_id=row.review_id,
        kind=SubjectKind(row.subject_kind),
        subject_id=row.subject_id,
        due_since=row.due_since,
        status=ItemStatus(row.status),
        keep_reason=None if row.keep_reason is None else KeepReason(row.keep_reason),
        review_again_on=row.review_again_on,
        kept_by=row.kept_by,
        kept_at=row.kept_at,
        erased_at=row.erased_at,
        failure=row.failure,
    )


class ErasureRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # --- erasure records ------------------------------------------------------------------------------------

    async def record_of(self, kind: SubjectKind, subject_id: str) -> ErasureRecord | None:
        c = erasure_records.c
        query = select(erasure_records).where((c.subject_kind == kind.value) & (c.subject_id == subject_id))
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else _record(row)

    async def add_record(self, record: ErasureRecord) -> None:
        """Insert first, before deleting anything: a concurrent erasure of the same subject waits on the unique key
        and then fails (IntegrityError), so two never both erase."""
        await self._connection.execute(
            insert(erasure_records).values(
                id=record.id,
                subject_kind=record.kind.value,
                subject_id=record.subject_id,
                erased_at=record.erased_at,
                erased_by=record.erased_by,
                reason=record.reason.value,
                request_reference=record.request_reference,
                deleted=dict(record.deleted),
                partners_notified=record.partners_notified,
                retention_review_id=record.retention_review_id,
            )
        )

    async def complete_record(self, record_id: uuid.UUID, deleted: Mapping[str, int], partners_notified: int) -> None:
        await self._connection.execute(
            update(erasure_records)
            .where(erasure_records.c.id == record_id)
            .values(deleted=dict(deleted), partners_notified=partners_notified)
        )

    async def records(self, *, limit: int, offset: int) -> list[ErasureRecord]:
        query = select(erasure_records).order_by(erasure_records.c.erased_at.desc(), erasure_records.c.id)
        return [_record(row) for row in await self._connection.execute(query.limit(limit).offset(offset))]

    # --- a participant's data in outreach's WATCCH tables -------------------------------------------------------

    async def participant_exists(self, participant_id: uuid.UUID) -> bool:
        query = select(participants.c.participant_id).where(participants.c.participant_id == participant_id)
        return (await self._connection.execute(query)).first() is not None

    async def applications_of(self, participant_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
        """(application id, state) of each of the participant's applications."""
        c = watcch_applications.c
        query = select(c.id, c.state).where(c.participant_id == participant_id).order_by(c.submitted_at)
        return [(row.id, row.state) for row in await self._connection.execute(query)]

    async def erase_participant_rows(self, participant_id: uuid.UUID) -> dict[str, int]:
        """Delete the participant's personal details, derived areas and values, individual indicators and referee
        links; strip each decision to its outcome. Returns how many rows went (or were stripped) from where."""
        deleted: dict[str, int] = {}
        for name, table in (
            ("personal_details", personal_details),
            ("participant_areas", participant_areas),
            ("area_indicator_values", participant_area_indicators),
            ("individual_indicators", individual_indicators),
        ):
            result = await self._connection.execute(delete(table).where(table.c.participant_id == participant_id))
            deleted[name] = result.rowcount
        a = watcch_applications.c
        applications = select(a.id).where(a.participant_id == participant_id)
        links = await self._connection.execute(
            delete(watcch_referee_links).where(watcch_referee_links.c.application_id.in_(applications))
        )
        deleted["referee_links"] = links.rowcount
        stripped = 0
        for row in await self._connection.execute(
            select(a.id, a.decision).where((a.participant_id == participant_id) & a.decision.is_not(None))
        ):
            outcome = {"eligible": bool(row.decision.get("eligible")), "findings": []}
            if row.decision != outcome:
                await self._connection.execute(
                    update(watcch_applications).where(a.id == row.id).values(decision=outcome)
                )
                stripped += 1
        deleted["decisions_stripped"] = stripped
        return deleted

    # --- retention --------------------------------------------------------------------------------------------

    async def participants_ended_before(self, day: date) -> list[tuple[uuid.UUID, date]]:
        """Participants not erased whose last cycle's programme ended before `day`, with that end."""
        a, c, e = watcch_applications.c, watcch_cycles.c, erasure_records.c
        erased = select(e.subject_id).where(e.subject_kind == SubjectKind.PARTICIPANT.value)
        last = func.max(c.programme_ends_on)
        query = (
            select(a.participant_id, last.label("ended"))
            .select_from(watcch_applications.join(watcch_cycles, a.cycle_id == c.id))
            .group_by(a.participant_id)
            .having(last < day)
            .order_by(a.participant_id)
        )
        erased_ids = {uuid.UUID(s) for s in (await self._connection.execute(erased)).scalars()}
        return [(row.participant_id, row.ended) for row in await self._connection.execute(query)
                if row.participant_id not in erased_ids]  # fmt: skip

    async def erased_subjects(self, kind: SubjectKind) -> set[str]:
        e = erasure_records.c
        query = select(e.subject_id).where(e.subject_kind == kind.value)
        return set((await self._connection.execute(query)).scalars())

    async def kept_until(self) -> dict[tuple[SubjectKind, str], date]:
        """Each subject kept in a review, and the latest day it is to be reviewed again."""
        i = retention_review_items.c
        query = (
            select(i.subject_kind, i.subject_id, func.max(i.review_again_on).label("until"))
            .where((i.status == ItemStatus.KEPT.value) & i.review_again_on.is_not(None))
            .group_by(i.subject_kind, i.subject_id)
        )
        return {(SubjectKind(r.subject_kind), r.subject_id): r.until for r in await self._connection.execute(query)}

    async def add_review(self, review: Review, items: Sequence[ReviewItem]) -> None:
        await self._connection.execute(
            insert(retention_reviews).values(
                id=review.id,
                year=review.year,
                listed_at=review.listed_at,
                listed_by=review.listed_by,
                erase_from=review.erase_from,
                status=review.status.value,
                completed_at=None,
            )
        )
        if items:
            await self._connection.execute(
                insert(retention_review_items),
                [
                    {
                        "id": item.id,
                        "review_id": review.id,
                        "subject_kind": item.kind.value,
                        "subject_id": item.subject_id,
                        "due_since": item.due_since,
                        "status": item.status.value,
                        "keep_reason": None,
                        "review_again_on": None,
                        "kept_by": None,
                        "kept_at": None,
                        "erased_at": None,
                        "failure": None,
                    }
                    for item in items
                ],
            )

    async def review(self, review_id: uuid.UUID) -> Review | None:
        query = select(retention_reviews).where(retention_reviews.c.id == review_id)
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else _review(row)

    async def review_of_year(self, year: int) -> Review | None:
        query = select(retention_reviews).where(retention_reviews.c.year == year)
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else _review(row)

    async def reviews(self) -> list[Review]:
        query = select(retention_reviews).order_by(retention_reviews.c.year.desc())
        return [_review(row) for row in await self._connection.execute(query)]

    async def items(self, review_id: uuid.UUID) -> list[ReviewItem]:
        i = retention_review_items.c
        query = (
            select(retention_review_items)
            .where(i.review_id == review_id)
            .order_by(i.subject_kind, i.due_since, i.subject_id)
        )
        return [_item(row) for row in await self._connection.execute(query)]

    async def item(self, review_id: uuid.UUID, item_id: uuid.UUID) -> ReviewItem | None:
        i = retention_review_items.c
        query = select(retention_review_items).where((i.review_id == review_id) & (i.id == item_id))
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else _item(row)

    async def keep(
        self, item_id: uuid.UUID, reason: KeepReason, review_again_on: date, *, by: str, now: datetime
    ) -> bool:
        """Keep an item not erased (False: it was erased meanwhile)."""
        i = retention_review_items.c
        result = await self._connection.execute(
            update(retention_review_items)
            .where((i.id == item_id) & (i.status != ItemStatus.ERASED.value))
            .values(
                status=ItemStatus.KEPT.value,
                keep_reason=reason.value,
                review_again_on=review_again_on,
                kept_by=by,
                kept_at=now,
                failure=None,
            )
        )
        return result.rowcount == 1

    async def mark_item(
        self, item_id: uuid.UUID, status: ItemStatus, *, now: datetime, failure: str | None = None
    ) -> bool:
        """An item still to erase (listed or failed) becomes failed; an erased one is erased whatever it says (a
        keep committed while its erasure ran came too late: the item must show what happened). False: unchanged."""
        i = retention_review_items.c
        values: dict[str, Any] = {"status": status.value, "failure": failure}
        still_to_erase: ColumnElement[bool] = i.status.in_([ItemStatus.LISTED.value, ItemStatus.FAILED.value])
        if status is ItemStatus.ERASED:
            values["erased_at"] = now
            still_to_erase = i.status != ItemStatus.ERASED.value
        result = await self._connection.execute(
            update(retention_review_items).where((i.id == item_id) & still_to_erase).values(**values)
        )
        return result.rowcount == 1

    async def complete_review(self, review_id: uuid.UUID, *, now: datetime) -> bool:
        r = retention_reviews.c
        result = await self._connection.execute(
            update(retention_reviews)
            .where((r.id == review_id) & (r.status == ReviewStatus.LISTED.value))
            .values(status=ReviewStatus.COMPLETED.value, completed_at=now)
        )
        return result.rowcount == 1
