"""HTTP API: WATCCH cycles and applications.

`POST /watcch/applications` is public (the web form calls it with no token): strictly validated, rate-limited per
client, answered with the reference alone. The referee's routes are public too: the token in the path is the
credential. Everything else is for coordinators. Personal details are shown on the single application view only.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.adapters.watcch_repository import ApplicationFilter
from medic.outreach.domain.indicators import IndicatorSource
from medic.outreach.domain.watcch import Action, CycleStatus, State, YearGroup, default_rules
from medic.outreach.service_layer import watcch as handlers
from medic.outreach.service_layer import watcch_referees as referees
from medic.outreach.settings import OutreachSettings
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from

from .dependencies import unit_of_work
from .rate_limit import TokenBucketLimiter
from .watcch_models import (
    ActionIn,
    ApplicationOut,
    ApplicationReceivedOut,
    ApplicationSummaryOut,
    CoordinatorApplicationIn,
    CycleIn,
    CycleOut,
    CyclePatch,
    DecisionOut,
    PublicApplicationIn,
    RefereeAnswerIn,
    RefereeLinkOut,
    RefereeRequestOut,
    answering_errors,
    decision_out,
    responses,
    rule_of,
)

router = APIRouter(tags=["watcch"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
CycleId = Annotated[uuid.UUID, Path(description="The cycle")]
ApplicationId = Annotated[uuid.UUID, Path(description="The application")]
Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{20,100}$", description="The token the referee was sent")]


def _settings(request: Request) -> OutreachSettings:
    settings: OutreachSettings = request.app.state.watcch_settings
    return settings


def _limiter(request: Request) -> TokenBucketLimiter:
    limiter: TokenBucketLimiter | None = getattr(request.app.state, "watcch_apply_limiter", None)
    if limiter is None:
        settings = _settings(request)
        limiter = TokenBucketLimiter(per_minute=settings.watcch_apply_per_minute, burst=settings.watcch_apply_burst)
        request.app.state.watcch_apply_limiter = limiter
    return limiter


def _rate_limited(request: Request) -> None:
    """A dependency: runs before the body is validated, so bad bodies count against the client too."""
    _limiter(request).check(request)


RateLimited = Annotated[None, Depends(_rate_limited)]


def _submission(
    request: Request, body: PublicApplicationIn | CoordinatorApplicationIn, cycle_id: uuid.UUID, *, by_coordinator: bool
) -> handlers.SubmitApplication:
    source = body.indicator_source if isinstance(body, CoordinatorApplicationIn) else None
    return handlers.SubmitApplication(
        cycle_id=cycle_id,
        school_urn=body.school_urn,
        year_group=body.year_group,
        details=body.details(),
        answers=body.answers,
        indicators=body.indicators.values(),
        indicator_source=source or IndicatorSource.SELF_DECLARED,
        by_coordinator=by_coordinator,
        correlation_id=correlation_id_from(request),
    )


@router.post(
    "/watcch/applications",
    status_code=status.HTTP_201_CREATED,
    summary="Apply to WATCCH (public: the web form, no account)",
    description="Answers with the reference only. Rate-limited per client (`OUTREACH_WATCCH_APPLY_PER_MINUTE`, "
    "`OUTREACH_WATCCH_APPLY_BURST`). Unknown fields are refused.",
    responses=responses(409, 422, 429),
)
async def apply(request: Request, _: RateLimited, body: PublicApplicationIn, uow: UnitOfWork) -> ApplicationReceivedOut:
    with answering_errors():
        application = await handlers.submit_application(
            _submission(request, body, body.cycle_id, by_coordinator=False), uow
        )
    return ApplicationReceivedOut(reference=application.reference)


@router.post("/watcch/cycles", status_code=status.HTTP_201_CREATED, summary="Set up a cycle (draft)",
             responses=responses(409, 422))  # fmt: skip
async def create_cycle(request: Request, body: CycleIn, uow: UnitOfWork, _: Coordinator) -> CycleOut:
    fields = handlers.CycleFields(
        name=body.name,
        academic_year=body.academic_year,
        capacity=body.capacity,
        applications_open_on=body.applications_open_on,
        applications_close_on=body.applications_close_on,
        programme_starts_on=body.programme_starts_on,
        programme_ends_on=body.programme_ends_on,
        year_groups=frozenset(body.year_groups),
        questions=tuple(body.questions),
        rules=default_rules() if body.rules is None else tuple(rule_of(r) for r in body.rules),
        offer_lifetime_days=body.offer_lifetime_days or _settings(request).watcch_offer_lifetime_days,
    )
    with answering_errors():
        return CycleOut.of(await handlers.create_cycle(fields, uow))


@router.get("/watcch/cycles", summary="Cycles, newest first")
async def list_cycles(uow: UnitOfWork, _: Coordinator) -> list[CycleOut]:
    return [CycleOut.of(view) for view in await handlers.list_cycles(uow)]


@router.get("/watcch/cycles/{cycle_id}", summary="A cycle", responses=responses(404))
async def get_cycle(cycle_id: CycleId, uow: UnitOfWork, _: Coordinator) -> CycleOut:
    with answering_errors():
        return CycleOut.of(await handlers.get_cycle(cycle_id, uow))


@router.patch(
    "/watcch/cycles/{cycle_id}",
    summary="Change a cycle",
    description="New rules after the first application are a new version; more capacity is offered to the waitlist.",
    responses=responses(404, 409, 422),
)
async def change_cycle(
    request: Request, cycle_id: CycleId, body: CyclePatch, uow: UnitOfWork, _: Coordinator
) -> CycleOut:
    changes: dict[str, Any] = body.model_dump(exclude_none=True, exclude={"rules"})
    if "year_groups" in changes:
        changes["year_groups"] = frozenset(YearGroup(y) for y in changes["year_groups"])
    if "questions" in changes:
        changes["questions"] = tuple(changes["questions"])
    if body.rules is not None:
        changes["rules"] = tuple(rule_of(r) for r in body.rules)
    with answering_errors():
        return CycleOut.of(await handlers.change_cycle(cycle_id, changes, uow, correlation_id_from(request)))


@router.post("/watcch/cycles/{cycle_id}/open", summary="Open a cycle for applications",
             description="Publishes `outreach.watcch_cycle.opened.v1`.", responses=responses(404, 409))  # fmt: skip
async def open_cycle(request: Request, cycle_id: CycleId, uow: UnitOfWork, _: Coordinator) -> CycleOut:
    with answering_errors():
        return CycleOut.of(
            await handlers.set_cycle_status(cycle_id, CycleStatus.OPEN, uow, correlation_id_from(request))
        )


@router.post("/watcch/cycles/{cycle_id}/close", summary="Stop taking applications",
             description="Publishes `outreach.watcch_cycle.closed.v1`.", responses=responses(404, 409))  # fmt: skip
async def close_cycle(request: Request, cycle_id: CycleId, uow: UnitOfWork, _: Coordinator) -> CycleOut:
    with answering_errors():
        return CycleOut.of(
            await handlers.set_cycle_status(cycle_id, CycleStatus.CLOSED, uow, correlation_id_from(request))
        )


@router.get("/watcch/cycles/{cycle_id}/waitlist", summary="The waitlist, in the order places are offered",
            responses=responses(404))  # fmt: skip
async def get_waitlist(cycle_id: CycleId, uow: UnitOfWork, _: Coordinator) -> list[ApplicationSummaryOut]:
    with answering_errors():
        return [ApplicationSummaryOut.of(v) for v in await handlers.waitlist(cycle_id, uow)]


@router.post(
    "/watcch/cycles/{cycle_id}/applications",
    status_code=status.HTTP_201_CREATED,
    summary="Enter an application on someone's behalf",
    responses=responses(404, 409, 422),
)
async def enter_application(
    request: Request, cycle_id: CycleId, body: CoordinatorApplicationIn, uow: UnitOfWork, _: Coordinator
) -> ApplicationOut:
    with answering_errors():
        application = await handlers.submit_application(_submission(request, body, cycle_id, by_coordinator=True), uow)
        return ApplicationOut.of_view(await handlers.get_application(application.id, uow))


@router.get("/watcch/applications", summary="Applications (no personal details)")
async def list_applications(
    uow: UnitOfWork,
    _: Coordinator,
    cycle_id: uuid.UUID | None = None,
    state: State | None = None,
    school_urn: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    year_group: YearGroup | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ApplicationSummaryOut]:
    where = ApplicationFilter(cycle_id=cycle_id, state=state, school_urn=school_urn, year_group=year_group)
    return [
        ApplicationSummaryOut.of(v) for v in await handlers.list_applications(where, uow, limit=limit, offset=offset)
    ]


@router.get("/watcch/applications/{application_id}", summary="An application, with personal details",
            responses=responses(404))  # fmt: skip
async def get_application(application_id: ApplicationId, uow: UnitOfWork, _: Coordinator) -> ApplicationOut:
    with answering_errors():
        return ApplicationOut.of_view(await handlers.get_application(application_id, uow))


@router.get("/watcch/applications/{application_id}/decision", summary="Why it is (not) eligible, rule by rule",
            responses=responses(404))  # fmt: skip
async def get_decision(application_id: ApplicationId, uow: UnitOfWork, _: Coordinator) -> DecisionOut | None:
    with answering_errors():
        return decision_out(await handlers.get_application(application_id, uow))


@router.post(
    "/watcch/applications/{application_id}/actions/{action}",
    summary="Move an application: reevaluate, waitlist, offer, accept, decline, enrol, complete, withdraw",
    description="Accept, decline and withdraw are on the participant's behalf. 409 with the reason and the allowed "
    "actions when the state does not allow it; an offer beyond capacity is 409.",
    responses=responses(404, 409, 422),
)
async def act(
    request: Request, application_id: ApplicationId, action: Action, body: ActionIn, uow: UnitOfWork, _: Coordinator
) -> ApplicationSummaryOut:
    with answering_errors():
        view = await handlers.take_action(application_id, action, body.reason, uow, correlation_id_from(request))
    return ApplicationSummaryOut.of(view)


@router.post(
    "/watcch/applications/{application_id}/referee-link",
    status_code=status.HTTP_201_CREATED,
    summary="Make (or remake) the referee's confirmation link",
    description="Shown once. A new link replaces the old; an unanswered one is remade at most once per "
    "`OUTREACH_WATCCH_REFEREE_RESEND_HOURS`.",
    responses=responses(404, 409),
)
async def issue_referee_link(
    request: Request, application_id: ApplicationId, uow: UnitOfWork, _: Coordinator
) -> RefereeLinkOut:
    settings = _settings(request)
    policy = referees.LinkPolicy(
        lifetime=timedelta(days=settings.watcch_referee_link_days),
        resend_after=timedelta(hours=settings.watcch_referee_resend_hours),
    )
    with answering_errors():
        token, link = await referees.issue_link(application_id, policy, uow, now=datetime.now(UTC))
    return RefereeLinkOut(path=f"/watcch/referee/{token}", token=token, expires_at=link.expires_at)


@router.get("/watcch/referee/{token}", summary="The referee's request (public: the token is the credential)",
            responses=responses(404, 410))  # fmt: skip
async def open_referee_link(token: Token, uow: UnitOfWork) -> RefereeRequestOut:
    with answering_errors():
        request = await referees.open_link(token, uow, now=datetime.now(UTC))
    return RefereeRequestOut(**vars(request))


@router.post("/watcch/referee/{token}", summary="The referee answers (public: the token is the credential)",
             responses=responses(404, 409, 410, 422))  # fmt: skip
async def answer_referee_link(token: Token, body: RefereeAnswerIn, uow: UnitOfWork) -> RefereeRequestOut:
    with answering_errors():
        request = await referees.answer(token, body.answer, uow, now=datetime.now(UTC))
    return RefereeRequestOut(**vars(request))
