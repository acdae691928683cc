"""Mentoring use cases: programmes, mentors' profiles, mentees' preferences, suggestions, matches through their
lifecycle, mentoring sessions, and erasure's part.

Proposing, accepting, resuming and logging a session are guarded (service_layer/mentoring_guard.py): refused with
`ConditionsUnmet`, listing each unmet condition of both people, unless on the day the mentor is cleared and the
participant's consents are valid. `recheck_matches` (the automatic pause) lives with the guard and is re-exported
here, as the other areas expect it.

Who the caller is to a match (`Caller`): a coordinator sees and moves every match; a student only the matches they
mentor (any other is "not found", as for an unknown one); the allowed actions shown are the domain's `options`.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.conditions import ConditionsUnmet, Unmet
from medic.outreach.domain.mentoring import (
    OPEN,
    PROPOSERS,
    STEPS,
    Action,
    Actor,
    InvalidMentoring,
    Match,
    MenteePreferences,
    MentoringNotFound,
    MentoringSession,
    MentorProfile,
    Programme,
    SessionMode,
    SessionTopic,
    State,
    TransitionRefused,
    check,
    options,
)
from medic.outreach.domain.mentoring_suggestions import Candidate, Suggestions, full, suggest
from medic.outreach.service_layer.mentoring_guard import (
    lock_both,
    mentor_unmet,
    participant_unmet,
    recheck_matches,
    today_at,
    unmet_on,
    unmet_on_past_day,
)
from medic.shared.contracts.outreach import mentoring as events
from medic.shared.events import Envelope, EventPayload
from medic.shared.logging import get_logger

__all__ = ["forget_mentor", "forget_participant", "recheck_matches"]

log = get_logger(__name__)
M = TypeVar("M", bound=events.MentoringMatchV1)


@dataclass(frozen=True)
class Caller:
    user_id: str  # the token's sub: a student's university id
    coordinator: bool


def actor_for(match: Match, caller: Caller) -> Actor | None:
    """How the caller stands to the match; None: they may not see it (404)."""
    if caller.coordinator:
        return Actor.COORDINATOR
    return Actor.MENTOR if caller.user_id == match.mentor_id else None


@dataclass(frozen=True)
class MatchView:
    match: Match
    actions: Sequence[Action]  # what this caller may do now (steps such as log_session included)


def _view(match: Match, actor: Actor) -> MatchView:
    return MatchView(match, options(match.state, actor))


async def _publish(uow: OutreachUnitOfWork, event: EventPayload, subject: str, correlation_id: uuid.UUID) -> None:
    await uow.publish(Envelope.wrap(event, subject=subject, correlation_id=correlation_id))


def _match_event(kind: type[M], match: Match, **extra: Any) -> M:
    return kind(
        match_id=match.id,
        programme_id=match.programme_id,
        mentor_id=match.mentor_id,
        participant_id=match.participant_id,
        **extra,
    )


# --- programmes -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeFields:
    cycle_id: uuid.UUID
    name: str
    starts_on: date
    ends_on: date
    interests: tuple[str, ...]


async def create_programme(
    fields: ProgrammeFields, uow: OutreachUnitOfWork, *, now: datetime, correlation_id: uuid.UUID
) -> Programme:
    async with uow:
        cycle = await uow.watcch.cycle(fields.cycle_id)
        if cycle is None:
            raise MentoringNotFound("no such cycle", field="cycle_id")
        programme = Programme(
            uuid.uuid4(), fields.cycle_id, fields.name.strip(), fields.starts_on, fields.ends_on, fields.interests
        ).check(cycle.programme_starts_on, cycle.programme_ends_on)
        await uow.mentoring.add_programme(programme, now=now)
        event = events.MentoringProgrammeCreatedV1(
            programme_id=programme.id, cycle_id=programme.cycle_id, starts_on=programme.starts_on,
            ends_on=programme.ends_on,
        )  # fmt: skip
        await _publish(uow, event, f"mentoring/programmes/{programme.id}", correlation_id)
        await uow.commit()
    return programme


async def _programme(uow: OutreachUnitOfWork, programme_id: uuid.UUID) -> Programme:
    programme = await uow.mentoring.programme(programme_id)
    if programme is None:
        raise MentoringNotFound("no such programme")
    return programme


async def get_programme(programme_id: uuid.UUID, uow: OutreachUnitOfWork) -> Programme:
    async with uow:
        return await _programme(uow, programme_id)


async def list_programmes(uow: OutreachUnitOfWork, cycle_id: uuid.UUID | None = None) -> list[Programme]:
    async with uow:
        return await uow.mentoring.programmes(cycle_id)


# --- mentors and mentees --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentorView:
    profile: MentorProfile
    load: int  # proposed + active matches


async def set_mentor(profile: MentorProfile, uow: OutreachUnitOfWork, *, now: datetime) -> MentorView:
    async with uow:
        programme = await _programme(uow, profile.programme_id)
        checked = profile.check(programme)
        await uow.mentoring.save_profile(checked, now=now)
        load = (await uow.mentoring.loads(programme.id)).get(checked.person_id, 0)
        await uow.commit()
    return MentorView(checked, load)


async def list_mentors(programme_id: uuid.UUID, uow: OutreachUnitOfWork) -> list[MentorView]:
    async with uow:
        await _programme(uow, programme_id)
        loads = await uow.mentoring.loads(programme_id)
        return [MentorView(p, loads.get(p.person_id, 0)) for p in await uow.mentoring.profiles(programme_id)]


async def _enrolled(uow: OutreachUnitOfWork, programme: Programme, participant_id: uuid.UUID, field: str) -> None:
    if not await uow.watcch.participant_exists(participant_id):
        raise MentoringNotFound("no such participant", field=field)
    if not await uow.watcch.is_enrolled(participant_id, programme.cycle_id):
        raise InvalidMentoring(field, "the participant is not enrolled in the programme's cycle", conflict=True)


async def set_mentee(preferences: MenteePreferences, uow: OutreachUnitOfWork, *, now: datetime) -> MenteePreferences:
    async with uow:
        programme = await _programme(uow, preferences.programme_id)
        await _enrolled(uow, programme, preferences.participant_id, "participant_id")
        checked = preferences.check(programme)
        await uow.mentoring.save_preferences(checked, now=now)
        await uow.commit()
    return checked


async def get_mentee(programme_id: uuid.UUID, participant_id: uuid.UUID, uow: OutreachUnitOfWork) -> MenteePreferences:
    async with uow:
        await _programme(uow, programme_id)
        found = await uow.mentoring.preferences(programme_id, participant_id)
    if found is None:
        raise MentoringNotFound("no preferences recorded for this participant in this programme")
    return found


# --- suggestions ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuggestionsView:
    on: date
    suggestions: Suggestions
    preferences_recorded: bool
    participant_unmet: tuple[Unmet, ...]  # the participant's own conditions that day (apply to every mentor)


async def suggestions(
    programme_id: uuid.UUID, participant_id: uuid.UUID, on: date, uow: OutreachUnitOfWork
) -> SuggestionsView:
    async with uow:
        programme = await _programme(uow, programme_id)
        if not await uow.watcch.participant_exists(participant_id):
            raise MentoringNotFound("no such participant")
        preferences = await uow.mentoring.preferences(programme_id, participant_id)
        mentee = preferences or MenteePreferences(programme_id, participant_id, (), ())
        loads = await uow.mentoring.loads(programme_id)
        open_with = {m.mentor_id for m in await uow.mentoring.matches(
            programme_id=programme_id, participant_id=participant_id, states=OPEN)}  # fmt: skip
        candidates = []
        for profile in await uow.mentoring.profiles(programme.id):
            unmet = await mentor_unmet(uow, profile.person_id, on)
            if profile.person_id in open_with:
                unmet.append(Unmet("already_matched", "an open match with this participant already", profile.person_id))
            candidates.append(Candidate(profile, loads.get(profile.person_id, 0), tuple(unmet)))
        own = await participant_unmet(uow, participant_id, on)
    return SuggestionsView(on, suggest(mentee, candidates), preferences is not None, tuple(own))


# --- matches --------------------------------------------------------------------------------------------------


async def propose(
    programme_id: uuid.UUID, mentor_id: str, participant_id: uuid.UUID, caller: Caller, uow: OutreachUnitOfWork, *,
    now: datetime, correlation_id: uuid.UUID,
) -> MatchView:  # fmt: skip
    """A coordinator's proposal, guarded today: refused listing every unmet condition of both people (and a full
    mentor)."""
    if not caller.coordinator or Actor.COORDINATOR not in PROPOSERS:  # the route admits coordinators only
        raise MentoringNotFound("no such programme")
    today = today_at(uow, now)
    async with uow:
        programme = await _programme(uow, programme_id)
        profile = await uow.mentoring.profile(programme_id, mentor_id)
        if profile is None:
            raise MentoringNotFound("no such mentor in this programme", field="mentor_id")
        await _enrolled(uow, programme, participant_id, "participant_id")
        await lock_both(uow, mentor_id, participant_id, now=now)
        if await uow.mentoring.open_match_of(programme_id, participant_id) is not None:
            raise InvalidMentoring(
                "participant_id", "the participant has an open match in this programme already", conflict=True
            )
        unmet = await unmet_on(uow, mentor_id, participant_id, today)
        load = (await uow.mentoring.loads(programme_id)).get(mentor_id, 0)
        if (is_full := full(Candidate(profile, load))) is not None:
            unmet.append(is_full)
        if unmet:
            log.info("mentoring.refused", action="propose", mentor_id=mentor_id, participant_id=str(participant_id),
                     unmet=[u.code for u in unmet])  # fmt: skip
            raise ConditionsUnmet("propose the match", unmet)
        match = Match(uuid.uuid4(), programme_id, mentor_id, participant_id, State.PROPOSED, proposed_at=now)
        await uow.mentoring.add_match(match, now=now)
        event = _match_event(events.MentoringMatchProposedV1, match)
        await _publish(uow, event, f"mentoring/matches/{match.id}", correlation_id)
        await uow.commit()
    return _view(match, Actor.COORDINATOR)


async def _visible(uow: OutreachUnitOfWork, match_id: uuid.UUID, caller: Caller) -> tuple[Match, Actor]:
    match = await uow.mentoring.match(match_id)
    actor = None if match is None else actor_for(match, caller)
    if match is None or actor is None:
        raise MentoringNotFound("no such match")
    return match, actor


async def get_match(match_id: uuid.UUID, caller: Caller, uow: OutreachUnitOfWork) -> MatchView:
    async with uow:
        match, actor = await _visible(uow, match_id, caller)
    return _view(match, actor)


async def list_matches(
    caller: Caller, uow: OutreachUnitOfWork, *, programme_id: uuid.UUID | None = None, state: State | None = None,
    participant_id: uuid.UUID | None = None, limit: int = 100, offset: int = 0,
) -> list[MatchView]:  # fmt: skip
    """A coordinator's: every match; a student's: the ones they mentor."""
    mentor_id = None if caller.coordinator else caller.user_id
    actor = Actor.COORDINATOR if caller.coordinator else Actor.MENTOR
    async with uow:
        found = await uow.mentoring.matches(
            programme_id=programme_id, mentor_id=mentor_id, participant_id=participant_id,
            states=None if state is None else {state}, limit=limit, offset=offset,
        )  # fmt: skip
    return [_view(m, actor) for m in found]


_EVENTS: dict[Action, type[events.MentoringMatchV1]] = {
    Action.ACCEPT: events.MentoringMatchAcceptedV1,
    Action.DECLINE: events.MentoringMatchDeclinedV1,
    Action.RESUME: events.MentoringMatchResumedV1,
    Action.COMPLETE: events.MentoringMatchCompletedV1,
}


async def act(
    match_id: uuid.UUID, action: Action, caller: Caller, uow: OutreachUnitOfWork, *, now: datetime,
    correlation_id: uuid.UUID,
) -> MatchView:  # fmt: skip
    """Accept or decline (the mentor); withdraw, pause, resume, complete, end (a coordinator). Accepting and
    resuming are guarded today."""
    if action in STEPS:
        raise ValueError(f"{action.value} is not taken through the match's actions")
    today = today_at(uow, now)
    async with uow:
        match, actor = await _visible(uow, match_id, caller)
        transition = check(match.state, action, actor)
        if transition.guarded:
            await lock_both(uow, match.mentor_id, match.participant_id, now=now)
            current = await uow.mentoring.match(match_id)
            assert current is not None
            match = current
            transition = check(match.state, action, actor)
            unmet = await unmet_on(uow, match.mentor_id, match.participant_id, today)
            if action is Action.RESUME:  # a paused match is not in the load: coming back takes a place
                profile = await uow.mentoring.profile(match.programme_id, match.mentor_id)
                load = (await uow.mentoring.loads(match.programme_id)).get(match.mentor_id, 0)
                if profile is not None and (is_full := full(Candidate(profile, load))) is not None:
                    unmet.append(is_full)
            if unmet:
                log.info("mentoring.refused", action=action.value, match_id=str(match.id),
                         unmet=[u.code for u in unmet])  # fmt: skip
                raise ConditionsUnmet(f"{action.value} the match", unmet)
        after = match.moved(action, actor, now=now, today=today)
        if not await uow.mentoring.save_match(after, was=match.state, now=now):
            raise TransitionRefused(action, match.state, "the match changed meanwhile; look again and retry",
                                    options(match.state, actor))  # fmt: skip
        subject = f"mentoring/matches/{match.id}"
        event: EventPayload
        if action is Action.PAUSE:
            event = _match_event(events.MentoringMatchPausedV1, match, automatic=False, reason_codes=[])
        elif action in (Action.WITHDRAW, Action.END):
            event = _match_event(
                events.MentoringMatchEndedV1, match, previous_state=match.state.value, by_erasure=False
            )
        else:
            event = _match_event(_EVENTS[action], match)
        await _publish(uow, event, subject, correlation_id)
        await uow.commit()
    return _view(after, actor)


# --- mentoring sessions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionFields:
    held_on: date
    mode: SessionMode
    minutes: int
    topic: SessionTopic
    notes: str | None


async def log_session(
    match_id: uuid.UUID, fields: SessionFields, caller: Caller, uow: OutreachUnitOfWork, *, now: datetime,
    correlation_id: uuid.UUID,
) -> MentoringSession:  # fmt: skip
    """On an active match, by its mentor or a coordinator; guarded on the session's day."""
    today = today_at(uow, now)
    async with uow:
        match, actor = await _visible(uow, match_id, caller)
        check(match.state, Action.LOG_SESSION, actor)
        notes = fields.notes.strip() if fields.notes and fields.notes.strip() else None
        session = MentoringSession(
            id=uuid.uuid4(), match_id=match.id, held_on=fields.held_on, mode=fields.mode, minutes=fields.minutes,
            topic=fields.topic, logged_by=caller.user_id, logged_at=now, notes=notes,
        ).check(match, today)  # fmt: skip
        await lock_both(uow, match.mentor_id, match.participant_id, now=now)
        current = await uow.mentoring.match(match_id)
        assert current is not None
        check(current.state, Action.LOG_SESSION, actor)
        unmet = await unmet_on_past_day(uow, match.mentor_id, match.participant_id, session.held_on, today=today)
        if unmet:
            log.info("mentoring.refused", action="log_session", match_id=str(match.id), unmet=[u.code for u in unmet])
            raise ConditionsUnmet(f"log a session on {session.held_on.isoformat()}", unmet)
        await uow.mentoring.add_session(session)
        event = events.MentoringSessionLoggedV1(
            session_id=session.id, match_id=match.id, programme_id=match.programme_id, mentor_id=match.mentor_id,
            participant_id=match.participant_id, held_on=session.held_on, mode=session.mode.value,
            topic=session.topic.value, minutes=session.minutes,
        )  # fmt: skip
        await _publish(uow, event, f"mentoring/matches/{match.id}", correlation_id)
        await uow.commit()
    return session


async def list_sessions(match_id: uuid.UUID, caller: Caller, uow: OutreachUnitOfWork) -> list[MentoringSession]:
    """Notes for coordinators only."""
    async with uow:
        await _visible(uow, match_id, caller)
        return await uow.mentoring.sessions(match_id, with_notes=caller.coordinator)


# --- erasure (inside the erasure area's transaction) ------------------------------------------------------------


async def _end_open(uow: OutreachUnitOfWork, matches: Sequence[Match], *, now: datetime) -> None:
    today = today_at(uow, now)
    correlation_id = uuid.uuid4()
    for match in matches:
        action = Action.WITHDRAW if match.state is State.PROPOSED else Action.END
        after = match.moved(action, Actor.SYSTEM, now=now, today=today)
        if not await uow.mentoring.save_match(after, was=match.state, now=now):
            continue
        event = _match_event(events.MentoringMatchEndedV1, match, previous_state=match.state.value, by_erasure=True)
        await _publish(uow, event, f"mentoring/matches/{match.id}", correlation_id)


async def forget_participant(uow: OutreachUnitOfWork, participant_id: uuid.UUID, *, now: datetime) -> None:
    """Erasure: ends the participant's open matches, deletes their mentoring preferences and the notes of their
    sessions (the sessions' dates, modes, topics and minutes stay, by pseudonymous id, for counts)."""
    await _end_open(uow, await uow.mentoring.matches(participant_id=participant_id, states=OPEN), now=now)
    preferences = await uow.mentoring.delete_preferences(participant_id)
    notes = await uow.mentoring.delete_notes_of_participant(participant_id)
    log.info("mentoring.participant_forgotten", participant_id=str(participant_id), preferences=preferences,
             notes=notes)  # fmt: skip


async def forget_mentor(uow: OutreachUnitOfWork, person_id: str, *, now: datetime) -> None:
    """Erasure of a mentor: ends their open matches and deletes their profiles' free text."""
    await _end_open(uow, await uow.mentoring.matches(mentor_id=person_id, states=OPEN), now=now)
    await uow.mentoring.delete_about(person_id)
    log.info("mentoring.mentor_forgotten", mentor_id=person_id)
