"""What every router of the outreach API depends on."""

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request, status
from pydantic import BaseModel, Field

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.conditions import ConditionsUnmet


def unit_of_work(request: Request) -> OutreachUnitOfWork:
    factory: Callable[[], OutreachUnitOfWork] = request.app.state.uow_factory
    return factory()


def now(request: Request) -> datetime:
    """The service's clock (aware, UTC): `app.state.clock`, which tests may move."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def today(request: Request) -> date:
    """Today where the programmes run (OUTREACH_PRIMARY_TIMEZONE), by the service's clock."""
    return now(request).astimezone(ZoneInfo(request.app.state.settings.primary_timezone)).date()


class UnmetOut(BaseModel):
    code: str = Field(description="Which condition, for programs", examples=["dbs_barred_list"])
    message: str = Field(
        description="The condition and why it is unmet, for people",
        examples=["mentoring needs an enhanced check with the children's barred list; the check on record has none"],
    )
    subject: str | None = Field(description="Whose condition: a person id, a participant id or a role", default=None)


class ConditionsUnmetOut(BaseModel):
    """A refusal listing every unmet condition (the body's `detail`)."""

    detail: str = Field(examples=["cannot activate the match"])
    unmet: list[UnmetOut]


class ConditionsUnmetErrorOut(BaseModel):
    detail: ConditionsUnmetOut


def conditions_unmet(refusal: ConditionsUnmet) -> HTTPException:
    """409 whose detail names the action and lists each unmet condition."""
    unmet = [{"code": u.code, "message": u.message, "subject": u.subject} for u in refusal.unmet]
    return HTTPException(status.HTTP_409_CONFLICT, {"detail": f"cannot {refusal.action}", "unmet": unmet})
