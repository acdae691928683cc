"""The event backbone end to end: projects → RabbitMQ → outreach and notifications, on real infrastructure."""

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select

from medic.outreach.adapters import orm as outreach_orm
from medic.projects.adapters import orm as projects_orm
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.commands import RegisterPartner
from medic.projects.service_layer.handlers import register_partner
from medic.shared.auth import Role
from medic.shared.consumer import EventConsumer, ParsedEvent
from medic.shared.contracts.projects import PartnerKind
from medic.shared.outbox import OutboxState
from tests.conftest import DatabaseUrls
from tests.harness import Infrastructure, Running, auth, running
from tests.infra import DisposableBroker
from tests.support import eventually

pytestmark = pytest.mark.integration

ALL = ("projects", "outreach", "notifications")


async def register(projects: Running, name: str, **fields: Any) -> dict[str, Any]:
    body = {"name": name, "kind": "charity", "contact_email": "coordinator@example.org", **fields}
    response = await projects.client.post("/partners", json=body, headers=auth(projects.service.settings))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def count(service: Running, table: Any, *where: Any) -> int:
    async with service.service.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table).where(*where))).scalar_one())


async def outreach_partner_ids(outreach: Running) -> set[str]:
    return {p["id"] for p in await outreach.get("/partners", role=Role.COORDINATOR, limit=500)}


async def logged_event_ids(notifications: Running, **filters: Any) -> list[str]:
    page = await notifications.get("/events", role=Role.OPS, limit=500, **filters)
    return [item["id"] for item in page["items"]]


async def test_a_registered_partner_reaches_outreach_and_the_ops_log(
    broker_namespace: tuple[str, str], database_urls: DatabaseUrls
) -> None:
    url, namespace = broker_namespace
    async with running(*ALL, rabbitmq_url=url, namespace=namespace, database_urls=database_urls) as services:
        partner = await register(services["projects"], "Riverside Food Bank", areas_of_work=["food poverty"])

        ids = await eventually(lambda: outreach_partner_ids(services["outreach"]))
        assert ids == {partner["id"]}
        logged = await eventually(
            lambda: services["notifications"].get("/events", type="projects.partner.registered.v1")
        )
        (item,) = logged["items"]
        assert item["subject"] == f"partners/{partner['id']}"
        assert item["source"] == "/services/projects"
        assert "coordinator@example.org" not in str(item)  # contact details stay in projects


async def test_broker_down_while_registering_then_every_event_arrives_once(
    disposable_broker: DisposableBroker, disposable_namespace: tuple[str, str], database_urls: DatabaseUrls
) -> None:
    url, namespace = disposable_namespace
    async with running(*ALL, rabbitmq_url=url, namespace=namespace, database_urls=database_urls) as services:
        projects, outreach, notifications = services["projects"], services["outreach"], services["notifications"]
        disposable_broker.stop()
        try:
            registered = {(await register(projects, f"Partner {i}"))["id"] for i in range(20)}
            await asyncio.sleep(1)  # the relay tries, fails and backs off meanwhile
            # each registration stages two events: the partner's, and its contact's address for notifications
            assert await count(projects, projects_orm.outbox, projects_orm.outbox.c.state == "pending") == 40
        finally:
            disposable_broker.start()

        assert await eventually(lambda: _equals(outreach_partner_ids(outreach), registered), timeout_s=60)
        assert await eventually(lambda: _has_length(logged_event_ids(notifications), 40), timeout_s=30)
        assert await count(outreach, outreach_orm.inbox) == 20
        assert len(set(await logged_event_ids(notifications))) == 40
        # The partners' rows: the contact addresses' are deleted within a minute of publishing (personal data)
        published = (projects_orm.outbox.c.state == OutboxState.PUBLISHED.value) & (
            projects_orm.outbox.c.event_type == "projects.partner.registered.v1"
        )
        assert await eventually(lambda: _equals(count(projects, projects_orm.outbox, published), 20))


async def test_relay_crash_after_confirm_republishes_and_the_inbox_absorbs_it(
    broker_namespace: tuple[str, str], database_urls: DatabaseUrls, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, namespace = broker_namespace
    async with running(*ALL, rabbitmq_url=url, namespace=namespace, database_urls=database_urls) as services:
        projects, outreach = services["projects"], services["outreach"]
        relay = projects.service.relay
        real_mark = relay._mark_published_now
        crashes: list[int] = []

        async def crash_once_before_marking(*args: Any) -> None:
            if not crashes:
                crashes.append(1)
                raise RuntimeError("relay died after the broker confirmed")
            await real_mark(*args)

        monkeypatch.setattr(relay, "_mark_published_now", crash_once_before_marking)
        duplicates = _count_duplicates(outreach, monkeypatch)

        partner = await register(projects, "Northside Youth Network", kind="network")

        assert await eventually(lambda: _has_length(_list(duplicates), 1))
        assert crashes == [1]
        assert await outreach_partner_ids(outreach) == {partner["id"]}
        assert await count(outreach, outreach_orm.inbox) == 1
        assert await eventually(lambda: _has_length(logged_event_ids(services["notifications"]), 2))
        await asyncio.sleep(0.3)
        assert len(await logged_event_ids(services["notifications"])) == 2  # each once: no duplicate logged


async def test_rolled_back_transaction_publishes_nothing(
    broker_namespace: tuple[str, str], database_urls: DatabaseUrls
) -> None:
    url, namespace = broker_namespace
    async with running(*ALL, rabbitmq_url=url, namespace=namespace, database_urls=database_urls) as services:
        projects, notifications = services["projects"], services["notifications"]
        uow: ProjectsUnitOfWork = projects.service.unit_of_work()

        class Boom(Exception):
            pass

        async def commit_then_fail() -> None:
            raise Boom

        uow.commit = commit_then_fail  # type: ignore[method-assign]  # staged, then the commit fails
        with pytest.raises(Boom):
            await register_partner(
                RegisterPartner("Rolled Back Trust", PartnerKind.CHARITY, "x@example.org", [], uuid.uuid4()), uow
            )
        assert await count(projects, projects_orm.outbox) == 0
        assert await count(projects, projects_orm.partners) == 0

        # A committed event afterwards is the marker: once it is logged, anything earlier would be too.
        marker = await register(projects, "Committed Trust")
        await eventually(lambda: _has_length(logged_event_ids(notifications), 2))  # with its contact's address
        logged = await notifications.get("/events", type="projects.partner.registered.v1")
        assert [item["subject"] for item in logged["items"]] == [f"partners/{marker['id']}"]


async def test_broker_restart_with_messages_queued_loses_nothing(
    disposable_broker: DisposableBroker, disposable_namespace: tuple[str, str], database_urls: DatabaseUrls
) -> None:
    url, namespace = disposable_namespace
    common: Infrastructure = {"rabbitmq_url": url, "namespace": namespace, "database_urls": database_urls}
    # Outreach runs once so its queue exists, then is stopped: events queue up for it.
    async with running("outreach", **common):
        pass
    async with running("projects", **common) as services:
        projects = services["projects"]
        registered = {(await register(projects, f"Queued Partner {i}"))["id"] for i in range(15)}
        # The partners' rows: the contact addresses' are deleted within a minute of publishing (personal data)
        published = (projects_orm.outbox.c.state == OutboxState.PUBLISHED.value) & (
            projects_orm.outbox.c.event_type == "projects.partner.registered.v1"
        )
        assert await eventually(lambda: _equals(count(projects, projects_orm.outbox, published), 15))

    disposable_broker.stop()
    disposable_broker.start()

    async with running("outreach", **common) as services:
        outreach = services["outreach"]
        assert await eventually(lambda: _equals(outreach_partner_ids(outreach), registered), timeout_s=30)
        assert await count(outreach, outreach_orm.inbox) == 15


async def test_consumer_reconnects_after_the_broker_closes_its_connection(
    disposable_broker: DisposableBroker, disposable_namespace: tuple[str, str], sqlite_urls: DatabaseUrls
) -> None:
    url, namespace = disposable_namespace
    async with running("projects", "outreach", rabbitmq_url=url, namespace=namespace, database_urls=sqlite_urls) as s:
        projects, outreach = s["projects"], s["outreach"]
        first = await register(projects, "Before The Cut")
        await eventually(lambda: outreach_partner_ids(outreach))

        disposable_broker.close_all_connections()
        cut_at = asyncio.get_running_loop().time()
        second = await register(projects, "After The Cut")

        ids = await eventually(
            lambda: _equals(outreach_partner_ids(outreach), {first["id"], second["id"]}), timeout_s=30
        )
        assert ids
        assert asyncio.get_running_loop().time() - cut_at < 15


def _count_duplicates(outreach: Running, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the duplicates outreach's inbox absorbed: one entry per event applied that was not new."""
    consumer: EventConsumer = outreach.service.consumer.consumer
    real_apply = consumer.apply
    duplicates: list[int] = []

    async def apply(events: Sequence[ParsedEvent]) -> int:
        applied = await real_apply(events)
        duplicates.extend([1] * (len(events) - applied))
        return applied

    monkeypatch.setattr(consumer, "apply", apply)
    return duplicates


async def _list(values: list[Any]) -> list[Any]:
    return values


async def _equals(value: Any, expected: Any) -> Any:
    actual = await value
    return actual if actual == expected else False


async def _has_length(value: Any, length: int) -> Any:
    actual = await value
    return actual if len(actual) == length else False


async def test_an_unroutable_event_stays_in_the_outbox_until_a_consumer_is_bound(
    broker_namespace: tuple[str, str], sqlite_urls: DatabaseUrls
) -> None:
    url, namespace = broker_namespace
    common: Infrastructure = {"rabbitmq_url": url, "namespace": namespace, "database_urls": sqlite_urls}
    async with running("projects", **common) as services:
        projects = services["projects"]
        partner = await register(projects, "Nobody Listening Yet")
        failed = projects_orm.outbox.c.attempts > 0
        assert await eventually(lambda: count(projects, projects_orm.outbox, failed))  # returned, not confirmed
        async with projects.service.engine.connect() as connection:
            (state, error) = (
                await connection.execute(
                    select(projects_orm.outbox.c.state, projects_orm.outbox.c.last_error).where(
                        projects_orm.outbox.c.event_type == "projects.partner.registered.v1"
                    )
                )
            ).one()
        assert state == OutboxState.PENDING.value
        assert "NO_ROUTE" in error

        async with running("outreach", **common) as more:
            assert await eventually(lambda: outreach_partner_ids(more["outreach"]), timeout_s=20) == {partner["id"]}
