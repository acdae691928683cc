"""HTTP API: partner verification of what a project delivered.

The project's team issues a link (`POST /projects/{id}/verification-link`); the partner contact opens it with
no account (`GET /verifications/{token}`: a partner-safe summary) and answers once (`POST`). The token is the
only credential, so these two routes take no bearer token; request logs show the route, never the token.
"""

import uuid
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field

from medic.projects.domain.project import Project
from medic.projects.domain.verification import CommentRequired, Decision, VerificationLink, VerificationStatus
from medic.projects.service_layer import verification_handlers as handlers
from medic.projects.service_layer.project_handlers import ProjectNotFound
from medic.projects.settings import ProjectsSettings
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from
from medic.shared.http_fields import NO_CONTROL_CHARACTERS
from medic.shared.openapi import ErrorOut, FieldErrorsOut
from medic.shared.signed_links import LinkPolicy, LinkRefused, TooSoon

from .dependencies import field_error
from .project_models import AimOut, DeliverySessionOut, NeedOut
from .projects import UoW, caller_of

router = APIRouter(tags=["verification"])

Token = Annotated[str, Path(min_length=20, max_length=100, description="The token from the link.")]
LINK_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such link"},
    409: {"model": ErrorOut, "description": "The link has been used"},
    410: {"model": ErrorOut, "description": "The link expired or was replaced by a newer one"},
}


class LinkOut(BaseModel):
    link: str | None = Field(
        description=(
            "The link, for a coordinator only and only now (to pass on by other means if the email cannot reach "
            "the contact); null for everyone else. Notifications emails it to the partner's contact: a student or "
            "supervisor never holds the link that verifies their own project."
        )
    )
    verification_id: uuid.UUID
    contact_id: uuid.UUID
    expires_at: datetime


class SummaryOut(BaseModel):
    """What a partner contact sees: the project as the partner knows it, no student's personal data."""

    title: str
    topic: str
    need: NeedOut | None
    aim: AimOut | None
    delivery_sessions: list[DeliverySessionOut]
    results: str
    sustainability: str
    status: VerificationStatus = Field(description="pending until answered through this link.")
    expires_at: datetime


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision = Field(examples=["verified"])
    comment: Annotated[str, Field(max_length=2000, pattern=NO_CONTROL_CHARACTERS)] = Field(
        default="", examples=["Two sessions, not three, took place."], description="Needed when disputing."
    )


class DecisionOut(BaseModel):
    decision: Decision
    decided_at: datetime


def _policy(request: Request) -> LinkPolicy:
    settings: ProjectsSettings = request.app.state.settings
    return LinkPolicy(
        lifetime=timedelta(days=settings.verification_link_days),
        resend_after=timedelta(days=settings.verification_resend_days),
    )


@router.post(
    "/projects/{project_id}/verification-link",
    status_code=status.HTTP_201_CREATED,
    summary="Issue (or resend) the partner's verification link",
    description="For a submitted project whose verification is pending. Earlier links stop working; a new link "
    "for the same request may go at most once every VERIFICATION_RESEND_DAYS. Publishes "
    "`projects.project.verification_link_issued.v1` (without the link) and "
    "`projects.verification_link.mail_requested.v1` (with it: notifications emails it to the contact).",
    responses={
        404: {"model": ErrorOut, "description": "No such project among those the caller may see"},
        409: {"model": ErrorOut, "description": "Nothing to verify, no contact, or too soon to resend"},
    },
)
async def issue_link(
    project_id: uuid.UUID,
    request: Request,
    uow: UoW,
    principal: Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT))],
) -> LinkOut:
    settings: ProjectsSettings = request.app.state.settings
    try:
        url, link = await handlers.issue_link(
            caller_of(principal, request),
            uow,
            project_id,
            _policy(request),
            link_base_url=settings.verification_link_base_url,
        )
    except ProjectNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such project") from None
    except (handlers.NothingToVerify, TooSoon) as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    return LinkOut(
        link=url if principal.has(Role.COORDINATOR) else None,
        verification_id=link.id,
        contact_id=link.contact_id,
        expires_at=link.expires_at,
    )


@router.get("/verifications/{token}", summary="What a verification link shows the partner", responses=LINK_ERRORS)
async def open_link(token: Token, uow: UoW) -> SummaryOut:
    link, project = await _answer(handlers.open_link(uow, token))
    return _summary(link, project)


@router.post(
    "/verifications/{token}",
    summary="Confirm or dispute what was delivered (once per link)",
    description="Publishes `projects.project.verified.v1` or `projects.project.disputed.v1` (without the comment).",
    responses={**LINK_ERRORS, 422: {"model": FieldErrorsOut, "description": "A field is invalid"}},
)
async def decide(token: Token, body: DecisionIn, request: Request, uow: UoW) -> DecisionOut:
    try:
        link, _ = await _answer(handlers.decide(uow, token, body.decision, body.comment, correlation_id_from(request)))
    except CommentRequired as error:
        raise field_error(error.field, str(error), status.HTTP_422_UNPROCESSABLE_CONTENT) from None
    assert link.decision is not None and link.decided_at is not None
    return DecisionOut(decision=link.decision, decided_at=link.decided_at)


async def _answer(call: Awaitable[tuple[VerificationLink, Project]]) -> tuple[VerificationLink, Project]:
    try:
        result: tuple[VerificationLink, Project] = await call
    except handlers.LinkNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such link") from None
    except LinkRefused as error:
        code = status.HTTP_410_GONE if error.gone else status.HTTP_409_CONFLICT
        raise HTTPException(code, str(error)) from None
    return result


def _summary(link: VerificationLink, project: Project) -> SummaryOut:
    return SummaryOut(
        title=project.title,
        topic=project.topic,
        need=NeedOut(**vars(project.need)) if project.need else None,
        aim=AimOut(**vars(project.aim)) if project.aim else None,
        delivery_sessions=[
            DeliverySessionOut(id=s.id, held_on=s.held_on, place=s.place, format=s.format, reach=dict(s.reach))
            for s in project.delivery_sessions
        ],
        results=project.evaluation.results,
        sustainability=project.evaluation.sustainability,
        status=VerificationStatus(link.decision.value) if link.decision else VerificationStatus.PENDING,
        expires_at=link.expires_at,
    )
