"""A teacher confirms a WATCCH application through a signed, expiring link (the shared `medic.shared.signed_links`
rules, as CAP partner verification). The token is returned once to the coordinator who sends it; only its hash
is stored; it is never logged or published."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.watcch import WatcchNotFound, YearGroup
from medic.outreach.domain.watcch_people import RefereeAnswer, RefereeLink
from medic.shared.signed_links import LinkPolicy, LinkRefused, hash_token

__all__ = ["LinkPolicy", "RefereeRequest", "answer", "issue_link", "open_link"]


@dataclass(frozen=True)
class RefereeRequest:
    applicant: str  # the given name and the family name's initial: enough for a teacher to recognise the student
    school_urn: str
    year_group: YearGroup
    cycle: str
    expires_at: datetime
    answer: RefereeAnswer | None


async def issue_link(
    application_id: uuid.UUID, policy: LinkPolicy, uow: OutreachUnitOfWork, *, now: datetime
) -> tuple[str, RefereeLink]:
    async with uow:
        application = await uow.watcch.application(application_id)
        if application is None:
            raise WatcchNotFound("no such application")
        last = await uow.watcch.last_open_link_issued_at(application_id)
        token, link = RefereeLink.issue(
            policy, now=now, last_issued_at=last, id=uuid.uuid4(), application_id=application_id
        )
        await uow.watcch.add_link(link)
        await uow.commit()
    return token, link


async def _request(uow: OutreachUnitOfWork, link: RefereeLink) -> RefereeRequest:
    application = await uow.watcch.application(link.application_id)
    assert application is not None
    cycle = await uow.watcch.cycle(application.cycle_id)
    details = await uow.watcch.personal_details(application.participant_id)
    if details is None or cycle is None:
        raise WatcchNotFound("no such link")  # erased since
    return RefereeRequest(
        applicant=f"{details.given_name} {details.family_name[:1]}.",
        school_urn=application.school_urn,
        year_group=application.year_group,
        cycle=cycle.name,
        expires_at=link.expires_at,
        answer=link.decision,
    )


async def _link(uow: OutreachUnitOfWork, token: str) -> RefereeLink:
    link = await uow.watcch.link_by_token_hash(hash_token(token))
    if link is None:
        raise WatcchNotFound("no such link")
    return link


async def open_link(token: str, uow: OutreachUnitOfWork, *, now: datetime) -> RefereeRequest:
    async with uow:
        link = await _link(uow, token)
        link.check_viewable(now)
        return await _request(uow, link)


async def answer(token: str, decision: RefereeAnswer, uow: OutreachUnitOfWork, *, now: datetime) -> RefereeRequest:
    async with uow:
        link = await _link(uow, token)
        link.decide(decision, now)
        if not await uow.watcch.record_answer(link):
            raise LinkRefused("this link has been used", gone=False)
        request = await _request(uow, link)
        await uow.commit()
    return request
