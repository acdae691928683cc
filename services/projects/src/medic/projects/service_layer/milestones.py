"""Use cases of cohort milestones: a coordinator sets them, the cohort's people read them."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from medic.projects.adapters.milestones_repository import MilestoneRepository
from medic.projects.adapters.projects_repository import Visibility
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.milestones import Milestone, SetMilestone
from medic.shared.contracts.projects.milestones import CohortMilestoneSetV1
from medic.shared.events import Envelope


class CohortNotFound(Exception):
    """No such cohort, or not one the caller sees: a 404."""


class MilestoneSetMeanwhile(Exception):
    """Another request set the same milestone at the same moment: a 409, try again."""


async def set_milestone(command: SetMilestone, uow: ProjectsUnitOfWork) -> Milestone:
    """Set or move a milestone; publishes `projects.cohort_milestone.set.v1` unless its date is unchanged."""
    async with uow:
        milestones = MilestoneRepository(uow.connection)
        placement = await milestones.placement(command.cohort_id, Visibility(everything=True))
        if placement is None:
            raise CohortNotFound("no such cohort")
        current = {m.kind: m for m in await milestones.of_cohort(command.cohort_id)}.get(command.kind)
        if current is not None and current.due_on == command.due_on:
            return current
        milestone = Milestone.set(
            cohort_id=command.cohort_id,
            kind=command.kind,
            due_on=command.due_on,
            placement=placement,
            now=datetime.now(UTC),
        )
        try:
            await milestones.save(milestone)
        except IntegrityError:
            raise MilestoneSetMeanwhile("the milestone was set by someone else meanwhile: read it again") from None
        event = CohortMilestoneSetV1(cohort_id=milestone.cohort_id, milestone=milestone.kind, due_on=milestone.due_on)
        subject = f"cohorts/{milestone.cohort_id}/milestones/{milestone.kind.value}"
        await uow.publish(Envelope.wrap(event, subject=subject, correlation_id=command.correlation_id))
        await uow.commit()
    return milestone


async def list_milestones(cohort_id: uuid.UUID, visibility: Visibility, uow: ProjectsUnitOfWork) -> list[Milestone]:
    async with uow:
        milestones = MilestoneRepository(uow.connection)
        if await milestones.placement(cohort_id, visibility) is None:
            raise CohortNotFound("no such cohort")
        return await milestones.of_cohort(cohort_id)
