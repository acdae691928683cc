"""Use cases of Community Action Projects: each runs in one unit of work and stages its events in the outbox.

Object-level access lives here: a caller's standing to a project (coordinator, supervisor of its group, student
of its group, user of one of its partners) is looked up for each call, and a caller with none is told the
project does not exist.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from medic.projects.adapters.projects_repository import GroupHasAProject, HistoryEntry, ProjectFilter, Visibility
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.lifecycle import Action, Actor
from medic.projects.domain.project import InvalidProject, Project
from medic.projects.domain.project_events import (
    ProjectCreated,
    ProjectEdited,
    ProjectTransitioned,
    VerificationDecided,
    VerificationRequested,
)
from medic.shared.auth import Role
from medic.shared.contracts.projects.projects import (
    TRANSITION_EVENTS,
    ProjectCreatedV1,
    ProjectDisputedV1,
    ProjectUpdatedV1,
    ProjectVerificationRequestedV1,
    ProjectVerifiedV1,
)
from medic.shared.events import Envelope, EventPayload


class ProjectNotFound(Exception):
    """No such project, or none the caller may see: the same answer, so ids are not confirmed to exist."""


class GroupNotFound(Exception):
    """No such group among those the caller may start a project for (404, as for a project)."""


@dataclass(frozen=True)
class Caller:
    user_id: str  # the token's subject: a supervisor's user id, a student's university id
    roles: frozenset[Role]
    correlation_id: uuid.UUID  # of the request, carried by the events it causes
    organisation_id: uuid.UUID | None = None  # a partner user's organisation

    @property
    def visibility(self) -> Visibility:
        return Visibility(
            everything=Role.COORDINATOR in self.roles,
            supervisor_user_id=self.user_id if Role.SUPERVISOR in self.roles else None,
            student_university_id=self.user_id if Role.STUDENT in self.roles else None,
            partner_id=self.organisation_id if Role.PARTNER in self.roles else None,
        )


async def standing(uow: ProjectsUnitOfWork, caller: Caller, project: Project) -> Actor | None:
    """How the caller stands to the project, the strongest standing first; None when not at all."""
    if Role.COORDINATOR in caller.roles:
        return Actor.COORDINATOR
    if Role.SUPERVISOR in caller.roles and await uow.projects.supervises(caller.user_id, project.group_id):
        return Actor.SUPERVISOR
    if Role.STUDENT in caller.roles and await uow.projects.member_of(caller.user_id, project.group_id):
        return Actor.STUDENT
    if Role.PARTNER in caller.roles and caller.organisation_id in project.partner_ids:
        return Actor.PARTNER
    return None


async def start_project(
    caller: Caller,
    uow: ProjectsUnitOfWork,
    *,
    group_id: uuid.UUID,
    title: str,
    topic: str,
    partner_ids: list[uuid.UUID],
) -> tuple[Project, Actor]:
    async with uow:
        placement = await uow.projects.placement_of(group_id)
        may_start = Role.COORDINATOR in caller.roles or (
            Role.STUDENT in caller.roles and await uow.projects.member_of(caller.user_id, group_id)
        )
        if placement is None or not may_start:
            raise GroupNotFound(group_id)
        await _check_partners(uow, partner_ids)
        if await uow.projects.group_has_project(group_id):
            raise GroupHasAProject("this group has a project already")
        cohort_id, practice_id = placement
        members = await _members(uow, group_id)
        project = Project.start(
            cohort_id=cohort_id,
            group_id=group_id,
            practice_id=practice_id,
            title=title,
            topic=topic,
            partner_ids=partner_ids,
            students=members,
            now=datetime.now(UTC),
        )
        await uow.projects.add(project)
        await publish_project_events(uow, project, caller.correlation_id)
        await uow.commit()
    return project, Actor.COORDINATOR if Role.COORDINATOR in caller.roles else Actor.STUDENT


async def _members(uow: ProjectsUnitOfWork, group_id: uuid.UUID) -> frozenset[uuid.UUID]:
    return frozenset(await uow.projects.students_of(group_id))


async def _check_partners(uow: ProjectsUnitOfWork, partner_ids: Sequence[uuid.UUID]) -> None:
    usable = await uow.projects.partners_taking_projects(partner_ids)
    unknown = [str(p) for p in partner_ids if p not in usable]
    if unknown:
        raise InvalidProject("partner_ids", f"unknown or archived partner(s): {', '.join(unknown)}")


async def get_project(caller: Caller, uow: ProjectsUnitOfWork, project_id: uuid.UUID) -> tuple[Project, Actor]:
    async with uow:
        return await visible_project(caller, uow, project_id)


async def visible_project(caller: Caller, uow: ProjectsUnitOfWork, project_id: uuid.UUID) -> tuple[Project, Actor]:
    """The project and the caller's standing to it, or ProjectNotFound when they may not see it."""
    project = await uow.projects.get(project_id)
    actor = await standing(uow, caller, project) if project else None
    if project is None or actor is None:
        raise ProjectNotFound(project_id)
    return project, actor


async def project_history(caller: Caller, uow: ProjectsUnitOfWork, project_id: uuid.UUID) -> list[HistoryEntry]:
    """Every lifecycle action on the project, oldest first, with who took it and why: for its people only."""
    async with uow:
        _, actor = await visible_project(caller, uow, project_id)
        if actor is Actor.PARTNER:
            raise ProjectNotFound(project_id)  # reviewers' reasons are not for partners
        return await uow.projects.history(project_id)


async def list_projects(
    caller: Caller,
    uow: ProjectsUnitOfWork,
    where: ProjectFilter,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[Project, Actor]]:
    async with uow:
        found = await uow.projects.list(caller.visibility, where, after=after, limit=limit)
        listed = []
        for project in found:
            actor = await standing(uow, caller, project)
            if actor is not None:
                listed.append((project, actor))
        return listed


Change = Callable[[Project, Actor, datetime], None]


async def change_project(
    caller: Caller, uow: ProjectsUnitOfWork, project_id: uuid.UUID, change: Change, *, new_partners: bool = False
) -> tuple[Project, Actor]:
    """Load the project the caller may see, let the domain change it (or refuse), save it and its events."""
    async with uow:
        project, actor = await visible_project(caller, uow, project_id)
        read_version = project.version
        change(project, actor, datetime.now(UTC))
        if new_partners:
            await _check_partners(uow, project.partner_ids)
        await uow.projects.save(project, read_version=read_version)
        await publish_project_events(uow, project, caller.correlation_id)
        await uow.commit()
    return project, actor


async def take_action(
    caller: Caller, uow: ProjectsUnitOfWork, project_id: uuid.UUID, action: Action, reason: str | None
) -> tuple[Project, Actor]:
    def take(project: Project, actor: Actor, now: datetime) -> None:
        project.take(action, actor, by=caller.user_id, reason=reason, now=now)

    return await change_project(caller, uow, project_id, take)


async def publish_project_events(uow: ProjectsUnitOfWork, project: Project, correlation_id: uuid.UUID) -> None:
    facts = project_facts(project)
    subject = f"projects/{project.id}"
    for event in project.events:
        payload: EventPayload | None = None
        if isinstance(event, ProjectCreated):
            payload = ProjectCreatedV1(**facts, title=project.title, topic=project.topic)
        elif isinstance(event, ProjectEdited):
            payload = ProjectUpdatedV1(**facts, section=event.section, state=project.state.value)
        elif isinstance(event, VerificationRequested):
            payload = ProjectVerificationRequestedV1(**facts, partner_id=project.partner_ids[0])
        elif isinstance(event, VerificationDecided):
            decided = ProjectVerifiedV1 if event.decision == "verified" else ProjectDisputedV1
            payload = decided(**facts, verification_id=event.verification_id)
        elif isinstance(event, ProjectTransitioned):
            transition = TRANSITION_EVENTS[event.action](**facts, from_state=event.from_state, to_state=event.to_state)
            await uow.publish(Envelope.wrap(transition, subject=subject, correlation_id=correlation_id))
            continue
        if payload is not None:
            await uow.publish(Envelope.wrap(payload, subject=subject, correlation_id=correlation_id))
    project.events.clear()


def project_facts(project: Project) -> dict[str, Any]:
    """What every project event carries (ProjectFacts)."""
    return {
        "project_id": project.id,
        "cohort_id": project.cohort_id,
        "group_id": project.group_id,
        "practice_id": project.practice_id,
        "partner_ids": list(project.partner_ids),
    }
