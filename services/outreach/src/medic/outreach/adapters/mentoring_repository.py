"""The mentoring area's storage: programmes, mentors' profiles, mentees' preferences, matches, sessions and notes."""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_mentoring import (
    mentee_preferences,
    mentor_profiles,
    mentoring_matches,
    mentoring_programmes,
    mentoring_session_notes,
    mentoring_sessions,
)
from medic.outreach.domain.mentoring import (
    LOADED,
    OPEN,
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
    Weekday,
)


def _slots_data(slots: Sequence[Slot]) -> list[list[str]]:
    return [[s.weekday.value, s.part_of_day.value] for s in slots]


def _slots(data: Sequence[Sequence[str]]) -> tuple[Slot, ...]:
    return tuple(Slot(Weekday(w), PartOfDay(p)) for w, p in data)


def _programme(row: Row[Any]) -> Programme:
    return Programme(row.id, row.cycle_id, row.name, row.starts_on, row.ends_on, tuple(row.interests))


def _profile(row: Row[Any]) -> MentorProfile:
    return MentorProfile(
        programme_id=row.programme_id,
        person_id=row.person_id,
        interests=tuple(row.interests),
        availability=_slots(row.availability),
        max_mentees=row.max_mentees,
        about=row.about,
    )


def _preferences(row: Row[Any]) -> MenteePreferences:
    return MenteePreferences(row.programme_id, row.participant_id, tuple(row.interests), _slots(row.availability))


def _match(row: Row[Any]) -> Match:
    return Match(
        id=row.id,
        programme_id=row.programme_id,
        mentor_id=row.mentor_id,
        participant_id=row.participant_id,
        state=State(row.state),
        proposed_at=row.proposed_at,
        active_since=row.active_since,
        first_active_on=row.first_active_on,
        paused_automatically=row.paused_automatically,
        pause_reasons=tuple(row.pause_reasons),
    )


def _match_values(match: Match) -> dict[str, Any]:
    return {
        "state": match.state.value,
        "active_since": match.active_since,
        "first_active_on": match.first_active_on,
        "paused_automatically": match.paused_automatically,
        "pause_reasons": list(match.pause_reasons),
    }


def _session(row: Row[Any], notes: str | None = None) -> MentoringSession:
    return MentoringSession(
        id=row.id,
        match_id=row.match_id,
        held_on=row.held_on,
        mode=SessionMode(row.mode),
        minutes=row.minutes,
        topic=SessionTopic(row.topic),
        logged_by=row.logged_by,
        logged_at=row.logged_at,
        notes=notes,
    )


class MentoringRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # --- programmes ---

    async def add_programme(self, programme: Programme, *, now: datetime) -> None:
        await self._connection.execute(
            insert(mentoring_programmes).values(
                id=programme.id, cycle_id=programme.cycle_id, name=programme.name, starts_on=programme.starts_on,
                ends_on=programme.ends_on, interests=list(programme.interests), created_at=now,
            )
        )  # fmt: skip

    async def programme(self, programme_id: uuid.UUID) -> Programme | None:
        query = select(mentoring_programmes).where(mentoring_programmes.c.id == programme_id)
        row = (await self._connection.execute(query)).first()
        return None if row is None else _programme(row)

    async def programmes(self, cycle_id: uuid.UUID | None = None) -> list[Programme]:
        c = mentoring_programmes.c
        query = select(mentoring_programmes).order_by(c.starts_on.desc(), c.id)
        if cycle_id is not None:
            query = query.where(c.cycle_id == cycle_id)
        return [_programme(row) for row in await self._connection.execute(query)]

    # --- mentors and mentees ---

    async def save_profile(self, profile: MentorProfile, *, now: datetime) -> None:
        c = mentor_profiles.c
        values = {
            "interests": list(profile.interests),
            "availability": _slots_data(profile.availability),
            "max_mentees": profile.max_mentees,
            "about": profile.about,
            "updated_at": now,
        }
        where = (c.programme_id == profile.programme_id) & (c.person_id == profile.person_id)
        changed = await self._connection.execute(update(mentor_profiles).where(where).values(**values))
        if changed.rowcount == 0:
            await self._connection.execute(
                insert(mentor_profiles).values(programme_id=profile.programme_id, person_id=profile.person_id, **values)
            )

    async def profile(self, programme_id: uuid.UUID, person_id: str) -> MentorProfile | None:
        c = mentor_profiles.c
        query = select(mentor_profiles).where((c.programme_id == programme_id) & (c.person_id == person_id))
        row = (await self._connection.execute(query)).first()
        return None if row is None else _profile(row)

    async def profiles(self, programme_id: uuid.UUID) -> list[MentorProfile]:
        c = mentor_profiles.c
        query = select(mentor_profiles).where(c.programme_id == programme_id).order_by(c.person_id)
        return [_profile(row) for row in await self._connection.execute(query)]

    async def save_preferences(self, preferences: MenteePreferences, *, now: datetime) -> None:
        c = mentee_preferences.c
        values = {
            "interests": list(preferences.interests),
            "availability": _slots_data(preferences.availability),
            "updated_at": now,
        }
        where = (c.programme_id == preferences.programme_id) & (c.participant_id == preferences.participant_id)
        changed = await self._connection.execute(update(mentee_preferences).where(where).values(**values))
        if changed.rowcount == 0:
            await self._connection.execute(
                insert(mentee_preferences).values(
                    programme_id=preferences.programme_id, participant_id=preferences.participant_id, **values
                )
            )

    async def preferences(self, programme_id: uuid.UUID, participant_id: uuid.UUID) -> MenteePreferences | None:
        c = mentee_preferences.c
        query = select(mentee_preferences).where(
            (c.programme_id == programme_id) & (c.participant_id == participant_id)
        )
        row = (await self._connection.execute(query)).first()
        return None if row is None else _preferences(row)

    # --- matches ---

    async def add_match(self, match: Match, *, now: datetime) -> None:
        await self._connection.execute(
            insert(mentoring_matches).values(
                id=match.id, programme_id=match.programme_id, mentor_id=match.mentor_id,
                participant_id=match.participant_id, proposed_at=match.proposed_at, updated_at=now,
                **_match_values(match),
            )
        )  # fmt: skip

    async def save_match(self, match: Match, *, was: State, now: datetime) -> bool:
        """Saves the match if it is still in `was` (so two changes racing cannot both apply)."""
        c = mentoring_matches.c
        changed = await self._connection.execute(
            update(mentoring_matches)
            .where((c.id == match.id) & (c.state == was.value))
            .values(updated_at=now, **_match_values(match))
        )
        return changed.rowcount == 1

    async def match(self, match_id: uuid.UUID) -> Match | None:
        row = (
            await self._connection.execute(select(mentoring_matches).where(mentoring_matches.c.id == match_id))
        ).first()
        return None if row is None else _match(row)

    async def matches(
        self,
        *,
        programme_id: uuid.UUID | None = None,
        mentor_id: str | None = None,
        participant_id: uuid.UUID | None = None,
        states: Collection[State] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Match]:
        c = mentoring_matches.c
        query = select(mentoring_matches).order_by(c.proposed_at, c.id)
        if programme_id is not None:
            query = query.where(c.programme_id == programme_id)
        if mentor_id is not None:
            query = query.where(c.mentor_id == mentor_id)
        if participant_id is not None:
            query = query.where(c.participant_id == participant_id)
        if states is not None:
            query = query.where(c.state.in_([s.value for s in states]))
        if limit is not None:
            query = query.limit(limit).offset(offset)
        return [_match(row) for row in await self._connection.execute(query)]

    async def loads(self, programme_id: uuid.UUID) -> dict[str, int]:
        """Proposed and active matches per mentor in the programme."""
        c = mentoring_matches.c
        query = (
            select(c.mentor_id, func.count())
            .where((c.programme_id == programme_id) & c.state.in_([s.value for s in LOADED]))
            .group_by(c.mentor_id)
        )
        return {row[0]: int(row[1]) for row in await self._connection.execute(query)}

    async def open_match_of(self, programme_id: uuid.UUID, participant_id: uuid.UUID) -> Match | None:
        found = await self.matches(programme_id=programme_id, participant_id=participant_id, states=OPEN)
        return found[0] if found else None

    # --- sessions ---

    async def add_session(self, session: MentoringSession) -> None:
        await self._connection.execute(
            insert(mentoring_sessions).values(
                id=session.id, match_id=session.match_id, held_on=session.held_on, mode=session.mode.value,
                minutes=session.minutes, topic=session.topic.value, logged_by=session.logged_by,
                logged_at=session.logged_at,
            )
        )  # fmt: skip
        if session.notes:
            await self._connection.execute(
                insert(mentoring_session_notes).values(session_id=session.id, notes=session.notes)
            )

    async def sessions(self, match_id: uuid.UUID, *, with_notes: bool) -> list[MentoringSession]:
        s, n = mentoring_sessions.c, mentoring_session_notes.c
        query = (
            select(mentoring_sessions, n.notes)
            .outerjoin(mentoring_session_notes, n.session_id == s.id)
            .where(s.match_id == match_id)
            .order_by(s.held_on, s.logged_at, s.id)
        )
        return [_session(row, row.notes if with_notes else None) for row in await self._connection.execute(query)]

    # --- erasure ---

    async def delete_preferences(self, participant_id: uuid.UUID) -> int:
        c = mentee_preferences.c
        return (
            await self._connection.execute(delete(mentee_preferences).where(c.participant_id == participant_id))
        ).rowcount

    async def delete_notes_of_participant(self, participant_id: uuid.UUID) -> int:
        s, m = mentoring_sessions.c, mentoring_matches.c
        sessions = select(s.id).join(mentoring_matches, m.id == s.match_id).where(m.participant_id == participant_id)
        deleted = await self._connection.execute(
            delete(mentoring_session_notes).where(mentoring_session_notes.c.session_id.in_(sessions))
        )
        return deleted.rowcount

    async def delete_about(self, person_id: str) -> int:
        c = mentor_profiles.c
        changed = await self._connection.execute(
            update(mentor_profiles).where(c.person_id == person_id).values(about=None)
        )
        return changed.rowcount
