"""Use cases of a CAP year's set-up: each runs in one unit of work and stages its events in the outbox.

Events carry ids (and what consumers need of cohorts, practices and groups), never a person's name or email.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.setup import (
    Cohort,
    Group,
    Practice,
    SetupConflict,
    SetupNotFound,
    Student,
    Supervisor,
    Viewer,
)
from medic.projects.domain.setup_commands import (
    ChangeCohort,
    ChangeGroupMember,
    ChangePractice,
    ChangeSupervisor,
    CreateCohort,
    CreateGroup,
    RegisterPractice,
    RegisterStudent,
    RegisterSupervisor,
)
from medic.projects.service_layer.contact_addresses import publish_address, student_address, supervisor_address
from medic.shared.contracts.projects import setup as contracts
from medic.shared.events import Envelope, EventPayload


async def _publish(uow: ProjectsUnitOfWork, payload: EventPayload, subject: str, correlation_id: uuid.UUID) -> None:
    await uow.publish(Envelope.wrap(payload, subject=subject, correlation_id=correlation_id))


def _now() -> datetime:
    return datetime.now(UTC)


# Events, built from the objects as they now are.


def cohort_event(kind: type[contracts.CohortV1], cohort: Cohort) -> contracts.CohortV1:
    return kind(
        cohort_id=cohort.id,
        academic_year=cohort.academic_year,
        placement_start=cohort.placement_start,
        placement_end=cohort.placement_end,
        min_group_size=cohort.min_group_size,
        max_group_size=cohort.max_group_size,
    )


def practice_event(kind: type[contracts.PracticeV1], practice: Practice) -> contracts.PracticeV1:
    return kind(practice_id=practice.id, ods_code=practice.ods_code, name=practice.name, area=practice.area)


def supervisor_event(kind: type[contracts.SupervisorV1], supervisor: Supervisor) -> contracts.SupervisorV1:
    return kind(supervisor_id=supervisor.id, practice_ids=sorted(supervisor.practice_ids))


def group_event(kind: type[contracts.GroupV1], group: Group) -> contracts.GroupV1:
    return kind(
        group_id=group.id,
        cohort_id=group.cohort_id,
        practice_id=group.practice_id,
        name=group.name,
        student_ids=list(group.student_ids),
        supervisor_ids=list(group.supervisor_ids),
    )


async def publish_group_change(
    uow: ProjectsUnitOfWork, before: Group | None, after: Group, cohort: Cohort, correlation_id: uuid.UUID
) -> None:
    """`created` or `changed`, then `formed` when this change took the group to its cohort's minimum."""
    subject = f"groups/{after.id}"
    kind = contracts.GroupCreatedV1 if before is None else contracts.GroupChangedV1
    await _publish(uow, group_event(kind, after), subject, correlation_id)
    if after.is_formed(cohort) and (before is None or not before.is_formed(cohort)):
        await _publish(uow, group_event(contracts.GroupFormedV1, after), subject, correlation_id)


# Cohorts


async def create_cohort(command: CreateCohort, uow: ProjectsUnitOfWork) -> Cohort:
    async with uow:
        cohort = Cohort.create(
            academic_year=command.academic_year,
            placement_start=command.placement_start,
            placement_end=command.placement_end,
            min_group_size=command.min_group_size,
            max_group_size=command.max_group_size,
            now=_now(),
        )
        if await uow.setup.cohorts_by_year([cohort.academic_year]):
            raise SetupConflict("academic_year", "a cohort for that academic year already exists")
        await uow.setup.add_cohort(cohort)
        await _publish(
            uow, cohort_event(contracts.CohortCreatedV1, cohort), f"cohorts/{cohort.id}", command.correlation_id
        )
        await uow.commit()
    return cohort


async def change_cohort(command: ChangeCohort, uow: ProjectsUnitOfWork) -> Cohort:
    async with uow:
        before = await uow.setup.cohort(command.cohort_id)
        if before is None:
            raise SetupNotFound("cohort_id", "no such cohort")
        after = before.changed(
            placement_start=command.placement_start,
            placement_end=command.placement_end,
            min_group_size=command.min_group_size,
            max_group_size=command.max_group_size,
        )
        if after == before:
            return before
        after.check_group_sizes(await uow.setup.group_sizes(after.id), before=before)
        await uow.setup.update_cohort(after)
        await _publish(
            uow, cohort_event(contracts.CohortChangedV1, after), f"cohorts/{after.id}", command.correlation_id
        )
        await uow.commit()
    return after


async def get_cohort(cohort_id: uuid.UUID, viewer: Viewer, uow: ProjectsUnitOfWork) -> Cohort:
    async with uow:
        cohort = await uow.setup.cohort(cohort_id, viewer)
    if cohort is None:
        raise SetupNotFound("cohort_id", "no such cohort")
    return cohort


async def list_cohorts(viewer: Viewer, uow: ProjectsUnitOfWork, *, limit: int, offset: int) -> Sequence[Cohort]:
    async with uow:
        return await uow.setup.list_cohorts(viewer, limit=limit, offset=offset)


# Practices


async def register_practice(command: RegisterPractice, uow: ProjectsUnitOfWork) -> Practice:
    async with uow:
        practice = Practice.create(name=command.name, ods_code=command.ods_code, area=command.area, now=_now())
        if await uow.setup.practices_by_ods_code([practice.ods_code]):
            raise SetupConflict("ods_code", "a practice with that ODS code is already registered")
        await uow.setup.add_practice(practice)
        event = practice_event(contracts.PracticeRegisteredV1, practice)
        await _publish(uow, event, f"practices/{practice.id}", command.correlation_id)
        await uow.commit()
    return practice


async def change_practice(command: ChangePractice, uow: ProjectsUnitOfWork) -> Practice:
    async with uow:
        before = await uow.setup.practice(command.practice_id)
        if before is None:
            raise SetupNotFound("practice_id", "no such practice")
        after = before.changed(name=command.name, ods_code=command.ods_code, area=command.area)
        if after == before:
            return before
        if after.ods_code != before.ods_code and await uow.setup.practices_by_ods_code([after.ods_code]):
            raise SetupConflict("ods_code", "another practice has that ODS code")
        await uow.setup.update_practice(after)
        await _publish(
            uow, practice_event(contracts.PracticeChangedV1, after), f"practices/{after.id}", command.correlation_id
        )
        await uow.commit()
    return after


async def get_practice(practice_id: uuid.UUID, viewer: Viewer, uow: ProjectsUnitOfWork) -> Practice:
    async with uow:
        practice = await uow.setup.practice(practice_id, viewer)
    if practice is None:
        raise SetupNotFound("practice_id", "no such practice")
    return practice


async def list_practices(viewer: Viewer, uow: ProjectsUnitOfWork, *, limit: int, offset: int) -> Sequence[Practice]:
    async with uow:
        return await uow.setup.list_practices(viewer, limit=limit, offset=offset)


# Supervisors


async def _check_practices_exist(uow: ProjectsUnitOfWork, practice_ids: list[uuid.UUID]) -> None:
    if set(practice_ids) - await uow.setup.existing_practices(practice_ids):
        raise SetupNotFound("practice_ids", "no such practice")


async def register_supervisor(command: RegisterSupervisor, uow: ProjectsUnitOfWork) -> Supervisor:
    async with uow:
        supervisor = Supervisor.create(
            user_id=command.user_id,
            name=command.name,
            email=command.email,
            practice_ids=command.practice_ids,
            now=_now(),
        )
        if await uow.setup.supervisors_by_user_id([supervisor.user_id]):
            raise SetupConflict("user_id", "a supervisor with that user id is already registered")
        await _check_practices_exist(uow, command.practice_ids)
        await uow.setup.add_supervisor(supervisor)
        event = supervisor_event(contracts.SupervisorRegisteredV1, supervisor)
        await _publish(uow, event, f"supervisors/{supervisor.id}", command.correlation_id)
        await publish_address(uow, supervisor_address(supervisor), command.correlation_id)
        await uow.commit()
    return supervisor


async def change_supervisor(command: ChangeSupervisor, uow: ProjectsUnitOfWork) -> Supervisor:
    async with uow:
        before = await uow.setup.supervisor(command.supervisor_id)
        if before is None:
            raise SetupNotFound("supervisor_id", "no such supervisor")
        after = before.changed(name=command.name, email=command.email, practice_ids=command.practice_ids)
        if after == before:
            return before
        await _check_practices_exist(uow, list(after.practice_ids))
        await uow.setup.update_supervisor(after)
        event = supervisor_event(contracts.SupervisorChangedV1, after)
        await _publish(uow, event, f"supervisors/{after.id}", command.correlation_id)
        if (after.name, after.email) != (before.name, before.email):
            await publish_address(uow, supervisor_address(after), command.correlation_id)
        await uow.commit()
    return after


async def get_supervisor(supervisor_id: uuid.UUID, viewer: Viewer, uow: ProjectsUnitOfWork) -> Supervisor:
    async with uow:
        supervisor = await uow.setup.supervisor(supervisor_id, viewer)
    if supervisor is None:
        raise SetupNotFound("supervisor_id", "no such supervisor")
    return supervisor


async def list_supervisors(viewer: Viewer, uow: ProjectsUnitOfWork, *, limit: int, offset: int) -> Sequence[Supervisor]:
    async with uow:
        return await uow.setup.list_supervisors(viewer, limit=limit, offset=offset)


# Students


async def register_student(command: RegisterStudent, uow: ProjectsUnitOfWork) -> Student:
    async with uow:
        student = Student.create(
            university_id=command.university_id, name=command.name, email=command.email, now=_now()
        )
        if await uow.setup.students_by_university_id([student.university_id]):
            raise SetupConflict("university_id", "a student with that university id is already registered")
        await uow.setup.add_student(student)
        event = contracts.StudentRegisteredV1(student_id=student.id)
        await _publish(uow, event, f"students/{student.id}", command.correlation_id)
        await publish_address(uow, student_address(student), command.correlation_id)
        await uow.commit()
    return student


async def get_student(student_id: uuid.UUID, viewer: Viewer, uow: ProjectsUnitOfWork) -> Student:
    async with uow:
        student = await uow.setup.student(student_id, viewer)
    if student is None:
        raise SetupNotFound("student_id", "no such student")
    return student


async def list_students(viewer: Viewer, uow: ProjectsUnitOfWork, *, limit: int, offset: int) -> Sequence[Student]:
    async with uow:
        return await uow.setup.list_students(viewer, limit=limit, offset=offset)


# Groups


async def create_group(command: CreateGroup, uow: ProjectsUnitOfWork) -> Group:
    async with uow:
        cohort = await uow.setup.cohort(command.cohort_id)
        if cohort is None:
            raise SetupNotFound("cohort_id", "no such cohort")
        if await uow.setup.practice(command.practice_id) is None:
            raise SetupNotFound("practice_id", "no such practice")
        group = Group.create(cohort=cohort, practice_id=command.practice_id, name=command.name, now=_now())
        if await uow.setup.groups_by_name([(cohort.id, group.name)]):
            raise SetupConflict("name", "the cohort already has a group of that name")
        if set(command.student_ids) - await uow.setup.existing_students(command.student_ids):
            raise SetupNotFound("student_ids", "no such student")
        if set(command.supervisor_ids) - await uow.setup.existing_supervisors(command.supervisor_ids):
            raise SetupNotFound("supervisor_ids", "no such supervisor")
        if len(set(command.student_ids)) > cohort.max_group_size:
            raise SetupConflict("student_ids", f"a group has at most {cohort.max_group_size} students")
        if await uow.setup.groups_of_students(cohort.id, command.student_ids):
            raise SetupConflict("student_ids", "a student is already in another group of this cohort")
        for student_id in command.student_ids:
            group = group.with_student(student_id, cohort)
        for supervisor_id in command.supervisor_ids:
            group = group.with_supervisor(supervisor_id)
        await uow.setup.add_group(group)
        await uow.setup.save_members([group])
        await publish_group_change(uow, None, group, cohort, command.correlation_id)
        await uow.commit()
    return group


async def change_group_student(command: ChangeGroupMember, uow: ProjectsUnitOfWork) -> Group:
    """Add a student to a group, or remove one. Adding a student already there changes nothing."""
    async with uow:
        before, cohort = await _group_and_cohort(uow, command.group_id)
        if await uow.setup.student(command.member_id) is None:
            raise SetupNotFound("student_id", "no such student")
        if command.add:
            placed = (await uow.setup.groups_of_students(cohort.id, [command.member_id])).get(command.member_id)
            if placed is not None and placed.id != before.id:
                raise SetupConflict("student_id", f"the student is already in group {placed.name!r} of this cohort")
            after = before.with_student(command.member_id, cohort)
        else:
            after = before.without_student(command.member_id, cohort)
        return await _save_group(uow, before, after, cohort, command.correlation_id)


async def change_group_supervisor(command: ChangeGroupMember, uow: ProjectsUnitOfWork) -> Group:
    """Add a supervisor to a group, or remove one. Adding a supervisor already there changes nothing."""
    async with uow:
        before, cohort = await _group_and_cohort(uow, command.group_id)
        if await uow.setup.supervisor(command.member_id) is None:
            raise SetupNotFound("supervisor_id", "no such supervisor")
        after = (
            before.with_supervisor(command.member_id) if command.add else before.without_supervisor(command.member_id)
        )
        return await _save_group(uow, before, after, cohort, command.correlation_id)


async def _group_and_cohort(uow: ProjectsUnitOfWork, group_id: uuid.UUID) -> tuple[Group, Cohort]:
    group = await uow.setup.group(group_id)
    if group is None:
        raise SetupNotFound("group_id", "no such group")
    cohort = await uow.setup.cohort(group.cohort_id)
    assert cohort is not None  # a foreign key holds it
    return group, cohort


async def _save_group(
    uow: ProjectsUnitOfWork, before: Group, after: Group, cohort: Cohort, correlation_id: uuid.UUID
) -> Group:
    if after != before:
        await uow.setup.save_members([after])
        await publish_group_change(uow, before, after, cohort, correlation_id)
        await uow.commit()
    return after


async def get_group(group_id: uuid.UUID, viewer: Viewer, uow: ProjectsUnitOfWork) -> Group:
    async with uow:
        group = await uow.setup.group(group_id, viewer)
    if group is None:
        raise SetupNotFound("group_id", "no such group")
    return group


async def list_groups(
    viewer: Viewer, uow: ProjectsUnitOfWork, *, cohort_id: uuid.UUID | None, limit: int, offset: int
) -> Sequence[Group]:
    async with uow:
        return await uow.setup.list_groups(viewer, cohort_id=cohort_id, limit=limit, offset=offset)
