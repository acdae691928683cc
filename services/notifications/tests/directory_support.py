"""Helpers for the directory and email-rules tests: events built from the real contracts, and what got queued."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.bootstrap import NotificationsService, build
from medic.notifications.domain.emails import Email
from medic.notifications.settings import NotificationsSettings
from medic.shared.contracts.projects.contacts import ContactAddressSetV1, ContactKind
from medic.shared.contracts.projects.projects import ProjectCreatedV1
from medic.shared.contracts.projects.setup import GroupChangedV1, GroupCreatedV1, GroupV1
from medic.shared.events import EventPayload, RawEnvelope
from tests import infra

COORDINATORS = "coord.one@medic.example, Coord.Two@medic.example,coord.one@medic.example"


@contextlib.asynccontextmanager
async def running_service(backend: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[NotificationsService]:
    async with infra.fresh_database_url(backend, tmp_path, "notifications") as url:
        settings = NotificationsSettings.model_validate(
            {
                "NOTIFICATIONS_DATABASE_URL": url,
                "BROKER_NAMESPACE": f"test-{uuid.uuid4().hex[:8]}",
                "NOTIFICATIONS_COORDINATOR_EMAILS": COORDINATORS,
                "NOTIFICATIONS_MAIL_DIR": str(tmp_path / "mail"),
                **overrides,
            }
        )
        service = build(settings, start_consumer=False)
        async with LifespanManager(service.app):
            yield service


def envelope_of(
    payload: EventPayload, *, time: datetime | None = None, event_id: uuid.UUID | None = None
) -> RawEnvelope:
    return RawEnvelope(
        id=event_id or uuid.uuid4(),
        type=payload.event_type,
        source=payload.source,
        subject=None,
        time=time or datetime.now(UTC),
        correlationid=uuid.uuid4(),
        causationid=None,
        data=payload.model_dump(mode="json"),
    )


async def deliver(service: NotificationsService, *envelopes: RawEnvelope) -> None:
    for item in envelopes:
        await service.consumer.consumer.handle(item)


def uow_of(service: NotificationsService) -> NotificationsUnitOfWork:
    uow: NotificationsUnitOfWork = service.app.state.uow_factory()
    return uow


async def queued(service: NotificationsService, kind: str | None = None) -> list[Email]:
    uow = uow_of(service)
    async with uow:
        page = await uow.emails.page(kind=kind, limit=1000)
    return list(page.items)


def who(emails: list[Email]) -> list[tuple[str, str]]:
    """(kind, recipient) of each email, sorted."""
    return sorted((e.kind, e.recipient) for e in emails)


def address(
    kind: ContactKind,
    contact_id: uuid.UUID,
    email: str,
    name: str | None = None,
    *,
    partner_id: uuid.UUID | None = None,
    primary: bool = False,
) -> ContactAddressSetV1:
    return ContactAddressSetV1(
        contact_id=contact_id, kind=kind, partner_id=partner_id, primary=primary, email=email, display_name=name
    )


def group(
    group_id: uuid.UUID,
    students: list[uuid.UUID],
    supervisors: list[uuid.UUID],
    *,
    name: str = "A1",
    created: bool = True,
) -> GroupV1:
    kind = GroupCreatedV1 if created else GroupChangedV1
    return kind(
        group_id=group_id,
        cohort_id=uuid.UUID(int=1),
        practice_id=uuid.UUID(int=2),
        name=name,
        student_ids=students,
        supervisor_ids=supervisors,
    )


def facts(project_id: uuid.UUID, group_id: uuid.UUID, partner_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "cohort_id": uuid.UUID(int=1),
        "group_id": group_id,
        "practice_id": uuid.UUID(int=2),
        "partner_ids": [partner_id] if partner_id else [],
    }


def project_created(project_id: uuid.UUID, group_id: uuid.UUID, title: str, partner_id: uuid.UUID | None = None) -> Any:
    return ProjectCreatedV1(**facts(project_id, group_id, partner_id), title=title, topic="nutrition")
