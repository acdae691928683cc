"""Reads for the impact report and the research extract, across the areas of this service (their tables, read
only): primary sessions, WATCCH applications, indicators, attendance, surveys. Exact figures; no personal details
(the personal-details table is never read here)."""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_activities import activities, activity_registrations
from medic.outreach.adapters.orm_area_indicators import participant_area_indicators
from medic.outreach.adapters.orm_primary import primary_sessions, primary_topics
from medic.outreach.adapters.orm_schools import schools
from medic.outreach.adapters.orm_surveys import survey_questionnaires, survey_responses
from medic.outreach.adapters.orm_watcch import individual_indicators, watcch_applications, watcch_cycles
from medic.outreach.adapters.watcch_repository import SOURCE_RANK
from medic.outreach.domain.impact import (
    ApplicationFact,
    AreaValue,
    AttendanceFact,
    DeliveredSession,
    IndividualValue,
    SurveyRun,
)
from medic.outreach.domain.indicators import IndicatorSource
from medic.outreach.domain.primary import key_stage
from medic.outreach.domain.primary_lifecycle import TAUGHT
from medic.outreach.domain.watcch import State
from medic.shared.contracts.outreach.activities import ActivityKind, Attendance, RegistrationStatus
from medic.shared.contracts.outreach.primary import YearGroup

CHUNK = 500  # bounded IN lists


class ReportRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def _rows(self, query: Select[Any]) -> Sequence[Any]:
        return list(await self._connection.execute(query))

    async def delivered_sessions(self) -> list[DeliveredSession]:
        """Sessions taught (delivered, feedback collected or closed) with their pupil count."""
        query = (
            select(
                primary_sessions.c.urn,
                schools.c.name.label("school"),
                primary_sessions.c.year_group,
                primary_topics.c.name.label("topic"),
                primary_sessions.c.pupils,
            )
            .join(schools, schools.c.urn == primary_sessions.c.urn)
            .join(primary_topics, primary_topics.c.id == primary_sessions.c.topic_id)
            .where(primary_sessions.c.state.in_([s.value for s in TAUGHT]))
        )
        return [
            DeliveredSession(
                urn=row.urn,
                school=row.school,
                key_stage=key_stage(YearGroup(row.year_group)),
                topic=row.topic,
                pupils=int(row.pupils or 0),
            )
            for row in await self._rows(query)
        ]

    async def applications(self) -> list[ApplicationFact]:
        a = watcch_applications.c
        query = (
            select(
                a.id,
                a.participant_id,
                a.cycle_id,
                watcch_cycles.c.academic_year,
                a.school_urn,
                schools.c.name.label("school"),
                a.state,
                a.eligible_at,
                a.offered_at,
            )
            .join(watcch_cycles, watcch_cycles.c.id == a.cycle_id)
            .join(schools, schools.c.urn == a.school_urn)
            .order_by(watcch_cycles.c.academic_year, a.submitted_at, a.id)
        )
        return [
            ApplicationFact(
                application_id=row.id,
                participant_id=row.participant_id,
                cycle_id=row.cycle_id,
                cycle=row.academic_year,
                urn=row.school_urn,
                school=row.school,
                state=State(row.state),
                eligible_at_set=row.eligible_at is not None,
                offered_at_set=row.offered_at is not None,
            )
            for row in await self._rows(query)
        ]

    async def area_values(self, participant_ids: Collection[uuid.UUID] | None = None) -> list[AreaValue]:
        """Every derived area value, every edition (a report names the edition with each)."""
        c = participant_area_indicators.c
        base = select(c.participant_id, c.dataset, c.edition, c.measure, c.value).order_by(
            c.participant_id, c.measure, c.dataset, c.edition
        )
        found: list[AreaValue] = []
        for query in self._chunked(base, c.participant_id, participant_ids):
            found += [
                AreaValue(row.participant_id, row.dataset, row.edition, row.measure, int(row.value))
                for row in await self._rows(query)
            ]
        return found

    async def individual_values(self, participant_ids: Collection[uuid.UUID] | None = None) -> list[IndividualValue]:
        """Each participant's current value of each measure: the latest recorded, the more trustworthy source on a
        tie (as WatcchRepository.indicators reads one participant's)."""
        c = individual_indicators.c
        base = select(c.participant_id, c.measure, c.value, c.source, c.recorded_at)
        current: dict[tuple[uuid.UUID, str], tuple[tuple[datetime, int], IndividualValue]] = {}
        for query in self._chunked(base, c.participant_id, participant_ids):
            for row in await self._rows(query):
                rank = (row.recorded_at, SOURCE_RANK[IndicatorSource(row.source)])
                key = (row.participant_id, row.measure)
                if key not in current or rank > current[key][0]:
                    current[key] = (rank, IndividualValue(row.participant_id, row.measure, row.value, row.source))
        return [value for _, value in sorted(current.values(), key=lambda v: (str(v[1].participant_id), v[1].measure))]

    async def attendance(self, participant_ids: Collection[uuid.UUID] | None = None) -> list[AttendanceFact]:
        """Registrations holding a place at an activity not cancelled, with its cycle and kind and the attendance
        recorded."""
        r, a = activity_registrations.c, activities.c
        base = (
            select(
                r.participant_id,
                r.activity_id,
                a.cycle_id,
                watcch_cycles.c.academic_year,
                a.kind,
                a.starts_at,
                r.attendance,
                r.attended_minutes,
            )
            .join(activities, activities.c.id == r.activity_id)
            .join(watcch_cycles, watcch_cycles.c.id == a.cycle_id)
            .where(r.status == RegistrationStatus.REGISTERED.value, a.cancelled_at.is_(None))
            .order_by(a.starts_at, r.activity_id, r.participant_id)
        )
        found: list[AttendanceFact] = []
        for query in self._chunked(base, r.participant_id, participant_ids):
            found += [
                AttendanceFact(
                    participant_id=row.participant_id,
                    activity_id=row.activity_id,
                    cycle_id=row.cycle_id,
                    cycle=row.academic_year,
                    kind=ActivityKind(row.kind),
                    attendance=None if row.attendance is None else Attendance(row.attendance),
                    minutes=row.attended_minutes,
                )
                for row in await self._rows(query)
            ]
        return found

    async def survey_runs(self) -> list[SurveyRun]:
        """Each questionnaire with responses in a cycle: the pairs the pre/post change is reported for."""
        s = survey_responses.c
        query = (
            select(s.questionnaire_id, survey_questionnaires.c.name, s.cycle_id, watcch_cycles.c.academic_year)
            .join(survey_questionnaires, survey_questionnaires.c.id == s.questionnaire_id)
            .join(watcch_cycles, watcch_cycles.c.id == s.cycle_id)
            .distinct()
            .order_by(watcch_cycles.c.academic_year, survey_questionnaires.c.name, s.questionnaire_id)
        )
        return [
            SurveyRun(row.questionnaire_id, row.name, row.cycle_id, row.academic_year)
            for row in await self._rows(query)
        ]

    @staticmethod
    def _chunked(base: Select[Any], column: Any, ids: Collection[uuid.UUID] | None) -> list[Select[Any]]:
        if ids is None:
            return [base]
        ordered = sorted(ids)
        return [base.where(column.in_(ordered[i : i + CHUNK])) for i in range(0, len(ordered), CHUNK)]
