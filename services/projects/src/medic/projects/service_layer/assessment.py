"""Use cases of assessment: rubrics, marks, moderation, release, prize nominations and reflections.

Who may do what, beyond a project's own people (project_handlers.standing):
- any supervisor of a cohort is one of its assessors: they see the cohort's rubric and showcased projects, and
  mark and nominate those (peer marking at the showcase), as coordinators may. Of another group's project they
  see their own marks, never its other assessors' marks or its students' reflections;
- a project's students see its moderated marks once released, and nothing else of its assessment; each sees
  only their own reflection. Partners see none of it. What a caller may not see is "not found".

Marks and the project's `assessment_complete` change in one transaction: recording marks loads the project, asks
it to `note_assessment`, and saves it with the same lost-update check as `change_project` (which cannot be used
here: it opens its own transaction, and admits only the project's own people, not a peer assessor).
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, auto

from medic.projects.adapters.assessment_repository import Shortlisted, StudentReflection
from medic.projects.adapters.projects_repository import ProjectFilter, Visibility
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain import assessment as domain
from medic.projects.domain.assessment import (
    SHOWN_STATES,
    AssessmentRefused,
    Criterion,
    Marking,
    Moderation,
    Nomination,
    Reflection,
    Rubric,
)
from medic.projects.domain.lifecycle import Actor
from medic.projects.domain.project import Project
from medic.shared.auth import Role
from medic.shared.contracts.projects.assessment import (
    CohortMarksReleasedV1,
    CohortRubricSetV1,
    ProjectMarksModeratedV1,
    ProjectMarksRecordedV1,
    ProjectNominatedForPrizeV1,
    ProjectReflectionWrittenV1,
)
from medic.shared.events import Envelope, EventPayload

from .project_handlers import Caller, ProjectNotFound, project_facts, standing

MAX_SHOWCASED = 500  # projects listed for a cohort's showcase


class CohortNotFound(Exception):
    """No such cohort, or not one the caller takes part in: a 404."""


class NothingHere(Exception):
    """No released marks to show a student: a 404 saying so."""


class Access(Enum):
    """How the caller stands to a project's assessment."""

    STAFF = auto()  # a coordinator, or a supervisor of the project's group: everything
    PEER = auto()  # another supervisor of the cohort, once the project is shown: their own marks
    STUDENT = auto()  # a student of the group: released marks, their own reflection


@dataclass(frozen=True)
class MarkSheet:
    """A project's assessment as staff see it; a peer assessor's `markings` hold only their own."""

    project: Project
    rubric: Rubric | None
    markings: list[Marking]
    moderation: Moderation | None


@dataclass(frozen=True)
class ReleasedMarks:
    """What a student sees, once released."""

    project: Project
    rubric: Rubric
    moderation: Moderation


async def _publish(uow: ProjectsUnitOfWork, caller: Caller, payload: EventPayload, subject: str) -> None:
    await uow.publish(Envelope.wrap(payload, subject=subject, correlation_id=caller.correlation_id))


async def _access(uow: ProjectsUnitOfWork, caller: Caller, project: Project) -> Access | None:
    actor = await standing(uow, caller, project)
    if actor in (Actor.COORDINATOR, Actor.SUPERVISOR):
        return Access.STAFF
    if (
        Role.SUPERVISOR in caller.roles
        and project.state in SHOWN_STATES
        and await uow.assessment.supervises_in(caller.user_id, project.cohort_id)
    ):
        return Access.PEER
    return Access.STUDENT if actor is Actor.STUDENT else None


async def _project(
    uow: ProjectsUnitOfWork, caller: Caller, project_id: uuid.UUID, *allowed: Access
) -> tuple[Project, Access]:
    """The project and how the caller stands to it, if in one of the `allowed` ways; else ProjectNotFound."""
    project = await uow.projects.get(project_id)
    access = await _access(uow, caller, project) if project else None
    if project is None or access is None or access not in allowed:
        raise ProjectNotFound(project_id)
    return project, access


async def _cohort(uow: ProjectsUnitOfWork, caller: Caller, cohort_id: uuid.UUID) -> None:
    """CohortNotFound unless the cohort exists and the caller is a coordinator or one of its supervisors."""
    staff = Role.COORDINATOR in caller.roles or (
        Role.SUPERVISOR in caller.roles and await uow.assessment.supervises_in(caller.user_id, cohort_id)
    )
    if not staff or not await uow.assessment.cohort_exists(cohort_id):
        raise CohortNotFound(cohort_id)


# Rubrics.


async def set_rubric(
    caller: Caller, uow: ProjectsUnitOfWork, cohort_id: uuid.UUID, criteria: list[Criterion]
) -> Rubric:
    async with uow:
        await _cohort(uow, caller, cohort_id)
        rubric = Rubric.define(cohort_id, criteria, datetime.now(UTC))
        if await uow.assessment.cohort_has_marks(cohort_id):
            raise AssessmentRefused("marks have been given against this rubric: it can no longer change")
        await uow.assessment.save_rubric(rubric)
        await _publish(
            uow, caller, CohortRubricSetV1(cohort_id=cohort_id, criteria=rubric.keys), f"cohorts/{cohort_id}"
        )
        await uow.commit()
    return rubric


async def get_rubric(caller: Caller, uow: ProjectsUnitOfWork, cohort_id: uuid.UUID) -> Rubric | None:
    """The cohort's rubric, or None while a coordinator has not defined it."""
    async with uow:
        await _cohort(uow, caller, cohort_id)
        return await uow.assessment.rubric(cohort_id)


async def showcase(caller: Caller, uow: ProjectsUnitOfWork, cohort_id: uuid.UUID) -> list[Project]:
    """The cohort's projects that have been showcased (to mark and nominate), by title."""
    async with uow:
        await _cohort(uow, caller, cohort_id)
        shown: list[Project] = []
        for state in sorted(SHOWN_STATES):
            where = ProjectFilter(cohort_id=cohort_id, state=state)
            shown.extend(await uow.projects.list(Visibility(everything=True), where, after=None, limit=MAX_SHOWCASED))
    return sorted(shown, key=lambda p: (p.title.casefold(), str(p.id)))


# Marks, moderation and release.


async def _sheet(uow: ProjectsUnitOfWork, caller: Caller, project: Project, access: Access) -> MarkSheet:
    markings = await uow.assessment.markings(project.id)
    if access is Access.PEER:
        markings = [m for m in markings if m.assessor == caller.user_id]
    return MarkSheet(
        project=project,
        rubric=await uow.assessment.rubric(project.cohort_id),
        markings=markings,
        moderation=await uow.assessment.moderation(project.id),
    )


async def record_marks(
    caller: Caller, uow: ProjectsUnitOfWork, project_id: uuid.UUID, marks: dict[str, int], comment: str
) -> MarkSheet:
    """The caller's own marks for a showcased project (all criteria or some, replacing what they gave before)."""
    async with uow:
        project, access = await _project(uow, caller, project_id, Access.STAFF, Access.PEER)
        now = datetime.now(UTC)
        rubric = await uow.assessment.rubric(project.cohort_id)
        marking = domain.record_marks(
            rubric, project.state, project_id=project.id, assessor=caller.user_id, marks=marks, comment=comment, now=now
        )
        assert rubric is not None  # record_marks refuses without one
        await uow.assessment.save_marking(marking, project.cohort_id)
        complete = any(rubric.complete(m.marks) for m in await uow.assessment.markings(project.id))
        read_version = project.version
        project.note_assessment(complete=complete, now=now)
        if project.version != read_version:
            await uow.projects.save(project, read_version=read_version)
        payload = ProjectMarksRecordedV1(**project_facts(project), assessment_complete=complete)
        await _publish(uow, caller, payload, f"projects/{project.id}")
        sheet = await _sheet(uow, caller, project, access)
        await uow.commit()
    return sheet


async def moderate(
    caller: Caller, uow: ProjectsUnitOfWork, project_id: uuid.UUID, marks: dict[str, int], note: str
) -> MarkSheet:
    """A coordinator's agreed mark for every criterion."""
    async with uow:
        project, _ = await _project(uow, caller, project_id, Access.STAFF)
        moderation = domain.moderate(
            await uow.assessment.rubric(project.cohort_id),
            project.state,
            project.assessment_complete,
            await uow.assessment.moderation(project.id),
            project_id=project.id,
            cohort_id=project.cohort_id,
            marks=marks,
            note=note,
            by=caller.user_id,
            now=datetime.now(UTC),
        )
        await uow.assessment.save_moderation(moderation)
        await _publish(uow, caller, ProjectMarksModeratedV1(**project_facts(project)), f"projects/{project.id}")
        sheet = await _sheet(uow, caller, project, Access.STAFF)
        await uow.commit()
    return sheet


async def marks(caller: Caller, uow: ProjectsUnitOfWork, project_id: uuid.UUID) -> MarkSheet | ReleasedMarks:
    async with uow:
        project, access = await _project(uow, caller, project_id, Access.STAFF, Access.PEER, Access.STUDENT)
        if access is not Access.STUDENT:
            return await _sheet(uow, caller, project, access)
        moderation = await uow.assessment.moderation(project.id)
        rubric = await uow.assessment.rubric(project.cohort_id)
    if moderation is None or moderation.released_at is None or rubric is None:
        raise NothingHere("no marks have been released for this project")
    return ReleasedMarks(project, rubric, moderation)


@dataclass(frozen=True)
class Release:
    released: list[uuid.UUID]
    awaiting_moderation: list[uuid.UUID]  # marked, not yet moderated: released by a later release


async def release(caller: Caller, uow: ProjectsUnitOfWork, cohort_id: uuid.UUID) -> Release:
    async with uow:
        await _cohort(uow, caller, cohort_id)
        released = await uow.assessment.release(cohort_id, datetime.now(UTC))
        awaiting = await uow.assessment.awaiting_moderation(cohort_id)
        if not released:
            raise AssessmentRefused(
                f"nothing to release: no moderated marks are waiting ({len(awaiting)} project(s) await moderation)"
            )
        payload = CohortMarksReleasedV1(cohort_id=cohort_id, project_ids=released)
        await _publish(uow, caller, payload, f"cohorts/{cohort_id}")
        await uow.commit()
    return Release(released, awaiting)


# Prize nominations.


async def nominate(caller: Caller, uow: ProjectsUnitOfWork, project_id: uuid.UUID, reason: str) -> Nomination:
    async with uow:
        project, _ = await _project(uow, caller, project_id, Access.STAFF, Access.PEER)
        nomination = domain.nominate(
            project.state,
            project_id=project.id,
            cohort_id=project.cohort_id,
            nominator=caller.user_id,
            reason=reason,
            now=datetime.now(UTC),
        )
        if await uow.assessment.nominated(project.id, caller.user_id):
            raise AssessmentRefused("you have nominated this project already")
        count = await uow.assessment.add_nomination(nomination)
        payload = ProjectNominatedForPrizeV1(**project_facts(project), nominations=count)
        await _publish(uow, caller, payload, f"projects/{project.id}")
        await uow.commit()
    return nomination


async def shortlist(caller: Caller, uow: ProjectsUnitOfWork, cohort_id: uuid.UUID) -> list[Shortlisted]:
    async with uow:
        await _cohort(uow, caller, cohort_id)
        return await uow.assessment.shortlist(cohort_id)


# Reflections.


async def write_reflection(caller: Caller, uow: ProjectsUnitOfWork, project_id: uuid.UUID, text: str) -> Reflection:
    """The calling student's own reflection on their group's project."""
    async with uow:
        project, _ = await _project(uow, caller, project_id, Access.STUDENT)
        student_id = await uow.assessment.student_id(caller.user_id)
        assert student_id is not None  # a member of the group is a student
        reflection = domain.reflect(
            project.state, project_id=project.id, student_id=student_id, text=text, now=datetime.now(UTC)
        )
        await uow.assessment.save_reflection(reflection)
        payload = ProjectReflectionWrittenV1(**project_facts(project), student_id=student_id)
        await _publish(uow, caller, payload, f"projects/{project.id}")
        await uow.commit()
    return reflection


async def reflections(
    caller: Caller, uow: ProjectsUnitOfWork, project_id: uuid.UUID, student_id: uuid.UUID | None = None
) -> list[StudentReflection]:
    """The project's reflections for its staff; for a student of the group, only their own."""
    async with uow:
        project, access = await _project(uow, caller, project_id, Access.STAFF, Access.STUDENT)
        if access is Access.STUDENT:
            own = await uow.assessment.student_id(caller.user_id)
            if student_id is not None and student_id != own:
                return []
            student_id = own
        return await uow.assessment.reflections(project.id, student_id)
