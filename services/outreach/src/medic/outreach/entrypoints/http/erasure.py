"""HTTP API: erasure ("forget me") of a WATCCH participant or a medical student's safeguarding record, the erasure
records kept as proof, and the yearly retention review. Coordinators only."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.erasure import Erasure
from medic.outreach.domain.retention import RetentionPolicy
from medic.outreach.domain.safeguarding import PERSON_ID_PATTERN
from medic.outreach.service_layer import erasure as handlers
from medic.outreach.service_layer import retention
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from

from .dependencies import now, today, unit_of_work
from .erasure_models import (
    ErasureIn,
    ErasureOut,
    KeepIn,
    ReviewItemOut,
    ReviewOut,
    ReviewSummaryOut,
    answering_errors,
    responses,
)

router = APIRouter(tags=["erasure"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
ParticipantId = Annotated[uuid.UUID, Path(description="The participant's pseudonymous id")]
PersonId = Annotated[str, Path(pattern=PERSON_ID_PATTERN, description="The medical student's person id")]
ReviewId = Annotated[uuid.UUID, Path(description="The retention review")]
ItemId = Annotated[uuid.UUID, Path(description="An item of the review")]


def _policy(request: Request) -> RetentionPolicy:
    policy: RetentionPolicy = request.app.state.retention_policy
    return policy


def _answer(response: Response, erasure: Erasure) -> ErasureOut:
    response.status_code = status.HTTP_200_OK if erasure.already_erased else status.HTTP_201_CREATED
    return ErasureOut.of_erasure(erasure)


@router.post(
    "/participants/{participant_id}/erasure",
    status_code=status.HTTP_201_CREATED,
    summary="Erase a WATCCH participant (forget me)",
    description="Deletes the personal details (not masked), the derived area codes and indicator values, the "
    "individual indicators, the values each decision judged (the outcome stays), referee links, the consent "
    "history and mentoring data; withdraws open applications. The pseudonymous id stays in aggregate counts. "
    "Publishes `outreach.participant.erased.v1` and `outreach.partner_erasure_notice.requested.v1` for each "
    "partner named in a partner-sharing consent. A second erasure answers 200 with the first's record and does "
    "nothing.",
    responses=responses(200, 404, 422),
)
async def erase_participant(
    request: Request, response: Response, participant_id: ParticipantId, body: ErasureIn, uow: UnitOfWork,
    principal: Coordinator,
) -> ErasureOut:  # fmt: skip
    with answering_errors():
        erasure = await handlers.erase_participant(
            uow,
            participant_id,
            reason=body.reason,
            request_reference=body.request_reference,
            by=principal.subject,
            now=now(request),
            correlation_id=correlation_id_from(request),
        )
    return _answer(response, erasure)


@router.post(
    "/safeguarding/people/{person_id}/erasure",
    status_code=status.HTTP_201_CREATED,
    summary="Erase a medical student's safeguarding record when they leave",
    description="The safeguarding history is stripped to what must be kept, personal details deleted, open mentoring "
    "matches ended and the mentor profile's free text deleted. Publishes `outreach.safeguarding_person.erased.v1`. "
    "A second erasure answers 200 with the first's record and does nothing.",
    responses=responses(200, 404, 422),
)
async def erase_safeguarding_person(
    request: Request, response: Response, person_id: PersonId, body: ErasureIn, uow: UnitOfWork,
    principal: Coordinator,
) -> ErasureOut:  # fmt: skip
    with answering_errors():
        erasure = await handlers.erase_safeguarding_person(
            uow,
            person_id,
            reason=body.reason,
            request_reference=body.request_reference,
            by=principal.subject,
            now=now(request),
            correlation_id=correlation_id_from(request),
        )
    return _answer(response, erasure)


@router.get("/erasures", summary="Erasure records, newest first (the proof of each erasure)")
async def list_erasures(
    uow: UnitOfWork,
    _: Coordinator,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ErasureOut]:
    return [ErasureOut.of(r) for r in await handlers.erasure_records(uow, limit=limit, offset=offset)]


@router.post(
    "/retention/reviews",
    status_code=status.HTTP_201_CREATED,
    summary="List now what is past its retention (this year's review)",
    description="The review of the year whose 1 September is the latest: made now if not made yet (201; publishes "
    "`outreach.retention_review.listed.v1`), else that review (200, nothing new). The timer does the same on or "
    "after 1 September when something is due.",
    responses={200: {"model": ReviewOut, "description": "This year's review was listed already"}},
)
async def list_due(request: Request, response: Response, uow: UnitOfWork, principal: Coordinator) -> ReviewOut:
    listing = await retention.list_due(
        uow, _policy(request), today=today(request), now=now(request), by=principal.subject
    )
    assert listing is not None
    response.status_code = status.HTTP_201_CREATED if listing.created else status.HTTP_200_OK
    return ReviewOut.of_view(listing.view)


@router.get("/retention/reviews", summary="Retention reviews, newest first")
async def list_reviews(uow: UnitOfWork, _: Coordinator) -> list[ReviewSummaryOut]:
    return [ReviewSummaryOut.of(r) for r in await retention.list_reviews(uow)]


@router.get("/retention/reviews/{review_id}", summary="A review and what it did: listed, kept, erased, failed",
            responses=responses(404))  # fmt: skip
async def get_review(review_id: ReviewId, uow: UnitOfWork, _: Coordinator) -> ReviewOut:
    with answering_errors():
        return ReviewOut.of_view(await retention.get_review(uow, review_id))


@router.post(
    "/retention/reviews/{review_id}/items/{item_id}/keep",
    summary="Keep a listed record, with a reason and a day to review it again",
    description="Until the review is completed. The record is not erased by this review, and not listed again "
    "before `review_again_on`.",
    responses=responses(404, 409, 422),
)
async def keep(
    request: Request, review_id: ReviewId, item_id: ItemId, body: KeepIn, uow: UnitOfWork, principal: Coordinator
) -> ReviewItemOut:
    with answering_errors():
        item = await retention.keep(
            uow, review_id, item_id, reason=body.reason, review_again_on=body.review_again_on,
            by=principal.subject, today=today(request), now=now(request),
        )  # fmt: skip
    return ReviewItemOut.of(item)


@router.post(
    "/retention/reviews/{review_id}/run",
    summary="Erase now what the review lists and nobody kept",
    description="From the review's `erase_from` day (409 before it, and once completed). Each erasure is the same "
    "as a coordinator's; an item whose erasure fails is `failed` and tried again by the next run. The review is "
    "completed once nothing is left to erase (publishes `outreach.retention_review.completed.v1`).",
    responses=responses(404, 409),
)
async def run(request: Request, review_id: ReviewId, _: Coordinator) -> ReviewOut:
    with answering_errors():
        view = await retention.run(request.app.state.uow_factory, review_id, today=today(request), now=now(request))
    return ReviewOut.of_view(view)
