"""HTTP API: the primary-school health-education programme (terms, topics, feedback forms, sessions).

Coordinators do everything. Students (medical students) read terms, topics and forms, see only the sessions they
deliver (another's is 404), record their delivery and the pupils' answers, and write their own reflection. Partner
users see the sessions, with their counts and feedback scores, of the schools linked to their organisation, and
nothing else. Teachers' comments and cancellation reasons are shown to coordinators only.
"""

import datetime as dt
import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request, status

from medic.outreach.adapters.primary_repository import SessionFilter
from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.primary import FaceCounts, FormKind
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
from medic.outreach.domain.primary_lifecycle import Action, State
from medic.outreach.service_layer import primary as handlers
from medic.outreach.settings import OutreachSettings
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from

from .dependencies import now, unit_of_work
from .primary_models import (
    TOPIC_ID_PATTERN,
    ActionIn,
    DeliveryIn,
    FormIn,
    FormOut,
    LifecycleAction,
    PupilFeedbackIn,
    ReflectionIn,
    ReflectionOut,
    SessionIn,
    SessionOut,
    TeacherFeedbackIn,
    TermIn,
    TermOut,
    TermSummaryOut,
    TopicIn,
    TopicOut,
    answering_errors,
    responses,
)

router = APIRouter(prefix="/primary", tags=["primary programme"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
Staff = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.STUDENT))]
Viewer = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.STUDENT, Role.PARTNER))]
Student = Annotated[Principal, Depends(require_roles(Role.STUDENT))]
SessionId = Annotated[uuid.UUID, Path(description="The session's id")]
TermId = Annotated[uuid.UUID, Path(description="The term's id")]
TopicId = Annotated[str, Path(pattern=TOPIC_ID_PATTERN, examples=["healthy_eating"])]


def _settings(request: Request) -> OutreachSettings:
    settings: OutreachSettings = request.app.state.settings
    return settings


def _today(request: Request) -> dt.date:
    return dt.datetime.now(ZoneInfo(_settings(request).primary_timezone)).date()


def _caller(principal: Principal, request: Request) -> Caller:
    return Caller(
        user_id=principal.subject,
        coordinator=principal.has(Role.COORDINATOR),
        organisation_id=principal.organisation_id if principal.has(Role.PARTNER) else None,
        correlation_id=correlation_id_from(request),
    )


# Terms


@router.post("/terms", status_code=status.HTTP_201_CREATED, summary="Create a term", responses=responses(409, 422))
async def create_term(body: TermIn, uow: UnitOfWork, _: Coordinator) -> TermOut:
    with answering_errors(body_checked=True):
        return TermOut.of(await handlers.create_term(CreateTerm(**body.model_dump()), uow))


@router.get("/terms", summary="Terms, by start date")
async def list_terms(
    uow: UnitOfWork,
    _: Staff,
    academic_year: Annotated[str | None, Query(pattern=r"^[0-9]{4}/[0-9]{2}$", examples=["2026/27"])] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[TermOut]:
    found = await handlers.list_terms(uow, academic_year=academic_year, limit=limit, offset=offset)
    return [TermOut.of(term) for term in found]


@router.get("/terms/{term_id}", summary="A term", responses=responses(404))
async def get_term(term_id: TermId, uow: UnitOfWork, _: Staff) -> TermOut:
    with answering_errors(body_checked=True):
        return TermOut.of(await handlers.get_term(term_id, uow))


@router.get(
    "/terms/{term_id}/summary",
    summary="What a term's sessions reached: per topic and key stage",
    description="Exact counts, for coordinators. Sessions count as taught once delivered (delivered, feedback "
    "collected, closed). Disclosure control belongs to the impact report, which renders these.",
    responses=responses(404),
)
async def term_summary(term_id: TermId, uow: UnitOfWork, _: Coordinator) -> TermSummaryOut:
    with answering_errors(body_checked=True):
        return TermSummaryOut.of(await handlers.term_summary(term_id, uow))


# Topics


@router.get("/topics", summary="The topic catalogue")
async def list_topics(uow: UnitOfWork, _: Staff, include_retired: bool = False) -> list[TopicOut]:
    return [TopicOut.of(topic) for topic in await handlers.list_topics(uow, include_retired=include_retired)]


@router.post("/topics", status_code=status.HTTP_201_CREATED, summary="Add a topic", responses=responses(409, 422))
async def add_topic(body: TopicIn, uow: UnitOfWork, _: Coordinator) -> TopicOut:
    with answering_errors(body_checked=True):
        return TopicOut.of(await handlers.add_topic(body.id, body.name, uow))


@router.post(
    "/topics/{topic_id}/retire",
    summary="Retire a topic",
    description="No new session may be planned on it; sessions already on it keep it.",
    responses=responses(404),
)
async def retire_topic(topic_id: TopicId, uow: UnitOfWork, _: Coordinator) -> TopicOut:
    with answering_errors(body_checked=True):
        return TopicOut.of(await handlers.set_topic_retired(topic_id, True, uow))


# Feedback forms


@router.get("/forms/{kind}", summary="Every version of the teacher or the pupil form")
async def list_forms(kind: FormKind, uow: UnitOfWork, _: Staff) -> list[FormOut]:
    return [FormOut.of(form) for form in await handlers.list_forms(kind, uow)]


@router.post(
    "/forms/{kind}",
    status_code=status.HTTP_201_CREATED,
    summary="Add a version of the teacher or the pupil form",
    description="Versions never change once created: new items make a new version; answers keep their version.",
    responses=responses(409, 422),
)
async def add_form(kind: FormKind, body: FormIn, uow: UnitOfWork, _: Coordinator) -> FormOut:
    with answering_errors(body_checked=True):
        return FormOut.of(await handlers.add_form(kind, [(i.key, i.text) for i in body.items], uow))


# Sessions


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    summary="Plan a session",
    description="Publishes `outreach.session.planned.v1`.",
    responses=responses(404, 409, 422),
)
async def plan_session(request: Request, body: SessionIn, uow: UnitOfWork, principal: Coordinator) -> SessionOut:
    command = PlanSession(**body.model_dump())
    with answering_errors(body_checked=True):
        view = await handlers.plan_session(
            command, _caller(principal, request), uow, max_students=_settings(request).primary_max_students
        )
    return SessionOut.of(view)


@router.get("/sessions", summary="Sessions the caller may see, by date")
async def list_sessions(
    request: Request,
    uow: UnitOfWork,
    principal: Viewer,
    term_id: uuid.UUID | None = None,
    urn: Annotated[str | None, Query(pattern=r"^[0-9]{6}$", examples=["100000"])] = None,
    state: State | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> list[SessionOut]:
    where = SessionFilter(term_id=term_id, urn=urn, state=state)
    found = await handlers.list_sessions(
        _caller(principal, request), where, uow, limit=limit, offset=offset, today=_today(request)
    )
    return [SessionOut.of(view) for view in found]


@router.get("/sessions/{session_id}", summary="A session", responses=responses(404))
async def get_session(request: Request, session_id: SessionId, uow: UnitOfWork, principal: Viewer) -> SessionOut:
    with answering_errors(body_checked=True):
        view = await handlers.get_session(_caller(principal, request), session_id, uow, today=_today(request))
    return SessionOut.of(view)


@router.post(
    "/sessions/{session_id}/actions/{session_action}",
    summary="Review the plan, collect the feedback, close, or cancel (with a reason)",
    description="Publishes `outreach.session.plan_reviewed.v1`, `.feedback_collected.v1`, `.closed.v1` or "
    "`.cancelled.v1` (without the reason). A refusal is 409 with the state, why, and the actions allowed instead.",
    responses=responses(404, 409, 422),
)
async def take_action(
    request: Request,
    session_id: SessionId,
    session_action: LifecycleAction,
    body: ActionIn,
    uow: UnitOfWork,
    principal: Coordinator,
) -> SessionOut:
    command = TakeAction(session_id, Action(session_action.value), body.reason)
    with answering_errors(body_checked=True):
        view = await handlers.take_action(_caller(principal, request), command, uow, today=_today(request))
    return SessionOut.of(view)


@router.post(
    "/sessions/{session_id}/delivery",
    summary="Record the delivery: how many pupils and classes, and whether a teacher was present throughout",
    description="Counts only, never a pupil. From `plan_reviewed`, on or after the session's day. Publishes "
    "`outreach.session.delivered.v1`.",
    responses=responses(404, 409, 422),
)
async def record_delivery(
    request: Request, session_id: SessionId, body: DeliveryIn, uow: UnitOfWork, principal: Staff
) -> SessionOut:
    command = RecordDelivery(session_id, body.pupils, body.classes, body.teacher_present_throughout)
    with answering_errors(body_checked=True):
        view = await handlers.record_delivery(
            _caller(principal, request), command, uow, today=_today(request), now=now(request),
            contact=_settings(request).primary_contact_kind,
        )  # fmt: skip
    return SessionOut.of(view)


@router.put(
    "/sessions/{session_id}/teacher-feedback",
    summary="Record the class teacher's feedback (replaces it)",
    description="Scores 1-5 for every item of a version of the teacher form, and comments (coordinators only, "
    "never published). While the session is `delivered`.",
    responses=responses(404, 409, 422),
)
async def give_teacher_feedback(
    request: Request, session_id: SessionId, body: TeacherFeedbackIn, uow: UnitOfWork, principal: Coordinator
) -> SessionOut:
    command = GiveTeacherFeedback(session_id, body.form_version, body.scores, body.comments)
    with answering_errors(body_checked=True):
        view = await handlers.give_teacher_feedback(_caller(principal, request), command, uow, today=_today(request))
    return SessionOut.of(view)


@router.put(
    "/sessions/{session_id}/pupil-feedback",
    summary="Record the pupils' answers, counted per face (replaces them)",
    description="For every question of a version of the pupil form, before and after: how many pupils chose each "
    "face. Never per pupil; no row more answers than pupils taught. While the session is `delivered`.",
    responses=responses(404, 409, 422),
)
async def give_pupil_feedback(
    request: Request, session_id: SessionId, body: PupilFeedbackIn, uow: UnitOfWork, principal: Staff
) -> SessionOut:
    counts = [FaceCounts(c.question, c.phase, c.happy, c.not_sure, c.sad) for c in body.counts]
    command = GivePupilFeedback(session_id, body.form_version, counts)
    with answering_errors(body_checked=True):
        view = await handlers.give_pupil_feedback(_caller(principal, request), command, uow, today=_today(request))
    return SessionOut.of(view)


@router.put(
    "/sessions/{session_id}/reflection",
    summary="Write (or rewrite) your reflection on a session you delivered",
    description="Personal to the student: coordinators and the writer read it; never published. Once delivered, "
    "until closed.",
    responses=responses(404, 409, 422),
)
async def write_reflection(
    request: Request, session_id: SessionId, body: ReflectionIn, uow: UnitOfWork, principal: Student
) -> ReflectionOut:
    with answering_errors(body_checked=True):
        reflection = await handlers.write_reflection(
            _caller(principal, request), WriteReflection(session_id, body.text), uow
        )
    return ReflectionOut.of(reflection)


@router.get(
    "/sessions/{session_id}/reflections",
    summary="Reflections on a session: all of them for coordinators, a student's own for the student",
    responses=responses(404),
)
async def reflections(
    request: Request, session_id: SessionId, uow: UnitOfWork, principal: Staff
) -> list[ReflectionOut]:
    with answering_errors(body_checked=True):
        found = await handlers.reflections(_caller(principal, request), session_id, uow)
    return [ReflectionOut.of(r) for r in found]
