"""Storage of the primary-school programme (tables in orm_primary)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_partners import known_partners
from medic.outreach.adapters.orm_primary import (
    primary_forms,
    primary_pupil_feedback,
    primary_reflections,
    primary_session_students,
    primary_sessions,
    primary_teacher_feedback,
    primary_terms,
    primary_topics,
    school_partners,
)
from medic.outreach.domain.primary import (
    FORM_VERSION_RACE,
    Conflict,
    Delivery,
    FaceCounts,
    Form,
    FormItem,
    FormKind,
    Level,
    Phase,
    PupilFeedback,
    Session,
    TeacherFeedback,
    Term,
    Topic,
    topic_exists,
)
from medic.outreach.domain.primary_lifecycle import State
from medic.shared.contracts.outreach.primary import YearGroup
from medic.shared.contracts.projects import PartnerKind


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions to list. `student` and `partner_urns` narrow to what the caller may see."""

    term_id: uuid.UUID | None = None
    urn: str | None = None
    state: State | None = None
    student: str | None = None
    partner_urns: frozenset[str] | None = None


@dataclass(frozen=True)
class Reflection:
    user_id: str
    text: str
    written_at: datetime


class SessionChangedMeanwhile(Exception):
    def __init__(self) -> None:
        super().__init__("the session changed meanwhile: read it again and retry")


def _term(row: Row[Any]) -> Term:
    return Term(row.id, row.name, row.academic_year, row.starts_on, row.ends_on)


def _topic(row: Row[Any]) -> Topic:
    return Topic(row.id, row.name, row.statutory, row.retired)


def _form(row: Row[Any]) -> Form:
    return Form(FormKind(row.kind), row.version, tuple(FormItem(i["key"], i["text"]) for i in row.items))


class PrimaryRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # Terms

    async def add_term(self, term: Term, *, now: datetime) -> None:
        await self._connection.execute(
            insert(primary_terms).values(
                id=term.id,
                name=term.name,
                academic_year=term.academic_year,
                starts_on=term.starts_on,
                ends_on=term.ends_on,
                created_at=now,
            )
        )

    async def term(self, term_id: uuid.UUID) -> Term | None:
        row = (await self._connection.execute(select(primary_terms).where(primary_terms.c.id == term_id))).first()
        return None if row is None else _term(row)

    async def terms(self, *, academic_year: str | None, limit: int, offset: int) -> Sequence[Term]:
        query = select(primary_terms).order_by(primary_terms.c.starts_on, primary_terms.c.id).limit(limit)
        if academic_year is not None:
            query = query.where(primary_terms.c.academic_year == academic_year)
        return [_term(row) for row in await self._connection.execute(query.offset(offset))]

    # Topics

    async def topic(self, topic_id: str) -> Topic | None:
        row = (await self._connection.execute(select(primary_topics).where(primary_topics.c.id == topic_id))).first()
        return None if row is None else _topic(row)

    async def topics(self, *, include_retired: bool) -> Sequence[Topic]:
        query = select(primary_topics).order_by(primary_topics.c.statutory.desc(), primary_topics.c.id)
        if not include_retired:
            query = query.where(primary_topics.c.retired.is_(False))
        return [_topic(row) for row in await self._connection.execute(query)]

    async def add_topic(self, topic: Topic, *, now: datetime) -> None:
        try:
            await self._connection.execute(
                insert(primary_topics).values(
                    id=topic.id, name=topic.name, statutory=topic.statutory, retired=topic.retired, created_at=now
                )
            )
        except IntegrityError as error:  # a concurrent request added the id first (the unit of work rolls back)
            raise Conflict("id", topic_exists(topic.id)) from error

    async def set_retired(self, topic_id: str, retired: bool) -> None:
        await self._connection.execute(
            update(primary_topics).where(primary_topics.c.id == topic_id).values(retired=retired)
        )

    # Forms

    async def form(self, kind: FormKind, version: int) -> Form | None:
        query = select(primary_forms).where(primary_forms.c.kind == kind.value, primary_forms.c.version == version)
        row = (await self._connection.execute(query)).first()
        return None if row is None else _form(row)

    async def latest_form(self, kind: FormKind) -> Form | None:
        query = (
            select(primary_forms)
            .where(primary_forms.c.kind == kind.value)
            .order_by(primary_forms.c.version.desc())
            .limit(1)
        )
        row = (await self._connection.execute(query)).first()
        return None if row is None else _form(row)

    async def forms(self, kind: FormKind) -> Sequence[Form]:
        query = select(primary_forms).where(primary_forms.c.kind == kind.value).order_by(primary_forms.c.version)
        return [_form(row) for row in await self._connection.execute(query)]

    async def add_form(self, form: Form, *, now: datetime) -> None:
        items = [{"key": item.key, "text": item.text} for item in form.items]
        try:
            await self._connection.execute(
                insert(primary_forms).values(kind=form.kind.value, version=form.version, items=items, created_at=now)
            )
        except IntegrityError as error:  # a concurrent request took the same next version (the primary key)
            raise Conflict("items", FORM_VERSION_RACE) from error

    # Sessions

    async def add_session(self, session: Session, *, now: datetime) -> None:
        await self._connection.execute(
            insert(primary_sessions).values(
                id=session.id,
                term_id=session.term_id,
                urn=session.urn,
                date=session.date,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                year_group=session.year_group.value,
                topic_id=session.topic_id,
                level=session.level.value,
                state=session.state.value,
                version=session.version,
                created_at=now,
            )
        )
        await self._connection.execute(
            insert(primary_session_students),
            [{"session_id": session.id, "user_id": user, "position": n} for n, user in enumerate(session.students)],
        )

    async def save_session(self, session: Session, *, loaded_version: int, now: datetime) -> None:
        """Writes the session's state, delivery and feedback, if no one else saved it since it was loaded."""
        delivery = session.delivery
        result = await self._connection.execute(
            update(primary_sessions)
            .where(primary_sessions.c.id == session.id, primary_sessions.c.version == loaded_version)
            .values(
                state=session.state.value,
                version=session.version,
                pupils=None if delivery is None else delivery.pupils,
                classes=None if delivery is None else delivery.classes,
                teacher_present_throughout=None if delivery is None else delivery.teacher_present_throughout,
                cancel_reason=session.cancel_reason,
            )
        )
        if result.rowcount != 1:
            raise SessionChangedMeanwhile()
        teacher = session.teacher_feedback
        await self._connection.execute(
            delete(primary_teacher_feedback).where(primary_teacher_feedback.c.session_id == session.id)
        )
        if teacher is not None:
            await self._connection.execute(
                insert(primary_teacher_feedback).values(
                    session_id=session.id,
                    form_version=teacher.form_version,
                    scores=dict(teacher.scores),
                    comments=teacher.comments,
                    recorded_at=now,
                )
            )
        await self._connection.execute(
            delete(primary_pupil_feedback).where(primary_pupil_feedback.c.session_id == session.id)
        )
        if session.pupil_feedback is not None:
            version = session.pupil_feedback.form_version
            await self._connection.execute(
                insert(primary_pupil_feedback),
                [
                    {
                        "session_id": session.id,
                        "question": row.question,
                        "phase": row.phase.value,
                        "form_version": version,
                        "happy": row.happy,
                        "not_sure": row.not_sure,
                        "sad": row.sad,
                    }
                    for row in session.pupil_feedback.counts
                ],
            )

    async def session(self, session_id: uuid.UUID) -> Session | None:
        row = (
            await self._connection.execute(select(primary_sessions).where(primary_sessions.c.id == session_id))
        ).first()
        if row is None:
            return None
        return (await self._sessions([row]))[0]

    async def sessions(self, where: SessionFilter, *, limit: int, offset: int) -> Sequence[Session]:
        query = select(primary_sessions).order_by(
            primary_sessions.c.date, primary_sessions.c.starts_at, primary_sessions.c.id
        )
        if where.term_id is not None:
            query = query.where(primary_sessions.c.term_id == where.term_id)
        if where.urn is not None:
            query = query.where(primary_sessions.c.urn == where.urn)
        if where.state is not None:
            query = query.where(primary_sessions.c.state == where.state.value)
        if where.student is not None:
            delivering = select(primary_session_students.c.session_id).where(
                primary_session_students.c.user_id == where.student
            )
            query = query.where(primary_sessions.c.id.in_(delivering))
        if where.partner_urns is not None:
            query = query.where(primary_sessions.c.urn.in_(sorted(where.partner_urns)))
        rows = list(await self._connection.execute(query.limit(limit).offset(offset)))
        return await self._sessions(rows)

    async def _sessions(self, rows: Sequence[Row[Any]]) -> list[Session]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        students: dict[uuid.UUID, list[str]] = {}
        query = (
            select(primary_session_students)
            .where(primary_session_students.c.session_id.in_(ids))
            .order_by(primary_session_students.c.position)
        )
        for row in await self._connection.execute(query):
            students.setdefault(row.session_id, []).append(row.user_id)
        teacher = {
            row.session_id: TeacherFeedback(row.form_version, dict(row.scores), row.comments)
            for row in await self._connection.execute(
                select(primary_teacher_feedback).where(primary_teacher_feedback.c.session_id.in_(ids))
            )
        }
        pupils: dict[uuid.UUID, list[Row[Any]]] = {}
        for row in await self._connection.execute(
            select(primary_pupil_feedback).where(primary_pupil_feedback.c.session_id.in_(ids))
        ):
            pupils.setdefault(row.session_id, []).append(row)
        found = []
        for row in rows:
            delivery = (
                None if row.pupils is None else Delivery(row.pupils, row.classes, bool(row.teacher_present_throughout))
            )
            counted = pupils.get(row.id)
            found.append(
                Session(
                    id=row.id,
                    term_id=row.term_id,
                    urn=row.urn,
                    date=row.date,
                    starts_at=row.starts_at,
                    ends_at=row.ends_at,
                    year_group=YearGroup(row.year_group),
                    topic_id=row.topic_id,
                    level=Level(row.level),
                    students=tuple(students.get(row.id, ())),
                    state=State(row.state),
                    version=row.version,
                    delivery=delivery,
                    cancel_reason=row.cancel_reason,
                    teacher_feedback=teacher.get(row.id),
                    pupil_feedback=None if not counted else _pupil_feedback(counted),
                )
            )
        return found

    async def term_totals(self, term_id: uuid.UUID) -> Sequence[Row[Any]]:
        """Per state, topic and year group: how many sessions, and how many pupils and classes they taught."""
        query = (
            select(
                primary_sessions.c.state,
                primary_sessions.c.topic_id,
                primary_sessions.c.year_group,
                func.count().label("sessions"),
                func.coalesce(func.sum(primary_sessions.c.pupils), 0).label("pupils"),
                func.coalesce(func.sum(primary_sessions.c.classes), 0).label("classes"),
            )
            .where(primary_sessions.c.term_id == term_id)
            .group_by(primary_sessions.c.state, primary_sessions.c.topic_id, primary_sessions.c.year_group)
        )
        return list(await self._connection.execute(query))

    # Reflections

    async def set_reflection(self, session_id: uuid.UUID, user_id: str, text: str, *, now: datetime) -> None:
        where = and_(primary_reflections.c.session_id == session_id, primary_reflections.c.user_id == user_id)
        await self._connection.execute(delete(primary_reflections).where(where))
        await self._connection.execute(
            insert(primary_reflections).values(session_id=session_id, user_id=user_id, text=text, written_at=now)
        )

    async def reflections(self, session_id: uuid.UUID, *, user_id: str | None) -> Sequence[Reflection]:
        query = (
            select(primary_reflections)
            .where(primary_reflections.c.session_id == session_id)
            .order_by(primary_reflections.c.written_at, primary_reflections.c.user_id)
        )
        if user_id is not None:
            query = query.where(primary_reflections.c.user_id == user_id)
        return [Reflection(r.user_id, r.text, r.written_at) for r in await self._connection.execute(query)]

    # Schools' partner organisations

    async def partner_kind(self, partner_id: uuid.UUID) -> PartnerKind | None:
        query = select(known_partners.c.kind).where(known_partners.c.id == partner_id)
        kind = (await self._connection.execute(query)).scalar_one_or_none()
        return None if kind is None else PartnerKind(kind)

    async def school_partner(self, urn: str) -> uuid.UUID | None:
        query = select(school_partners.c.partner_id).where(school_partners.c.urn == urn)
        found: uuid.UUID | None = (await self._connection.execute(query)).scalar_one_or_none()
        return found

    async def link_partner(self, urn: str, partner_id: uuid.UUID, *, now: datetime) -> None:
        await self.unlink_partner(urn)
        await self._connection.execute(insert(school_partners).values(urn=urn, partner_id=partner_id, linked_at=now))

    async def unlink_partner(self, urn: str) -> None:
        await self._connection.execute(delete(school_partners).where(school_partners.c.urn == urn))

    async def partner_schools(self, partner_id: uuid.UUID) -> frozenset[str]:
        query = select(school_partners.c.urn).where(school_partners.c.partner_id == partner_id)
        return frozenset((await self._connection.execute(query)).scalars().all())


def _pupil_feedback(rows: Sequence[Row[Any]]) -> PupilFeedback:
    counts = [FaceCounts(r.question, Phase(r.phase), r.happy, r.not_sure, r.sad) for r in rows]
    counts.sort(key=lambda c: (c.question, list(Phase).index(c.phase)))
    return PupilFeedback(rows[0].form_version, tuple(counts))
