"""What every router of the projects API depends on."""

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import HTTPException, Query, Request

from medic.projects.adapters.projects_repository import ProjectFilter
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.lifecycle import State


def unit_of_work(request: Request) -> ProjectsUnitOfWork:
    factory: Callable[[], ProjectsUnitOfWork] = request.app.state.uow_factory
    return factory()


def field_error(field: str, message: str, status_code: int) -> HTTPException:
    """The same shape FastAPI gives validation errors, so clients read one format."""
    return HTTPException(status_code, [{"loc": ["body", field], "msg": message, "type": "value_error"}])


def project_filter(
    cohort_id: uuid.UUID | None = None,
    state: State | None = None,
    practice_id: uuid.UUID | None = None,
    supervisor_id: uuid.UUID | None = None,
    partner_id: uuid.UUID | None = None,
    topic: Annotated[str | None, Query(max_length=100)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in the title or the need")] = None,
) -> ProjectFilter:
    """The filters every list and export of projects takes, as query parameters."""
    return ProjectFilter(
        cohort_id=cohort_id,
        state=state,
        practice_id=practice_id,
        supervisor_id=supervisor_id,
        partner_id=partner_id,
        topic=topic,
        text=q.strip() if q and q.strip() else None,
    )
