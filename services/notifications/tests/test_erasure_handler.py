"""The ops log forgets an erased participant or person: the erasure event deletes, in the consumer's transaction,
every entry naming the id (in the subject or anywhere in the data) but the erasure events themselves, kept as the
proof; later events about them are not logged; a redelivery changes nothing. On SQLite and PostgreSQL."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from medic.notifications.adapters import orm
from medic.notifications.bootstrap import NotificationsService, build
from medic.notifications.settings import NotificationsSettings
from medic.shared.events import RawEnvelope
from tests import infra

ERASED = "outreach.participant.erased.v1"
PERSON_ERASED = "outreach.safeguarding_person.erased.v1"
NOTICE = "outreach.partner_erasure_notice.requested.v1"
OUTREACH = "/services/outreach"


@pytest.fixture(params=["sqlite", "postgresql"])
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NotificationsService]:
    async with infra.fresh_database_url(request.param, tmp_path, "notifications") as url:
        settings = NotificationsSettings.model_validate(
            {"NOTIFICATIONS_DATABASE_URL": url, "BROKER_NAMESPACE": f"test-{uuid.uuid4().hex[:8]}"}
        )
        service = build(settings, start_consumer=False)
        async with LifespanManager(service.app):
            yield service


def envelope(type_: str, subject: str | None, data: dict[str, Any], event_id: uuid.UUID | None = None) -> RawEnvelope:
    return RawEnvelope(
        id=event_id or uuid.uuid4(),
        type=type_,
        source=OUTREACH,
        subject=subject,
        time=datetime.now(UTC),
        correlationid=uuid.uuid4(),
        causationid=None,
        data=data,
    )


async def logged(service: NotificationsService) -> list[tuple[str, str | None]]:
    async with service.engine.connect() as connection:
        rows = await connection.execute(
            select(orm.event_log.c.type, orm.event_log.c.subject).order_by(orm.event_log.c.seq)
        )
        return [(row.type, row.subject) for row in rows]


async def deliver(service: NotificationsService, *envelopes: RawEnvelope) -> None:
    for item in envelopes:
        await service.consumer.consumer.handle(item)


async def test_an_erased_participants_entries_go_and_the_erasure_stays(service: NotificationsService) -> None:
    pid, other = str(uuid.uuid4()), str(uuid.uuid4())
    application, activity = str(uuid.uuid4()), str(uuid.uuid4())
    about = [
        envelope(
            "outreach.watcch_application.submitted.v1",
            f"watcch/applications/{application}",
            {"application_id": application, "participant_id": pid, "school_urn": "100000"},
        ),
        envelope(
            "outreach.activity.pairs_assigned.v1",
            f"activities/{activity}",
            {"activity_id": activity, "pairs": [[other, pid]]},
        ),  # deep in the data
        envelope("outreach.consent.given.v1", f"participants/{pid}/consents", {"scope": "research"}),  # the subject
    ]
    not_about = [
        envelope("outreach.watcch_application.submitted.v1", f"watcch/applications/{uuid.uuid4()}",
                 {"participant_id": other, "note": f"x{pid}x"}),  # contains the id's text, but is another value
        envelope("projects.partner.registered.v1", "partners/1", {"partner_id": str(uuid.uuid4())}),
    ]  # fmt: skip
    erasure = envelope(ERASED, f"participants/{pid}", {"participant_id": pid, "erased_at": "2026-12-07T00:00:00Z",
                                                       "erasure_id": str(uuid.uuid4())})  # fmt: skip
    notice = envelope(NOTICE, f"participants/{pid}", {"partner_id": str(uuid.uuid4()), "participant_id": pid})
    await deliver(service, *about, *not_about, notice)

    await deliver(service, erasure)

    remaining = await logged(service)
    assert (ERASED, f"participants/{pid}") in remaining and (NOTICE, f"participants/{pid}") in remaining
    assert len(remaining) == len(not_about) + 2
    assert not any(s and pid in s.split("/") for t, s in remaining if t not in (ERASED, NOTICE))

    # Redelivered: nothing changes. A late event about them: not logged. Others still are.
    await deliver(service, erasure)
    late = envelope("outreach.watcch_application.withdrawn.v1", f"watcch/applications/{application}",
                    {"application_id": application, "participant_id": pid})  # fmt: skip
    unrelated = envelope("outreach.watcch_application.withdrawn.v1", None, {"participant_id": other})
    await deliver(service, late, unrelated)
    assert await logged(service) == [*remaining, ("outreach.watcch_application.withdrawn.v1", None)]


async def test_an_erased_safeguarding_persons_entries_go(service: NotificationsService) -> None:
    person = "2301234"
    await deliver(
        service,
        envelope("outreach.safeguarding_person.registered.v1", f"safeguarding/people/{person}", {"person_id": person}),
        envelope("outreach.session.planned.v1", "primary/sessions/1", {"student_ids": [person, "2301299"]}),
        envelope("outreach.session.planned.v1", "primary/sessions/2", {"student_ids": ["12301234"], "pupils": 2301234}),
    )
    data = {"person_id": person, "erased_at": "2026-12-07T00:00:00Z", "erasure_id": str(uuid.uuid4())}
    erasure = envelope(PERSON_ERASED, f"safeguarding/people/{person}", data)
    await deliver(service, erasure)
    assert await logged(service) == [
        ("outreach.session.planned.v1", "primary/sessions/2"),
        (PERSON_ERASED, f"safeguarding/people/{person}"),
    ]
