"""Mentoring domain: the match lifecycle as data (hypothesis walks it), programmes' checks, the suggestion ranking."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medic.outreach.domain.conditions import Unmet
from medic.outreach.domain.mentoring import (
    LOADED,
    OPEN,
    STEPS,
    TERMINAL,
    TRANSITIONS,
    Action,
    Actor,
    InvalidMentoring,
    Match,
    MenteePreferences,
    MentoringSession,
    MentorProfile,
    PartOfDay,
    Programme,
    SessionMode,
    SessionTopic,
    Slot,
    State,
    TransitionRefused,
    Weekday,
    check,
    options,
)
from medic.outreach.domain.mentoring_suggestions import Candidate, score, suggest

NOW = datetime(2027, 2, 1, 17, 0, tzinfo=UTC)
TODAY = NOW.date()
PROGRAMME_ID, CYCLE_ID = uuid.uuid4(), uuid.uuid4()
INTERESTS = ("surgery", "general_practice", "applying_to_medicine", "research", "paediatrics")
SLOTS = [Slot(w, p) for w in Weekday for p in PartOfDay]


def proposed() -> Match:
    return Match(uuid.uuid4(), PROGRAMME_ID, "2301234", uuid.uuid4(), State.PROPOSED, proposed_at=NOW)


# --- the lifecycle --------------------------------------------------------------------------------------------


def test_the_machine_is_the_one_the_issue_describes() -> None:
    moves = {(a, s, t.target) for a, t in TRANSITIONS.items() for s in t.sources if a not in STEPS}
    assert moves == {
        (Action.ACCEPT, State.PROPOSED, State.ACTIVE),
        (Action.DECLINE, State.PROPOSED, State.DECLINED),
        (Action.WITHDRAW, State.PROPOSED, State.ENDED),
        (Action.PAUSE, State.ACTIVE, State.PAUSED),
        (Action.RESUME, State.PAUSED, State.ACTIVE),
        (Action.COMPLETE, State.ACTIVE, State.COMPLETED),
        (Action.COMPLETE, State.PAUSED, State.COMPLETED),
        (Action.END, State.ACTIVE, State.ENDED),
        (Action.END, State.PAUSED, State.ENDED),
    }
    # Who: the mentor answers a proposal; the coordinator does the rest; the service pauses and ends by itself.
    assert TRANSITIONS[Action.ACCEPT].actors == {Actor.MENTOR}
    assert TRANSITIONS[Action.DECLINE].actors == {Actor.MENTOR}
    assert Actor.SYSTEM in TRANSITIONS[Action.PAUSE].actors
    assert Actor.MENTOR not in TRANSITIONS[Action.RESUME].actors
    # The guard: whatever makes or keeps contact possible.
    assert {a for a, t in TRANSITIONS.items() if t.guarded} == {Action.ACCEPT, Action.RESUME, Action.LOG_SESSION}


@given(st.sampled_from(list(State)), st.sampled_from(list(Actor)))
def test_options_are_exactly_the_actions_check_allows(state: State, actor: Actor) -> None:
    allowed = options(state, actor)
    for action in Action:
        if action in allowed:
            assert check(state, action, actor).action is action
        else:
            with pytest.raises(TransitionRefused) as refused:
                check(state, action, actor)
            assert refused.value.allowed == allowed and refused.value.reason


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(Action)), st.sampled_from(list(Actor))), max_size=25))
def test_any_walk_stays_in_the_machine(steps: list[tuple[Action, Actor]]) -> None:
    """Whatever is tried in whatever order: refused moves change nothing, terminal states are final, a match is
    active only after it was accepted, and an automatic pause says why."""
    match, now = proposed(), NOW
    for action, actor in steps:
        now += timedelta(hours=1)
        before = match
        try:
            match = match.moved(action, actor, now=now, today=now.date(), reasons=("consent_withdrawn",))
        except TransitionRefused:
            assert match == before
            continue
        assert before.state not in TERMINAL
        if action in STEPS:
            assert match == before
        if match.state is State.ACTIVE and before.state is not State.ACTIVE:
            assert match.active_since == now and match.first_active_on is not None
        if match.state is State.PAUSED and before.state is State.ACTIVE:
            assert match.paused_automatically == (actor is Actor.SYSTEM)
            assert match.pause_reasons == (("consent_withdrawn",) if actor is Actor.SYSTEM else ())
        if match.first_active_on is not None:
            assert before.state is not State.PROPOSED or action is Action.ACCEPT or before.first_active_on
    assert LOADED <= OPEN and not OPEN & TERMINAL


def test_a_pause_is_keyed_by_the_time_the_match_became_active() -> None:
    active = proposed().moved(Action.ACCEPT, Actor.MENTOR, now=NOW, today=TODAY)
    paused = active.moved(Action.PAUSE, Actor.SYSTEM, now=NOW, today=TODAY, reasons=("dbs_recheck_overdue",))
    later = NOW + timedelta(days=3)
    resumed = paused.moved(Action.RESUME, Actor.COORDINATOR, now=later, today=later.date())
    assert resumed.active_since == later and resumed.first_active_on == TODAY  # the first day stays
    assert not resumed.paused_automatically and resumed.pause_reasons == ()


# --- programmes, profiles, sessions ---------------------------------------------------------------------------


def programme(**changes: object) -> Programme:
    fields: dict[str, object] = {
        "id": PROGRAMME_ID, "cycle_id": CYCLE_ID, "name": "Mentoring", "starts_on": date(2027, 1, 16),
        "ends_on": date(2027, 7, 10), "interests": INTERESTS,
    }  # fmt: skip
    return Programme(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field", "conflict"),
    [
        ({"starts_on": date(2027, 1, 15)}, "starts_on", True),
        ({"ends_on": date(2027, 7, 11)}, "ends_on", True),
        ({"ends_on": date(2027, 1, 1)}, "ends_on", True),
        ({"name": " "}, "name", False),
        ({"interests": ("surgery", "surgery")}, "interests", False),
        ({"interests": ("Surgery!",)}, "interests", False),
    ],
)
def test_a_programme_lies_within_its_cycle(changes: dict[str, object], field: str, conflict: bool) -> None:
    with pytest.raises(InvalidMentoring) as refused:
        programme(**changes).check(date(2027, 1, 16), date(2027, 7, 10))
    assert (refused.value.field, refused.value.conflict) == (field, conflict)
    assert programme().check(date(2027, 1, 16), date(2027, 7, 10)) == programme()


def test_interests_come_from_the_programmes_list() -> None:
    profile = MentorProfile(PROGRAMME_ID, "2301234", ("surgery", "cardiology"), (), 2)
    with pytest.raises(InvalidMentoring, match="cardiology") as refused:
        profile.check(programme())
    assert refused.value.field == "interests" and refused.value.conflict
    slots = (Slot(Weekday.FRIDAY, PartOfDay.EVENING), Slot(Weekday.MONDAY, PartOfDay.MORNING))
    fine = MentorProfile(PROGRAMME_ID, "2301234", ("surgery",), slots + slots[:1], 2).check(programme())
    assert fine.availability == (slots[1], slots[0])  # once each, Monday first


def test_a_session_is_on_or_after_the_match_became_active_and_not_in_the_future() -> None:
    active = proposed().moved(Action.ACCEPT, Actor.MENTOR, now=NOW, today=TODAY)

    def session(held_on: date, minutes: int = 45) -> MentoringSession:
        return MentoringSession(uuid.uuid4(), active.id, held_on, SessionMode.ONLINE, minutes,
                                SessionTopic.CAREERS, "2301234", NOW)  # fmt: skip

    assert session(TODAY).check(active, TODAY)
    for held_on in (TODAY + timedelta(days=1), TODAY - timedelta(days=1)):
        with pytest.raises(InvalidMentoring) as refused:
            session(held_on).check(active, TODAY)
        assert refused.value.field == "held_on" and refused.value.conflict
    with pytest.raises(InvalidMentoring) as refused:
        session(TODAY, minutes=2).check(active, TODAY)
    assert refused.value.field == "minutes"


# --- suggestions ----------------------------------------------------------------------------------------------

profiles = st.builds(
    lambda person, interests, slots, most: MentorProfile(PROGRAMME_ID, person, tuple(interests), tuple(slots), most),
    st.from_regex(r"23[0-9]{5}", fullmatch=True),
    st.lists(st.sampled_from(INTERESTS), unique=True),
    st.lists(st.sampled_from(SLOTS), unique=True, max_size=8),
    st.integers(1, 5),
)
candidates = st.builds(
    Candidate,
    profiles,
    st.integers(0, 6),
    st.lists(st.just(Unmet("dbs_expired", "the check is past its recheck date")), max_size=1).map(tuple),
)
mentees = st.builds(
    lambda interests, slots: MenteePreferences(PROGRAMME_ID, uuid.uuid4(), tuple(interests), tuple(slots)),
    st.lists(st.sampled_from(INTERESTS), unique=True),
    st.lists(st.sampled_from(SLOTS), unique=True, max_size=8),
)


@settings(max_examples=200, deadline=None)
@given(mentees, st.lists(candidates, max_size=8, unique_by=lambda c: c.profile.person_id))
def test_only_mentors_who_may_take_the_participant_are_ranked_best_first(
    mentee: MenteePreferences, found: list[Candidate]
) -> None:
    result = suggest(mentee, found)
    assert len(result.ranked) + len(result.unavailable) == len(found)
    by_id = {c.profile.person_id: c for c in found}
    for ranked in result.ranked:  # cleared, with room
        candidate = by_id[ranked.mentor_id]
        assert not candidate.unmet and candidate.load < candidate.profile.max_mentees
        assert ranked.score == sum(p.points for p in ranked.parts)
        assert set(ranked.shared_interests) == set(mentee.interests) & set(candidate.profile.interests)
    for unavailable in result.unavailable:  # each with the conditions it fails, named
        candidate = by_id[unavailable.mentor_id]
        assert unavailable.unmet
        codes = {u.code for u in unavailable.unmet}
        assert ("mentor_full" in codes) == (candidate.load >= candidate.profile.max_mentees)
    keys = [(-r.score, r.load, r.mentor_id) for r in result.ranked]
    assert keys == sorted(keys)


@settings(max_examples=200, deadline=None)
@given(mentees, profiles, st.sampled_from(INTERESTS), st.integers(0, 4))
def test_sharing_one_more_interest_never_lowers_a_score(
    mentee: MenteePreferences, profile: MentorProfile, extra: str, load: int
) -> None:
    load = min(load, profile.max_mentees - 1)
    wider = MentorProfile(PROGRAMME_ID, profile.person_id, tuple({*profile.interests, extra}),
                          profile.availability, profile.max_mentees)  # fmt: skip
    assert score(mentee, wider, load).score >= score(mentee, profile, load).score
    assert score(mentee, profile, load).score >= score(mentee, profile, load + 1).score  # a lighter load ranks higher


def test_the_score_is_explained_part_by_part() -> None:
    mentee = MenteePreferences(PROGRAMME_ID, uuid.uuid4(), ("surgery", "research"), (SLOTS[0], SLOTS[1]))
    profile = MentorProfile(PROGRAMME_ID, "2301234", ("surgery",), (SLOTS[1],), 2)
    ranked = score(mentee, profile, 1)
    assert [(p.part, p.points) for p in ranked.parts] == [("interests", 3), ("availability", 2), ("load", 2)]
    assert ranked.parts[0].because == "shares surgery"
    assert ranked.parts[1].because == "both free monday afternoon"
    assert ranked.parts[2].because == "1 of 2 mentees proposed or active"
