"""The yearly retention review: list what is past its retention on 1 September, let coordinators keep some with a
reason, erase the rest from 1 November through the erasure use cases.

Exactly once per year and stage, whichever replica gets there first and however often the service restarts: the
listing inserts the year's review (unique on the year) with its key `retention:listed:<year>` in
`watcch_fired_timers` and its event, in one transaction; each item's erasure is idempotent (an erasure record per
subject) and the item's mark conditional; the review is completed (status conditional on `listed`, key
`retention:completed:<year>`, event) only once nothing listed is left unerased. An item whose erasure fails stays
`failed` and is tried again by the next run (the timer's next day, or on demand); the review completes after.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.erasure import SWEEP_USER, ErasureReason, SubjectKind
from medic.outreach.domain.retention import (
    ItemStatus,
    KeepReason,
    RetentionConflict,
    RetentionNotFound,
    RetentionPolicy,
    Review,
    ReviewItem,
    ReviewStatus,
    check_keep,
    check_run,
    erase_from,
    listing_day,
    review_year,
    still_kept,
)
from medic.outreach.service_layer import safeguarding
from medic.outreach.service_layer.erasure import erase_participant, erase_safeguarding_person
from medic.shared.contracts.outreach import erasure as events
from medic.shared.events import Envelope
from medic.shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class ReviewView:
    review: Review
    items: Sequence[ReviewItem]

    def count(self, status: ItemStatus) -> int:
        return sum(1 for item in self.items if item.status is status)


@dataclass(frozen=True)
class Listing:
    view: ReviewView
    created: bool  # False: the year's review was listed already (nothing new listed or published)


async def _due(uow: OutreachUnitOfWork, policy: RetentionPolicy, today: date, review_id: uuid.UUID) -> list[ReviewItem]:
    kept = await uow.erasure.kept_until()
    items = []
    for participant_id, ended in await uow.erasure.participants_ended_before(policy.participants_ended_before(today)):
        items.append((SubjectKind.PARTICIPANT, str(participant_id), ended))
    erased_people = await uow.erasure.erased_subjects(SubjectKind.SAFEGUARDING_PERSON)
    for person_id in await safeguarding.people_left_before(uow, policy.people_left_before(today)):
        if person_id not in erased_people:  # due by today at the latest (the area gives no leaving day)
            items.append((SubjectKind.SAFEGUARDING_PERSON, person_id, today))
    return [
        ReviewItem(
            id=uuid.uuid4(),
            review_id=review_id,
            kind=kind,
            subject_id=subject,
            due_since=since,
            status=ItemStatus.LISTED,
        )
        for kind, subject, since in items
        if not still_kept(kept.get((kind, subject)), today)
    ]


async def list_due(
    uow: OutreachUnitOfWork, policy: RetentionPolicy, *, today: date, now: datetime, by: str, only_if_due: bool = False
) -> Listing | None:
    """The review of `today`'s year (see `review_year`): listed now if it was not yet, else the one listed.
    `only_if_due` (the timer): no review is made while nothing is due; the timer looks again the next day."""
    year = review_year(today)
    async with uow:
        if (existing := await uow.erasure.review_of_year(year)) is not None:
            return Listing(ReviewView(existing, await uow.erasure.items(existing.id)), created=False)
        review = Review(
            id=uuid.uuid4(),
            year=year,
            listed_at=now,
            listed_by=by,
            erase_from=erase_from(year, today, policy),
            status=ReviewStatus.LISTED,
        )
        items = await _due(uow, policy, today, review.id)
        if only_if_due and not items:
            return None
        event = events.RetentionReviewListedV1(
            review_id=review.id,
            year=year,
            participants=sum(1 for i in items if i.kind is SubjectKind.PARTICIPANT),
            safeguarding_people=sum(1 for i in items if i.kind is SubjectKind.SAFEGUARDING_PERSON),
            erase_from=review.erase_from,
        )
        envelope = Envelope.wrap(event, subject=f"retention/reviews/{review.id}", correlation_id=uuid.uuid4())
        if not await uow.watcch.fire_once(
            f"retention:listed:{year}", event_id=envelope.id, event_type=envelope.type, now=now
        ):
            raise AssertionError("the year's review key is fired but its review is missing")  # pragma: no cover
        await uow.erasure.add_review(review, items)
        await uow.publish(envelope)
        await uow.commit()
    log.info("retention.review_listed", review_id=str(review.id), year=year, listed=len(items))
    return Listing(ReviewView(review, items), created=True)


async def get_review(uow: OutreachUnitOfWork, review_id: uuid.UUID) -> ReviewView:
    async with uow:
        review = await uow.erasure.review(review_id)
        if review is None:
            raise RetentionNotFound("no such review")
        return ReviewView(review, await uow.erasure.items(review_id))


async def list_reviews(uow: OutreachUnitOfWork) -> list[Review]:
    async with uow:
        return await uow.erasure.reviews()


async def keep(
    uow: OutreachUnitOfWork,
    review_id: uuid.UUID,
    item_id: uuid.UUID,
    *,
    reason: KeepReason,
    review_again_on: date,
    by: str,
    today: date,
    now: datetime,
) -> ReviewItem:
    async with uow:
        review = await uow.erasure.review(review_id)
        item = None if review is None else await uow.erasure.item(review_id, item_id)
        if review is None or item is None:
            raise RetentionNotFound("no such review item")
        check_keep(review, item, review_again_on, today)
        if await uow.erasure.record_of(item.kind, item.subject_id) is not None:  # the sweep got there first
            raise RetentionConflict("the record is erased already", "item_id")
        await uow.erasure.keep(item_id, reason, review_again_on, by=by, now=now)
        kept = await uow.erasure.item(review_id, item_id)
        await uow.commit()
    assert kept is not None
    log.info("retention.item_kept", review_id=str(review_id), item_id=str(item_id), reason=reason.value)
    return kept


async def run(
    unit_of_work: Callable[[], OutreachUnitOfWork],
    review_id: uuid.UUID,
    *,
    today: date,
    now: datetime,
) -> ReviewView:
    """Erase every item listed (or failed before) and not kept; complete the review once none is left."""
    uow = unit_of_work()
    async with uow:
        review = await uow.erasure.review(review_id)
        if review is None:
            raise RetentionNotFound("no such review")
        check_run(review, today)
        items = await uow.erasure.items(review_id)
    correlation_id = uuid.uuid4()
    for item in items:
        if item.status not in (ItemStatus.LISTED, ItemStatus.FAILED):
            continue
        await _erase_item(unit_of_work, review, item, now, correlation_id)
    async with uow:
        items = await uow.erasure.items(review_id)
        left = [i for i in items if i.status in (ItemStatus.LISTED, ItemStatus.FAILED)]
        if not left:
            await _complete(uow, review, items, now, correlation_id)
        view = ReviewView(await uow.erasure.review(review_id) or review, items)
    return view


async def _erase_item(
    unit_of_work: Callable[[], OutreachUnitOfWork],
    review: Review,
    item: ReviewItem,
    now: datetime,
    correlation_id: uuid.UUID,
) -> None:
    how: dict[str, Any]
    try:
        # Kept meanwhile (a coordinator's keep won the race): leave it.
        async with unit_of_work() as uow:
            current = await uow.erasure.item(review.id, item.id)
        if current is None or current.status not in (ItemStatus.LISTED, ItemStatus.FAILED):
            return
        how = {
            "reason": ErasureReason.RETENTION_PERIOD_ENDED,
            "request_reference": None,
            "by": SWEEP_USER,
            "now": now,
            "correlation_id": correlation_id,
            "retention_review_id": review.id,
        }
        if item.kind is SubjectKind.PARTICIPANT:
            await erase_participant(unit_of_work(), uuid.UUID(item.subject_id), **how)
        else:
            await erase_safeguarding_person(unit_of_work(), item.subject_id, **how)
        status, failure = ItemStatus.ERASED, None
    except Exception as error:
        status, failure = ItemStatus.FAILED, type(error).__name__
        log.warning("retention.erasure_failed", review_id=str(review.id), item_id=str(item.id), error=failure)
    async with unit_of_work() as uow:
        await uow.erasure.mark_item(item.id, status, now=now, failure=failure)
        await uow.commit()


async def _complete(
    uow: OutreachUnitOfWork, review: Review, items: Sequence[ReviewItem], now: datetime, correlation_id: uuid.UUID
) -> None:
    view = ReviewView(review, items)
    event = events.RetentionReviewCompletedV1(
        review_id=review.id,
        year=review.year,
        listed=len(items),
        kept=view.count(ItemStatus.KEPT),
        erased=view.count(ItemStatus.ERASED),
    )
    envelope = Envelope.wrap(event, subject=f"retention/reviews/{review.id}", correlation_id=correlation_id)
    key = f"retention:completed:{review.year}"
    if not await uow.erasure.complete_review(review.id, now=now):
        return  # another replica completed it
    if not await uow.watcch.fire_once(key, event_id=envelope.id, event_type=envelope.type, now=now):
        return  # pragma: no cover - the status update above already decides
    await uow.publish(envelope)
    await uow.commit()
    log.info("retention.review_completed", review_id=str(review.id), year=review.year, erased=event.erased,
             kept=event.kept)  # fmt: skip


async def sweep(
    unit_of_work: Callable[[], OutreachUnitOfWork], policy: RetentionPolicy, *, today: date, now: datetime
) -> str | None:
    """The timer's daily look: on or after 1 September, list the year's review if it is not listed yet; from its
    `erase_from` day, run it until it is completed. Returns what it did ("listed", "ran") or None."""
    year = review_year(today)
    if today < listing_day(year):  # pragma: no cover - review_year makes this impossible
        return None
    uow = unit_of_work()
    async with uow:
        review = await uow.erasure.review_of_year(year)
    if review is None:
        listing = await list_due(unit_of_work(), policy, today=today, now=now, by=SWEEP_USER, only_if_due=True)
        return None if listing is None else "listed"
    if review.status is ReviewStatus.LISTED and today >= review.erase_from:
        await run(unit_of_work, review.id, today=today, now=now)
        return "ran"
    return None
