"""The partner projection in the consumer: each event queues, in the log entry's transaction, one message per partner
it is about (stored by the webhook work even before any endpoint exists), numbered in that partner's sequence; a
redelivery queues nothing twice; a malformed event is logged and sends nothing. Sequences stay gap-free and in
commit order on PostgreSQL under concurrent transactions."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from medic.notifications.adapters import orm
from medic.notifications.adapters.orm_webhook_deliveries import webhook_messages
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.bootstrap import NotificationsService, build
from medic.notifications.domain.partner_events import CATALOGUE
from medic.notifications.service_layer import partner_events
from medic.notifications.settings import NotificationsSettings
from medic.shared.auth import Role
from medic.shared.events import RawEnvelope
from tests import infra

if TYPE_CHECKING:  # conftest is not importable at run time (--import-mode=importlib); fixtures hand these out
    from services.notifications.tests.conftest import AuthHeaders, DeliverTo, EnvelopeFactory

PROJECTS, OUTREACH = "/services/projects", "/services/outreach"
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


async def sent(service: NotificationsService) -> list[tuple[uuid.UUID, str, dict[str, Any]]]:
    """Every partner message stored, as (partner, type, data), in each partner's sequence order."""
    async with service.engine.connect() as connection:
        rows = await connection.execute(select(webhook_messages.c.partner_id, webhook_messages.c.body))
        messages = [(row.partner_id, json.loads(row.body)) for row in rows]
    for _, body in messages:
        assert set(body) == {"type", "timestamp", "data"}
        CATALOGUE[body["type"]].payload.model_validate(body["data"])  # what the catalogue promises
    ordered = sorted(messages, key=lambda m: (str(m[0]), m[1]["data"]["sequence"]))
    return [(partner, body["type"], body["data"]) for partner, body in ordered]


def facts(*partner_ids: uuid.UUID, project_id: uuid.UUID) -> dict[str, Any]:
    return {
        "project_id": str(project_id),
        "cohort_id": str(uuid.uuid4()),
        "group_id": str(uuid.uuid4()),
        "practice_id": str(uuid.uuid4()),
        "partner_ids": [str(p) for p in partner_ids],
    }


async def test_a_project_tells_each_of_its_partners_in_their_own_sequence(
    service: NotificationsService, envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    lead, second, project = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    base = facts(lead, second, project_id=project)
    created = envelope(
        type="projects.project.created.v1", time=T0, data={**base, "title": "Cook & eat", "topic": "nutrition"}
    )
    submitted = envelope(
        type="projects.project.proposal_submitted.v1",
        data={**base, "from_state": "draft", "to_state": "proposal_review"},
    )
    approved = envelope(
        type="projects.project.approved.v1", data={**base, "from_state": "proposal_review", "to_state": "approved"}
    )
    await deliver_to(created, submitted, approved)

    messages = await sent(service)
    by_partner = {
        p: [(t, d["sequence"], d["title"], d["lead"]) for q, t, d in messages if q == p] for p in (lead, second)
    }
    assert by_partner[lead] == [
        ("project.created.v1", 1, "Cook & eat", True),
        ("project.proposal_submitted.v1", 2, "Cook & eat", True),
        ("project.approved.v1", 3, "Cook & eat", True),
    ]
    assert [(t, s, lead_) for t, s, _, lead_ in by_partner[second]] == [
        ("project.created.v1", 1, False),
        ("project.proposal_submitted.v1", 2, False),
        ("project.approved.v1", 3, False),
    ]
    [first] = [d for p, t, d in messages if p == lead and t == "project.created.v1"]
    assert first == {
        "partner_id": str(lead),
        "sequence": 1,
        "occurred_at": "2026-12-07T09:00:00Z",
        "project_id": str(project),
        "cohort_id": base["cohort_id"],
        "title": "Cook & eat",
        "lead": True,
        "topic": "nutrition",
        "state": "draft",
    }


async def test_a_redelivered_event_queues_and_numbers_nothing_twice(
    service: NotificationsService, envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    partner = uuid.uuid4()
    event = envelope(
        type="outreach.partner_erasure_notice.requested.v1",
        source=OUTREACH,
        data={"partner_id": str(partner), "participant_id": str(uuid.uuid4()), "erasure_id": str(uuid.uuid4())},
    )
    await deliver_to(event)
    assert await service.consumer.consumer.handle(event) is False
    await deliver_to(
        envelope(
            type="outreach.partner_erasure_notice.requested.v1",
            source=OUTREACH,
            data={**event.data, "participant_id": str(uuid.uuid4())},
        )
    )
    assert [(t, d["sequence"]) for _, t, d in await sent(service)] == [
        ("participant.erasure_requested.v1", 1),
        ("participant.erasure_requested.v1", 2),
    ]


async def test_an_erasure_notice_reaches_the_partner_even_after_the_erasure(
    service: NotificationsService, envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    partner, participant, erasure_id = uuid.uuid4(), str(uuid.uuid4()), str(uuid.uuid4())
    erased = envelope(
        type="outreach.participant.erased.v1",
        source=OUTREACH,
        subject=f"participants/{participant}",
        data={"participant_id": participant, "erased_at": T0.isoformat(), "erasure_id": erasure_id},
    )
    notice = envelope(
        type="outreach.partner_erasure_notice.requested.v1",
        source=OUTREACH,
        subject=f"participants/{participant}",
        data={"partner_id": str(partner), "participant_id": participant, "erasure_id": erasure_id},
    )
    await deliver_to(erased, notice)
    [(to, event_type, data)] = await sent(service)
    assert (to, event_type) == (partner, "participant.erasure_requested.v1")
    assert (data["participant_id"], data["erasure_id"]) == (participant, erasure_id)


async def test_a_sharing_consent_ending_tells_its_partners_unless_the_participant_is_erased(
    service: NotificationsService, envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    kept, erased = str(uuid.uuid4()), str(uuid.uuid4())

    def withdrawn(participant: str, scope: str = "partner_sharing") -> Any:
        return envelope(
            type="outreach.consent.withdrawn.v1",
            source=OUTREACH,
            subject=f"participants/{participant}/consents",
            data={
                "participant_id": participant,
                "scope": scope,
                "party": "participant",
                "partner_ids": [str(a), str(b)],
                "method": "email",
                "withdrawn_on": "2026-12-06",
                "recorded_at": T0.isoformat(),
            },
        )

    await deliver_to(
        withdrawn(kept),
        withdrawn(kept, scope="research"),
        envelope(
            type="outreach.participant.erased.v1",
            source=OUTREACH,
            subject=f"participants/{erased}",
            data={"participant_id": erased, "erased_at": T0.isoformat(), "erasure_id": str(uuid.uuid4())},
        ),
        withdrawn(erased),
    )
    assert sorted((str(p), t, d["participant_id"], d["reason"]) for p, t, d in await sent(service)) == sorted(
        [
            (str(a), "participant.sharing_consent_ended.v1", kept, "withdrawn"),
            (str(b), "participant.sharing_consent_ended.v1", kept, "withdrawn"),
        ]
    )


async def test_a_malformed_event_is_still_logged_and_sends_nothing(
    service: NotificationsService,
    client: httpx.AsyncClient,
    ops: dict[str, str],
    envelope: EnvelopeFactory,
    deliver_to: DeliverTo,
) -> None:
    event = envelope(type="projects.project.approved.v1", data={"project_id": "not a uuid", "partner_ids": ["x"]})
    await deliver_to(event)
    assert await sent(service) == []
    [logged] = (await client.get("/events", headers=ops)).json()["items"]
    assert logged["id"] == str(event.id)


async def test_sessions_go_to_the_partner_their_school_is_linked_to_from_the_link_on(
    service: NotificationsService,
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    envelope: EnvelopeFactory,
    deliver_to: DeliverTo,
) -> None:
    partner = uuid.uuid4()
    school = {
        "urn": "100000",
        "laestab": "2013614",
        "name": "Hillside Primary School",
        "phase": "primary",
        "local_authority_code": "201",
        "local_authority_name": "City of London",
        "state_funded": True,
    }
    await deliver_to(
        envelope(
            type="projects.partner.registered.v1",
            data={"partner_id": str(partner), "name": "Hillside Primary", "kind": "school", "areas_of_work": []},
        ),
        envelope(type="outreach.school.registered.v1", source=OUTREACH, data=school),
    )

    def session(kind: str, **extra: Any) -> Any:
        data = {"session_id": str(uuid.uuid4()), "term_id": str(uuid.uuid4()), "urn": "100000", **extra}
        return envelope(type=f"outreach.session.{kind}.v1", source=OUTREACH, data=data)

    day = {"date": "2026-12-09", "year_group": "year_5", "key_stage": "ks2", "topic_id": "healthy_eating"}
    await deliver_to(session("planned", **day, student_ids=["2301234"]))  # before the link: nobody's
    assert await sent(service) == []

    reply = await client.put(
        "/webhooks/school-links/100000", json={"partner_id": str(partner)}, headers=auth(Role.COORDINATOR)
    )
    assert reply.status_code == 200, reply.text
    await deliver_to(
        session("planned", **day, student_ids=["2301234"]),
        session("delivered", **day, pupils=28, classes=1, teacher_present_throughout=True),
        session("cancelled"),
        session("plan_reviewed"),  # not a partner's concern
    )
    messages = await sent(service)
    assert [(p, t, d["sequence"]) for p, t, d in messages] == [
        (partner, "session.planned.v1", 1),
        (partner, "session.delivered.v1", 2),
        (partner, "session.cancelled.v1", 3),
    ]
    assert "2301234" not in json.dumps([d for _, _, d in messages])  # the students delivering it stay out
    assert messages[1][2]["pupils"] == 28


async def test_the_partner_projection_leaves_the_log_entry_and_inbox_in_one_transaction(
    service: NotificationsService, envelope: EnvelopeFactory
) -> None:
    """A failure while publishing rolls back the log entry too, so the redelivery does everything once."""
    partner = uuid.uuid4()
    event = envelope(
        type="outreach.partner_erasure_notice.requested.v1",
        source=OUTREACH,
        data={"partner_id": str(partner), "participant_id": str(uuid.uuid4()), "erasure_id": str(uuid.uuid4())},
    )
    async with service.engine.begin() as connection:  # the webhook tables are gone: publishing fails
        await connection.exec_driver_sql("ALTER TABLE webhook_messages RENAME TO webhook_messages_away")
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error, whatever it is
        await service.consumer.consumer.handle(event)
    async with service.engine.begin() as connection:
        await connection.exec_driver_sql("ALTER TABLE webhook_messages_away RENAME TO webhook_messages")
        assert (await connection.execute(select(orm.event_log.c.event_id))).all() == []
    assert await service.consumer.consumer.handle(event) is True
    assert [(p, d["sequence"]) for p, _, d in await sent(service)] == [(partner, 1)]


# --- PostgreSQL: concurrent numbering ------------------------------------------------------------------------------


@pytest.fixture
async def postgres_service(tmp_path: Path) -> AsyncIterator[NotificationsService]:
    async with infra.fresh_database_url("postgresql", tmp_path, "notifications") as url:
        settings = NotificationsSettings.model_validate(
            {"NOTIFICATIONS_DATABASE_URL": url, "BROKER_NAMESPACE": f"test-{uuid.uuid4().hex[:8]}"}
        )
        service = build(settings, start_consumer=False)
        async with LifespanManager(service.app):
            yield service


async def test_sequences_are_gap_free_and_in_commit_order_under_concurrent_transactions(
    postgres_service: NotificationsService,
) -> None:
    partner, rolled_back = uuid.uuid4(), []
    commits: list[int] = []

    async def number(i: int) -> None:
        uow: NotificationsUnitOfWork = postgres_service.app.state.uow_factory()
        async with uow:
            sequence = await uow.partner_events.next_sequence(partner)
            await asyncio.sleep(0.01)  # hold the row a moment, as a consumer batch does
            if i % 5 == 0:
                rolled_back.append(sequence)
                await uow.rollback()
                return
            commits.append(sequence)  # appended before commit: the row lock orders commits as numbered
            await uow.commit()

    await asyncio.gather(*(number(i) for i in range(20)))
    assert len(rolled_back) == 4
    assert commits == list(range(1, 17))  # numbers given back by rollbacks are reused: no gaps, no repeats


async def test_the_projection_and_its_state_on_postgresql(postgres_service: NotificationsService) -> None:
    service, partner, project = postgres_service, uuid.uuid4(), uuid.uuid4()

    def event(event_type: str, data: dict[str, Any], source: str = PROJECTS) -> RawEnvelope:
        return RawEnvelope(
            id=uuid.uuid4(),
            type=event_type,
            source=source,
            subject=None,
            time=T0,
            correlationid=uuid.uuid4(),
            causationid=None,
            data=data,
        )

    school = {
        "urn": "100000",
        "laestab": "2013614",
        "name": "Hillside Primary School",
        "phase": "primary",
        "local_authority_code": "201",
        "local_authority_name": "City of London",
        "state_funded": True,
    }
    profile = {"partner_id": str(partner), "kind": "school", "areas_of_work": []}
    base = facts(partner, project_id=project)
    for item in (
        event("projects.partner.updated.v1", {**profile, "revision": 2, "name": "Hillside (renamed)"}),
        event("projects.partner.registered.v1", {**profile, "name": "Hillside"}),  # late: changes nothing
        event("outreach.school.registered.v1", school, OUTREACH),
        event("outreach.school.updated.v1", {**school, "name": "Hillside Primary Academy"}, OUTREACH),
        event("projects.project.created.v1", {**base, "title": "Cook & eat", "topic": "nutrition"}),
        event("projects.project.approved.v1", {**base, "from_state": "proposal_review", "to_state": "approved"}),
    ):
        await service.consumer.consumer.handle(item)
    uow: NotificationsUnitOfWork = service.app.state.uow_factory()
    link = await partner_events.link_school(uow, "100000", partner)
    assert (link.school_name, link.partner_name) == ("Hillside Primary Academy", "Hillside (renamed)")
    await service.consumer.consumer.handle(
        event(
            "outreach.session.cancelled.v1",
            {"session_id": str(uuid.uuid4()), "term_id": str(uuid.uuid4()), "urn": "100000"},
            OUTREACH,
        )
    )
    assert [(t, d["sequence"], d.get("title")) for _, t, d in await sent(service)] == [
        ("project.created.v1", 1, "Cook & eat"),
        ("project.approved.v1", 2, "Cook & eat"),
        ("session.cancelled.v1", 3, None),
    ]
