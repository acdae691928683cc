"""HTTP API: WATCCH mentoring. Programmes, mentors and mentees are for coordinators; matches and their sessions also
for the mentor (a student whose token's sub is the match's mentor); another student's match is 404."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.mentoring import Action, MenteePreferences, MentorProfile, State
from medic.outreach.service_layer import mentoring as handlers
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from

from .dependencies import now, today, unit_of_work
from .mentoring_models import (
    PERSON_ID,
    MatchAction,
    MatchIn,
    MatchOut,
    MenteeIn,
    MenteeOut,
    MentorIn,
    MentorOut,
    ProgrammeIn,
    ProgrammeOut,
    SessionIn,
    SessionOut,
    SuggestionsOut,
    answering_errors,
    responses,
    slots_of,
)

router = APIRouter(tags=["mentoring"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
CoordinatorOrMentor = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.STUDENT))]
ProgrammeId = Annotated[uuid.UUID, Path(description="The mentoring programme")]
MatchId = Annotated[uuid.UUID, Path(description="The match")]
ParticipantId = Annotated[uuid.UUID, Path(description="The participant's pseudonymous id")]
PersonId = Annotated[str, Path(pattern=PERSON_ID, description="The mentor: a medical student's university id")]


def _caller(principal: Principal) -> handlers.Caller:
    return handlers.Caller(user_id=principal.subject, coordinator=principal.has(Role.COORDINATOR))


@router.post(
    "/mentoring/programmes",
    status_code=status.HTTP_201_CREATED,
    summary="Set up a mentoring programme",
    description="Within a WATCCH cycle's programme dates. Publishes `outreach.mentoring_programme.created.v1`.",
    responses=responses(404, 409, 422),
)
async def create_programme(request: Request, body: ProgrammeIn, uow: UnitOfWork, _: Coordinator) -> ProgrammeOut:
    fields = handlers.ProgrammeFields(body.cycle_id, body.name, body.starts_on, body.ends_on, tuple(body.interests))
    with answering_errors():
        programme = await handlers.create_programme(
            fields, uow, now=now(request), correlation_id=correlation_id_from(request)
        )
    return ProgrammeOut.of(programme)


@router.get("/mentoring/programmes", summary="Mentoring programmes, newest first")
async def list_programmes(uow: UnitOfWork, _: Coordinator, cycle_id: uuid.UUID | None = None) -> list[ProgrammeOut]:
    return [ProgrammeOut.of(p) for p in await handlers.list_programmes(uow, cycle_id)]


@router.get("/mentoring/programmes/{programme_id}", summary="A mentoring programme", responses=responses(404))
async def get_programme(programme_id: ProgrammeId, uow: UnitOfWork, _: Coordinator) -> ProgrammeOut:
    with answering_errors():
        return ProgrammeOut.of(await handlers.get_programme(programme_id, uow))


@router.put("/mentoring/programmes/{programme_id}/mentors/{person_id}", summary="Set a mentor's profile",
            description="Interests from the programme's list, availability, the most mentees they take.",
            responses=responses(404, 409, 422))  # fmt: skip
async def set_mentor(
    request: Request, programme_id: ProgrammeId, person_id: PersonId, body: MentorIn, uow: UnitOfWork, _: Coordinator
) -> MentorOut:
    about = body.about.strip() if body.about and body.about.strip() else None
    profile = MentorProfile(
        programme_id, person_id, tuple(body.interests), slots_of(body.availability), body.max_mentees, about
    )
    with answering_errors():
        return MentorOut.of(await handlers.set_mentor(profile, uow, now=now(request)))


@router.get("/mentoring/programmes/{programme_id}/mentors", summary="The programme's mentors, with their load",
            responses=responses(404))  # fmt: skip
async def list_mentors(programme_id: ProgrammeId, uow: UnitOfWork, _: Coordinator) -> list[MentorOut]:
    with answering_errors():
        return [MentorOut.of(v) for v in await handlers.list_mentors(programme_id, uow)]


@router.put("/mentoring/programmes/{programme_id}/mentees/{participant_id}", summary="Set a mentee's preferences",
            description="The participant is enrolled in the programme's cycle (else 409); unknown is 404.",
            responses=responses(404, 409, 422))  # fmt: skip
async def set_mentee(
    request: Request, programme_id: ProgrammeId, participant_id: ParticipantId, body: MenteeIn, uow: UnitOfWork,
    _: Coordinator,
) -> MenteeOut:  # fmt: skip
    preferences = MenteePreferences(programme_id, participant_id, tuple(body.interests), slots_of(body.availability))
    with answering_errors(path_fields=frozenset({"participant_id"})):
        return MenteeOut.of(await handlers.set_mentee(preferences, uow, now=now(request)))


@router.get("/mentoring/programmes/{programme_id}/mentees/{participant_id}", summary="A mentee's preferences",
            responses=responses(404))  # fmt: skip
async def get_mentee(
    programme_id: ProgrammeId, participant_id: ParticipantId, uow: UnitOfWork, _: Coordinator
) -> MenteeOut:
    with answering_errors(path_fields=frozenset({"participant_id"})):
        return MenteeOut.of(await handlers.get_mentee(programme_id, participant_id, uow))


@router.get(
    "/mentoring/programmes/{programme_id}/mentees/{participant_id}/suggestions",
    summary="Mentors for a participant, ranked and explained",
    description="By shared interests, overlapping availability and spare capacity, each score's parts explained. "
    "Mentors not cleared for mentoring on the day, full, or already matched with the participant are listed apart "
    "with their unmet conditions, never ranked.",
    responses=responses(404),
)
async def suggestions(
    request: Request, programme_id: ProgrammeId, participant_id: ParticipantId, uow: UnitOfWork, _: Coordinator,
    on: Annotated[date | None, Query(description="The day to judge on; default today")] = None,
) -> SuggestionsOut:  # fmt: skip
    with answering_errors(path_fields=frozenset({"participant_id"})):
        view = await handlers.suggestions(programme_id, participant_id, on or today(request), uow)
    return SuggestionsOut.of(view)


@router.post(
    "/mentoring/matches",
    status_code=status.HTTP_201_CREATED,
    summary="Propose a match (guarded)",
    description="Refused (409, each unmet condition listed) unless today the mentor is cleared for mentoring "
    "(`OUTREACH_MENTORING_CONTACT_KIND`) and has room, and the participant's consents to taking part and to "
    "mentoring are valid. Publishes `outreach.mentoring_match.proposed.v1`.",
    responses=responses(404, 409, 422),
)
async def propose(request: Request, body: MatchIn, uow: UnitOfWork, principal: Coordinator) -> MatchOut:
    with answering_errors():
        view = await handlers.propose(
            body.programme_id, body.mentor_id, body.participant_id, _caller(principal), uow, now=now(request),
            correlation_id=correlation_id_from(request),
        )  # fmt: skip
    return MatchOut.of(view)


@router.get("/mentoring/matches", summary="Matches: every one for coordinators, a student's own for a student")
async def list_matches(
    uow: UnitOfWork,
    principal: CoordinatorOrMentor,
    programme_id: uuid.UUID | None = None,
    state: State | None = None,
    participant_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[MatchOut]:
    views = await handlers.list_matches(
        _caller(principal), uow, programme_id=programme_id, state=state, participant_id=participant_id, limit=limit,
        offset=offset,
    )  # fmt: skip
    return [MatchOut.of(v) for v in views]


@router.get("/mentoring/matches/{match_id}", summary="A match, with what the caller may do now",
            responses=responses(404))  # fmt: skip
async def get_match(match_id: MatchId, uow: UnitOfWork, principal: CoordinatorOrMentor) -> MatchOut:
    with answering_errors():
        return MatchOut.of(await handlers.get_match(match_id, _caller(principal), uow))


@router.post(
    "/mentoring/matches/{match_id}/actions/{action}",
    summary="Move a match: accept, decline (the mentor); withdraw, pause, resume, complete, end (a coordinator)",
    description="Accepting and resuming are guarded as proposing is (409 listing each unmet condition). 409 with "
    "the state and the allowed actions when the state or the caller does not allow it.",
    responses=responses(404, 409),
)
async def act(
    request: Request, match_id: MatchId, action: MatchAction, uow: UnitOfWork, principal: CoordinatorOrMentor
) -> MatchOut:
    with answering_errors():
        view = await handlers.act(
            match_id, Action(action.value), _caller(principal), uow, now=now(request),
            correlation_id=correlation_id_from(request),
        )  # fmt: skip
    return MatchOut.of(view)


@router.post(
    "/mentoring/matches/{match_id}/sessions",
    status_code=status.HTTP_201_CREATED,
    summary="Log a mentoring session (guarded on its day)",
    description="On an active match, by its mentor or a coordinator; the day not in the future nor before the match "
    "was first active. Refused (409, each unmet condition listed) unless on that day the mentor was cleared and the "
    "participant's consents valid. Publishes `outreach.mentoring_session.logged.v1` (never the notes).",
    responses=responses(404, 409, 422),
)
async def log_session(
    request: Request, match_id: MatchId, body: SessionIn, uow: UnitOfWork, principal: CoordinatorOrMentor
) -> SessionOut:
    fields = handlers.SessionFields(body.held_on, body.mode, body.minutes, body.topic, body.notes)
    caller = _caller(principal)
    with answering_errors():
        session = await handlers.log_session(
            match_id, fields, caller, uow, now=now(request), correlation_id=correlation_id_from(request)
        )
    return SessionOut.of(session, with_notes=caller.coordinator)


@router.get("/mentoring/matches/{match_id}/sessions", summary="A match's sessions (notes for coordinators only)",
            responses=responses(404))  # fmt: skip
async def list_sessions(match_id: MatchId, uow: UnitOfWork, principal: CoordinatorOrMentor) -> list[SessionOut]:
    caller = _caller(principal)
    with answering_errors():
        sessions = await handlers.list_sessions(match_id, caller, uow)
    return [SessionOut.of(s, with_notes=caller.coordinator) for s in sessions]
