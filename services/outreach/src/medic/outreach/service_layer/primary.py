"""Use cases of the primary-school programme. One unit of work each; events staged in the same transaction.

Who sees a session is decided here, per object: coordinators see every one, a student only those they deliver, a
partner only those at a school linked to their organisation; anyone else is told it does not exist.
"""

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from medic.outreach.adapters.primary_repository import Reflection, SessionFilter
from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.conditions import ConditionsUnmet, Unmet
from medic.outreach.domain.history import end_of_day
from medic.outreach.domain.primary import (
    MAX_REFLECTION,
    Conflict,
    Delivery,
    Form,
    FormKind,
    InvalidInput,
    NotFound,
    PupilFeedback,
    Session,
    TeacherFeedback,
    Term,
    Topic,
    UnknownReference,
    clean_text,
    key_stage,
    topic_exists,
)
from medic.outreach.domain.primary_commands import (
    Caller,
    CreateTerm,
    GivePupilFeedback,
    GiveTeacherFeedback,
    PlanSession,
    RecordDelivery,
    TakeAction,
    WriteReflection,
)
from medic.outreach.domain.primary_lifecycle import TAUGHT, Actor, Option, State, options
from medic.outreach.domain.safeguarding import ContactKind
from medic.outreach.service_layer.safeguarding import clearance
from medic.shared.contracts.outreach.primary import (
    KeyStage,
    SessionCancelledV1,
    SessionClosedV1,
    SessionDeliveredV1,
    SessionFeedbackCollectedV1,
    SessionPlannedV1,
    SessionPlanReviewedV1,
    SessionV1,
    YearGroup,
)
from medic.shared.contracts.projects import PartnerKind
from medic.shared.events import Envelope

# A change to a loaded session, given how the caller stands to it (it may read the unit of work).
Change = Callable[[Session, Actor], Awaitable[None]]


@dataclass(frozen=True)
class SessionView:
    session: Session
    actor: Actor
    options: Sequence[Option]


# Terms and topics


async def create_term(command: CreateTerm, uow: OutreachUnitOfWork) -> Term:
    term = Term.create(
        name=command.name, academic_year=command.academic_year, starts_on=command.starts_on, ends_on=command.ends_on
    )
    async with uow:
        await uow.primary.add_term(term, now=datetime.now(UTC))
        await uow.commit()
    return term


async def get_term(term_id: uuid.UUID, uow: OutreachUnitOfWork) -> Term:
    async with uow:
        term = await uow.primary.term(term_id)
    if term is None:
        raise NotFound("no such term")
    return term


async def list_terms(uow: OutreachUnitOfWork, *, academic_year: str | None, limit: int, offset: int) -> Sequence[Term]:
    async with uow:
        return await uow.primary.terms(academic_year=academic_year, limit=limit, offset=offset)


async def list_topics(uow: OutreachUnitOfWork, *, include_retired: bool) -> Sequence[Topic]:
    async with uow:
        return await uow.primary.topics(include_retired=include_retired)


async def add_topic(topic_id: str, name: str, uow: OutreachUnitOfWork) -> Topic:
    topic = Topic.create(id=topic_id, name=name)
    async with uow:
        if await uow.primary.topic(topic.id) is not None:
            raise Conflict("id", topic_exists(topic.id))
        await uow.primary.add_topic(topic, now=datetime.now(UTC))
        await uow.commit()
    return topic


async def set_topic_retired(topic_id: str, retired: bool, uow: OutreachUnitOfWork) -> Topic:
    """A retired topic is offered for no new session; sessions already on it keep it."""
    async with uow:
        topic = await uow.primary.topic(topic_id)
        if topic is None:
            raise NotFound("no such topic")
        await uow.primary.set_retired(topic_id, retired)
        await uow.commit()
    return Topic(topic.id, topic.name, topic.statutory, retired)


# Forms


async def list_forms(kind: FormKind, uow: OutreachUnitOfWork) -> Sequence[Form]:
    async with uow:
        return await uow.primary.forms(kind)


async def add_form(kind: FormKind, items: Sequence[tuple[str, str]], uow: OutreachUnitOfWork) -> Form:
    """A new version of the form; the versions before it stay as they are, with the answers given on them."""
    async with uow:
        form = Form.next(kind, await uow.primary.latest_form(kind), items)
        await uow.primary.add_form(form, now=datetime.now(UTC))
        await uow.commit()
    return form


# Sessions


def _event(session: Session, state: State) -> SessionV1:
    ids = {"session_id": session.id, "term_id": session.term_id, "urn": session.urn}
    what = {
        "date": session.date,
        "year_group": session.year_group,
        "key_stage": session.key_stage,
        "topic_id": session.topic_id,
    }
    if state is State.PLANNED:
        return SessionPlannedV1(**ids, **what, student_ids=list(session.students))
    if state is State.DELIVERED:
        assert session.delivery is not None
        delivery = session.delivery
        return SessionDeliveredV1(
            **ids,
            **what,
            pupils=delivery.pupils,
            classes=delivery.classes,
            teacher_present_throughout=delivery.teacher_present_throughout,
        )
    kinds: dict[State, type[SessionV1]] = {
        State.PLAN_REVIEWED: SessionPlanReviewedV1,
        State.FEEDBACK_COLLECTED: SessionFeedbackCollectedV1,
        State.CLOSED: SessionClosedV1,
        State.CANCELLED: SessionCancelledV1,
    }
    return kinds[state](**ids)


async def _publish(uow: OutreachUnitOfWork, session: Session, correlation_id: uuid.UUID) -> None:
    for state in session.events:
        envelope = Envelope.wrap(
            _event(session, state), subject=f"primary-sessions/{session.id}", correlation_id=correlation_id
        )
        await uow.publish(envelope)
    session.events.clear()


async def _visible(uow: OutreachUnitOfWork, caller: Caller, session_id: uuid.UUID) -> tuple[Session, Actor]:
    session = await uow.primary.session(session_id)
    if session is None:
        raise NotFound("no such session")
    partner_school = (
        caller.organisation_id is not None and await uow.primary.school_partner(session.urn) == caller.organisation_id
    )
    actor = session.actor_for(coordinator=caller.coordinator, user_id=caller.user_id, partner_school=partner_school)
    if actor is None:
        raise NotFound("no such session")
    return session, actor


def _view(session: Session, actor: Actor, today: dt.date | None = None) -> SessionView:
    return SessionView(session, actor, options(session, actor, today))


async def plan_session(
    command: PlanSession, caller: Caller, uow: OutreachUnitOfWork, *, max_students: int
) -> SessionView:
    async with uow:
        term = await uow.primary.term(command.term_id)
        if term is None:
            raise UnknownReference("term_id", "no such term")
        school = await uow.schools.get(command.urn)
        if school is None:
            raise UnknownReference("urn", "no school with this URN is registered")
        topic = await uow.primary.topic(command.topic_id)
        if topic is None:
            raise UnknownReference("topic_id", "no such topic")
        session = Session.plan(
            term=term,
            urn=school.urn,
            phase=school.phase,
            day=command.date,
            starts_at=command.starts_at,
            ends_at=command.ends_at,
            year_group=command.year_group,
            topic=topic,
            level=command.level,
            students=command.student_ids,
            max_students=max_students,
        )
        await uow.primary.add_session(session, now=datetime.now(UTC))
        await _publish(uow, session, caller.correlation_id)
        await uow.commit()
    return _view(session, Actor.COORDINATOR)


async def get_session(caller: Caller, session_id: uuid.UUID, uow: OutreachUnitOfWork, *, today: dt.date) -> SessionView:
    async with uow:
        session, actor = await _visible(uow, caller, session_id)
    return _view(session, actor, today)


async def list_sessions(
    caller: Caller, where: SessionFilter, uow: OutreachUnitOfWork, *, limit: int, offset: int, today: dt.date
) -> Sequence[SessionView]:
    """Coordinators list every session; others those they deliver and those at their organisation's schools."""
    async with uow:
        if caller.coordinator:
            found = await uow.primary.sessions(where, limit=limit, offset=offset)
            return [_view(s, Actor.COORDINATOR, today) for s in found]
        urns = (
            await uow.primary.partner_schools(caller.organisation_id)
            if caller.organisation_id is not None
            else frozenset()
        )
        delivering = SessionFilter(where.term_id, where.urn, where.state, student=caller.user_id)
        at_schools = SessionFilter(where.term_id, where.urn, where.state, partner_urns=urns)
        # At most limit + offset of each, merged in the listing's order, then the page taken.
        window = limit + offset
        mine = await uow.primary.sessions(delivering, limit=window, offset=0)
        theirs = await uow.primary.sessions(at_schools, limit=window, offset=0) if urns else []
    merged = {s.id: s for s in [*mine, *theirs]}
    ordered = sorted(merged.values(), key=lambda s: (s.date, s.starts_at, str(s.id)))[offset : offset + limit]
    views = []
    for session in ordered:
        actor = session.actor_for(coordinator=False, user_id=caller.user_id, partner_school=session.urn in urns)
        assert actor is not None
        views.append(_view(session, actor, today))
    return views


async def _change(
    caller: Caller, session_id: uuid.UUID, uow: OutreachUnitOfWork, today: dt.date, change: Change
) -> SessionView:
    async with uow:
        session, actor = await _visible(uow, caller, session_id)
        loaded = session.version
        await change(session, actor)
        await uow.primary.save_session(session, loaded_version=loaded, now=datetime.now(UTC))
        await _publish(uow, session, caller.correlation_id)
        await uow.commit()
    return _view(session, actor, today)


async def take_action(caller: Caller, command: TakeAction, uow: OutreachUnitOfWork, *, today: dt.date) -> SessionView:
    async def change(session: Session, actor: Actor) -> None:
        session.take(command.action, actor, today=today, reason=command.reason)

    return await _change(caller, command.session_id, uow, today, change)


async def record_delivery(
    caller: Caller, command: RecordDelivery, uow: OutreachUnitOfWork, *, today: dt.date, now: datetime,
    contact: ContactKind = ContactKind.SUPERVISED_OCCASIONAL,
) -> SessionView:  # fmt: skip
    """Refused (ConditionsUnmet, listing each student's unmet conditions) unless on the session's day every
    delivering student was cleared for `contact` (OUTREACH_PRIMARY_CONTACT_KIND), or for unsupervised contact when
    no teacher was present throughout. A past day is judged by the record as it stood at the end of that day (a
    check recorded later does not reach back) and by the record now (a check since voided as recorded in error
    counts against it). Their safeguarding streams are held until the transaction ends, so no change interleaves."""
    delivery = Delivery.create(
        pupils=command.pupils, classes=command.classes, teacher_present_throughout=command.teacher_present_throughout
    )
    kind = contact if command.teacher_present_throughout else ContactKind.UNSUPERVISED_OR_REGULAR

    async def change(session: Session, actor: Actor) -> None:
        session.record_delivery(actor, delivery, today=today)
        unmet: list[Unmet] = []
        for student in sorted(session.students):
            found = list((await clearance(uow, student, kind, session.date, lock_at=now)).unmet)
            if session.date < today:
                then = end_of_day(session.date, ZoneInfo(uow.policies.zone))
                seen = {(u.code, u.subject) for u in found}
                earlier = await clearance(uow, student, kind, session.date, known_at=then)
                found += [u for u in earlier.unmet if (u.code, u.subject) not in seen]
            unmet += found
        if unmet:
            raise ConditionsUnmet("record the delivery", unmet)

    return await _change(caller, command.session_id, uow, today, change)


async def give_teacher_feedback(
    caller: Caller, command: GiveTeacherFeedback, uow: OutreachUnitOfWork, *, today: dt.date
) -> SessionView:
    async def change(session: Session, actor: Actor) -> None:
        form = await uow.primary.form(FormKind.TEACHER, command.form_version)
        if form is None:
            raise UnknownReference("form_version", "no teacher form of this version")
        session.give_teacher_feedback(actor, TeacherFeedback.create(form, command.scores, command.comments))

    return await _change(caller, command.session_id, uow, today, change)


async def give_pupil_feedback(
    caller: Caller, command: GivePupilFeedback, uow: OutreachUnitOfWork, *, today: dt.date
) -> SessionView:
    async def change(session: Session, actor: Actor) -> None:
        form = await uow.primary.form(FormKind.PUPIL, command.form_version)
        if form is None:
            raise UnknownReference("form_version", "no pupil form of this version")
        pupils = session.delivery.pupils if session.delivery is not None else 0
        session.give_pupil_feedback(actor, PupilFeedback.create(form, command.counts, pupils))

    return await _change(caller, command.session_id, uow, today, change)


async def write_reflection(caller: Caller, command: WriteReflection, uow: OutreachUnitOfWork) -> Reflection:
    """A delivering student's own reflection, replaced whole. Never published; coordinators and the writer see it."""
    text = clean_text(command.text, "text", MAX_REFLECTION, multiline=True)
    now = datetime.now(UTC)
    async with uow:
        session, actor = await _visible(uow, caller, command.session_id)
        session.may_reflect(actor)
        await uow.primary.set_reflection(session.id, caller.user_id, text, now=now)
        await uow.commit()
    return Reflection(caller.user_id, text, now)


async def reflections(caller: Caller, session_id: uuid.UUID, uow: OutreachUnitOfWork) -> Sequence[Reflection]:
    """Coordinators read every reflection on the session; a delivering student reads their own; partners none."""
    async with uow:
        session, actor = await _visible(uow, caller, session_id)
        if actor is Actor.PARTNER:
            raise NotFound("no such session")
        mine = None if actor is Actor.COORDINATOR else caller.user_id
        return await uow.primary.reflections(session.id, user_id=mine)


# Schools' partner organisations


async def link_partner(urn: str, partner_id: uuid.UUID, uow: OutreachUnitOfWork) -> uuid.UUID:
    """Links a school to the partner organisation whose users then see the school's sessions (one per school)."""
    async with uow:
        if await uow.schools.get(urn) is None:
            raise NotFound(f"no school with the URN {urn}")
        kind = await uow.primary.partner_kind(partner_id)
        if kind is None:
            raise InvalidInput("partner_id", "no partner with this id is known to outreach")
        if kind is not PartnerKind.SCHOOL:
            raise InvalidInput("partner_id", f"the partner is a {kind.value}, not a school")
        await uow.primary.link_partner(urn, partner_id, now=datetime.now(UTC))
        await uow.commit()
    return partner_id


async def unlink_partner(urn: str, uow: OutreachUnitOfWork) -> None:
    async with uow:
        if await uow.schools.get(urn) is None:
            raise NotFound(f"no school with the URN {urn}")
        await uow.primary.unlink_partner(urn)
        await uow.commit()


# The term's summary


@dataclass
class Tally:
    sessions: int = 0
    pupils: int = 0
    classes: int = 0


@dataclass
class TermSummary:
    term: Term
    by_state: dict[State, int]
    delivered: Tally
    by_topic: dict[str, Tally]
    by_key_stage: dict[KeyStage, Tally]


async def term_summary(term_id: uuid.UUID, uow: OutreachUnitOfWork) -> TermSummary:
    """Sessions by state, and what the taught ones (delivered, feedback collected, closed) reached: in all, per topic,
    per key stage. Exact counts: disclosure control is the impact report's, when it renders them."""
    async with uow:
        term = await uow.primary.term(term_id)
        if term is None:
            raise NotFound("no such term")
        rows = await uow.primary.term_totals(term_id)
    summary = TermSummary(term, dict.fromkeys(State, 0), Tally(), {}, {stage: Tally() for stage in KeyStage})
    for row in rows:
        state = State(row.state)
        summary.by_state[state] += row.sessions
        if state not in TAUGHT:
            continue
        stage = key_stage(YearGroup(row.year_group))
        for tally in (
            summary.delivered,
            summary.by_topic.setdefault(row.topic_id, Tally()),
            summary.by_key_stage[stage],
        ):
            tally.sessions += row.sessions
            tally.pupils += row.pupils
            tally.classes += row.classes
    return summary
