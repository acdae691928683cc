"""The ops event log: what the consumer records (each type's allow-listed fields), and `GET /events` (filters, cursor
paging and resuming, errors, auth)."""

from __future__ import annotations

import base64
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import Connection, inspect, select

from medic.notifications.adapters import orm
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.bootstrap import NotificationsService
from medic.notifications.domain.model import EventLogQuery, LoggedEvent
from medic.shared.auth import Role

if TYPE_CHECKING:  # conftest is not importable at run time (--import-mode=importlib); fixtures hand these out
    from services.notifications.tests.conftest import AuthHeaders, DeliverTo, EnvelopeFactory

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PARTNER = "projects.partner.registered.v1"


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def _all_pages(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        reply = await client.get("/events", params=query, headers=headers)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return pages
        assert len(pages) < 50, "paging does not terminate"


async def test_migrations_create_the_event_log_and_messaging_tables(service: NotificationsService) -> None:
    def describe(connection: Connection) -> dict[str, Any]:
        inspector = inspect(connection)
        return {
            "tables": set(inspector.get_table_names()),
            "columns": {c["name"]: c["nullable"] for c in inspector.get_columns("event_log")},
            "pk": inspector.get_pk_constraint("event_log")["constrained_columns"],
            "unique": [u["column_names"] for u in inspector.get_unique_constraints("event_log")],
            "indexes": {i["name"]: i["column_names"] for i in inspector.get_indexes("event_log")},
        }

    async with service.engine.connect() as connection:
        schema = await connection.run_sync(describe)
    assert {"event_log", "outbox", "inbox", "alembic_version"} <= schema["tables"]
    assert schema["columns"] == {
        "seq": False,
        "event_id": False,
        "type": False,
        "source": False,
        "subject": True,
        "time": False,
        "correlation_id": False,
        "causation_id": True,
        "data": False,
        "received_at": False,
    }
    assert schema["pk"] == ["seq"]
    assert schema["unique"] == [["event_id"]]
    assert schema["indexes"] == {
        "ix_event_log_time": ["time"],
        "ix_event_log_type": ["type"],
        "ix_event_log_correlation_id": ["correlation_id"],
    }


async def test_an_event_is_logged_with_its_attributes_and_only_its_allow_listed_fields(
    service: NotificationsService,
    client: httpx.AsyncClient,
    ops: dict[str, str],
    envelope: EnvelopeFactory,
    deliver_to: DeliverTo,
) -> None:
    correlation_id, causation_id = uuid.uuid4(), uuid.uuid4()
    event = envelope(
        subject="partner/42",
        time=T0,
        correlation_id=correlation_id,
        causation_id=causation_id,
        data={
            "partner_id": "42",
            "name": "Riverside Food Bank",
            "contact": {"email": "ada@example.org", "phone": "01234 567890", "role": "lead"},
            "areas_of_work": ["food poverty"],
        },
    )
    before = datetime.now(UTC)
    await deliver_to(event)

    reply = await client.get("/events", headers=ops)
    assert reply.status_code == 200
    body = reply.json()
    assert body["has_more"] is False and body["next_cursor"]
    [item] = body["items"]
    assert set(item) == {
        "id",
        "type",
        "source",
        "subject",
        "time",
        "correlation_id",
        "causation_id",
        "received_at",
        "data",
    }
    assert item["id"] == str(event.id)
    assert item["type"] == "projects.partner.registered.v1"
    assert item["source"] == "/services/projects"
    assert item["subject"] == "partner/42"
    assert datetime.fromisoformat(item["time"]) == T0
    assert item["correlation_id"] == str(correlation_id)
    assert item["causation_id"] == str(causation_id)
    assert datetime.fromisoformat(item["received_at"]) >= before
    # An organisation's name shows; what the type's allow-list does not name (a contact smuggled in) is not kept.
    assert item["data"] == {"partner_id": "42", "name": "Riverside Food Bank", "areas_of_work": ["food poverty"]}

    # Left out before storage, not only on the way out.
    async with service.engine.connect() as connection:
        stored = (await connection.execute(select(orm.event_log.c.data))).scalar_one()
    assert "ada@example.org" not in str(stored) and "01234" not in str(stored)


async def test_a_redelivered_event_is_logged_once(
    service: NotificationsService,
    client: httpx.AsyncClient,
    ops: dict[str, str],
    envelope: EnvelopeFactory,
    deliver_to: DeliverTo,
) -> None:
    event = envelope()
    await deliver_to(event)
    assert await service.consumer.consumer.handle(event) is False
    reply = await client.get("/events", headers=ops)
    assert [item["id"] for item in reply.json()["items"]] == [str(event.id)]


async def test_the_log_ignores_an_event_id_it_already_has(service: NotificationsService) -> None:
    event = LoggedEvent(
        id=uuid.uuid4(),
        type=PARTNER,
        source="/services/projects",
        subject=None,
        time=T0,
        correlation_id=uuid.uuid4(),
        causation_id=None,
        received_at=T0,
        data={},
    )
    uow: NotificationsUnitOfWork = service.app.state.uow_factory()
    async with uow:
        assert await uow.events.add(event) is True
        assert await uow.events.add(replace(event, type="projects.project.started.v1")) is False
        await uow.commit()
    async with uow:
        [logged] = await uow.events.find(EventLogQuery(), limit=10)
    assert logged.id == event.id and logged.type == PARTNER and logged.seq is not None


async def test_filters_are_exact_matches(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    correlation_id = uuid.uuid4()
    a = envelope(type="projects.partner.registered.v1", source="/services/projects", subject="p/1", time=T0)
    b = envelope(
        type="projects.project.started.v1",
        source="/services/projects",
        subject="p/2",
        time=T0 + timedelta(seconds=1),
        correlation_id=correlation_id,
    )
    c = envelope(
        type="outreach.session.booked.v1",
        source="/services/outreach",
        subject=None,
        time=T0 + timedelta(seconds=2),
        correlation_id=correlation_id,
    )
    await deliver_to(a, b, c)

    async def ids(**params: Any) -> list[str]:
        reply = await client.get("/events", params=params, headers=ops)
        assert reply.status_code == 200, reply.text
        return [item["id"] for item in reply.json()["items"]]

    assert await ids() == [str(a.id), str(b.id), str(c.id)]
    assert await ids(type="projects.project.started.v1") == [str(b.id)]
    assert await ids(type="projects.project") == []  # exact, not a prefix
    assert await ids(source="/services/projects") == [str(a.id), str(b.id)]
    assert await ids(subject="p/1") == [str(a.id)]
    assert await ids(correlation_id=str(correlation_id)) == [str(b.id), str(c.id)]
    assert await ids(correlation_id=str(correlation_id), source="/services/outreach") == [str(c.id)]
    assert await ids(source="/services/nowhere") == []


async def test_since_is_inclusive_and_until_exclusive_on_the_event_time(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    events = [envelope(time=T0 + timedelta(minutes=i)) for i in range(5)]
    # Delivered out of order: the filters are on the event time, while the log stays in the order received.
    await deliver_to(*reversed(events))

    async def ids(**params: Any) -> list[str]:
        reply = await client.get("/events", params=params, headers=ops)
        assert reply.status_code == 200, reply.text
        return [item["id"] for item in reply.json()["items"]]

    def received(*minutes: int) -> list[str]:
        return [str(events[i].id) for i in minutes]

    assert await ids() == received(4, 3, 2, 1, 0)
    since, until = (T0 + timedelta(minutes=1)).isoformat(), (T0 + timedelta(minutes=3)).isoformat()
    assert await ids(since=since) == received(4, 3, 2, 1)
    assert await ids(until=until) == received(2, 1, 0)
    assert await ids(since=since, until=until) == received(2, 1)
    assert await ids(since=since, until=since) == []
    # Other offsets are compared as instants.
    paris = timezone(timedelta(hours=1))
    assert await ids(since=(T0 + timedelta(minutes=2)).astimezone(paris).isoformat()) == received(4, 3, 2)
    assert await ids(since="2026-03-01T09:04:00Z") == received(4)


async def test_cursor_pages_in_the_order_received_without_gaps_or_repeats(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    same_time = [envelope(time=T0) for _ in range(7)]
    later = [envelope(time=T0 + timedelta(microseconds=1)) for _ in range(2)]
    earlier = [envelope(time=T0 - timedelta(seconds=1))]
    await deliver_to(*later, *same_time, *earlier)

    pages = await _all_pages(client, ops, limit=3)
    assert [len(page) for page in pages] == [3, 3, 3, 1]
    seen = [item["id"] for page in pages for item in page]
    assert len(seen) == len(set(seen)) == 10
    assert seen == [str(e.id) for e in (*later, *same_time, *earlier)]


async def test_an_event_that_arrives_late_is_on_the_next_page_not_before_the_cursor(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    on_time = [envelope(time=T0 + timedelta(minutes=i)) for i in range(3)]
    await deliver_to(*on_time)
    first = (await client.get("/events", params={"limit": 2}, headers=ops)).json()
    assert [item["id"] for item in first["items"]] == [str(e.id) for e in on_time[:2]]

    # Published from a backlog after a broker outage: its `time` is older than every event already read.
    late = envelope(time=T0 - timedelta(hours=1))
    await deliver_to(late)
    second = (await client.get("/events", params={"cursor": first["next_cursor"]}, headers=ops)).json()
    assert [item["id"] for item in second["items"]] == [str(on_time[2].id), str(late.id)]
    assert second["has_more"] is False


async def test_a_last_full_page_says_there_is_no_more(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    await deliver_to(*[envelope(time=T0) for _ in range(6)])
    pages = await _all_pages(client, ops, limit=3)
    assert [len(page) for page in pages] == [3, 3]


async def test_paging_with_a_filter(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    wanted = [envelope(type="projects.project.started.v1", time=T0) for _ in range(5)]
    others = [envelope(time=T0) for _ in range(5)]
    await deliver_to(*(event for pair in zip(others, wanted, strict=True) for event in pair))
    pages = await _all_pages(client, ops, limit=2, type="projects.project.started.v1")
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [item["id"] for page in pages for item in page] == [str(e.id) for e in wanted]


async def test_default_limit_is_100(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    await deliver_to(*[envelope(time=T0) for _ in range(101)])
    reply = await client.get("/events", headers=ops)
    body = reply.json()
    assert len(body["items"]) == 100
    assert body["next_cursor"] is not None and body["has_more"] is True


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor!",
        "Zm9v",  # "foo"
        "%%%",
        _b64("-1"),
        _b64("1.5"),
        _b64("1e3"),
        _b64("0x10"),
        _b64("+1"),
        _b64(" 1"),
        _b64("1\n"),
        _b64("1_000"),  # `int` takes these three
        _b64("\u0661"),  # ARABIC-INDIC DIGIT ONE
        _b64("\uff11"),  # FULLWIDTH DIGIT ONE
        _b64(str(2**63)),  # past BIGINT
        _b64("9" * 40),
        _b64(f"2026-03-01T09:00:00+00:00|{uuid.UUID(int=1)}"),  # the earlier (time, event id) form
        "A" * 500,
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
    ],
)
async def test_a_malformed_cursor_is_a_422_naming_the_cursor(
    client: httpx.AsyncClient, ops: dict[str, str], cursor: str
) -> None:
    reply = await client.get("/events", params={"cursor": cursor}, headers=ops)
    assert reply.status_code == 422
    detail = reply.json()["detail"]
    assert len(detail) == 1
    assert detail[0]["loc"] == ["query", "cursor"]
    assert detail[0]["type"] == "value_error"
    assert isinstance(detail[0]["msg"], str) and detail[0]["msg"]


async def test_the_largest_cursor_is_well_formed(client: httpx.AsyncClient, ops: dict[str, str]) -> None:
    largest = _b64(str(2**63 - 1))
    reply = await client.get("/events", params={"cursor": largest}, headers=ops)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"items": [], "next_cursor": largest, "has_more": False}


async def test_a_cursor_from_a_previous_page_round_trips(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    events = [envelope(time=T0 + timedelta(microseconds=i)) for i in range(3)]
    await deliver_to(*events)
    first = (await client.get("/events", params={"limit": 1}, headers=ops)).json()
    cursor = first["next_cursor"]
    assert cursor and set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    second = (await client.get("/events", params={"limit": 5, "cursor": cursor}, headers=ops)).json()
    assert [item["id"] for item in first["items"] + second["items"]] == [str(e.id) for e in events]
    assert second["has_more"] is False


async def test_a_client_that_read_everything_resumes_from_its_last_cursor(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    """`next_cursor` is set on the last page too: kept, it fetches only what arrived since, never a repeat."""
    first = [envelope(time=T0 + timedelta(seconds=i)) for i in range(3)]
    await deliver_to(*first)
    read: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        body = (await client.get("/events", params=params, headers=ops)).json()
        read += [item["id"] for item in body["items"]]
        params["cursor"] = kept = body["next_cursor"]
        if not body["has_more"]:
            break
    assert read == [str(e.id) for e in first] and kept

    # Nothing new: an empty page answers the same cursor, so polling never loses its place.
    idle = (await client.get("/events", params={"cursor": kept}, headers=ops)).json()
    assert idle == {"items": [], "next_cursor": kept, "has_more": False}

    later = [envelope(time=T0 - timedelta(days=1)), envelope(time=T0 + timedelta(days=1))]  # whatever their `time`
    await deliver_to(*later)
    resumed = (await client.get("/events", params={"cursor": kept}, headers=ops)).json()
    assert [item["id"] for item in resumed["items"]] == [str(e.id) for e in later]
    assert resumed["has_more"] is False and resumed["next_cursor"] not in (None, kept)


async def test_an_empty_page_asked_from_the_start_has_no_cursor(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    await deliver_to(envelope(type="projects.partner.archived.v1", data={"partner_id": str(uuid.uuid4())}))
    body = (await client.get("/events", params={"type": "projects.partner.updated.v1"}, headers=ops)).json()
    assert body == {"items": [], "next_cursor": None, "has_more": False}


async def test_a_filtered_client_resumes_after_what_it_read(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    wanted, other = "projects.partner.archived.v1", "projects.partner.unarchived.v1"
    a = envelope(type=wanted, data={"partner_id": str(uuid.uuid4())})
    await deliver_to(a, envelope(type=other, data={"partner_id": str(uuid.uuid4())}))
    body = (await client.get("/events", params={"type": wanted}, headers=ops)).json()
    assert [item["id"] for item in body["items"]] == [str(a.id)] and body["next_cursor"]
    b = envelope(type=wanted, data={"partner_id": str(uuid.uuid4())})
    await deliver_to(envelope(type=other, data={"partner_id": str(uuid.uuid4())}), b)
    resumed = (await client.get("/events", params={"type": wanted, "cursor": body["next_cursor"]}, headers=ops)).json()
    assert [item["id"] for item in resumed["items"]] == [str(b.id)]


async def test_since_after_until_is_an_empty_range(
    client: httpx.AsyncClient, ops: dict[str, str], envelope: EnvelopeFactory, deliver_to: DeliverTo
) -> None:
    await deliver_to(envelope(time=datetime(2026, 3, 1, 12, tzinfo=UTC)))
    reply = await client.get(
        "/events", params={"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, headers=ops
    )
    assert reply.status_code == 200
    assert reply.json() == {"items": [], "next_cursor": None, "has_more": False}


@pytest.mark.parametrize("params", [{"since": "0001-01-01T00:00:00+01:00"}, {"until": "9999-12-31T23:59:59-01:00"}])
async def test_a_time_beyond_the_utc_range_bounds_nothing(
    client: httpx.AsyncClient,
    ops: dict[str, str],
    envelope: EnvelopeFactory,
    deliver_to: DeliverTo,
    params: dict[str, str],
) -> None:
    event = envelope()
    await deliver_to(event)
    reply = await client.get("/events", params=params, headers=ops)
    assert reply.status_code == 200
    assert [item["id"] for item in reply.json()["items"]] == [str(event.id)]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 501}, {"correlation_id": "nope"}, {"since": "not a time"}],
)
async def test_fastapi_validates_the_other_parameters(
    client: httpx.AsyncClient, ops: dict[str, str], params: dict[str, Any]
) -> None:
    reply = await client.get("/events", params=params, headers=ops)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"][0] == "query"


@pytest.mark.parametrize("path", ["/events", "/events/stream"])
async def test_without_a_valid_token_it_is_401(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers={"Authorization": "Bearer not-a-jwt"})).status_code == 401


@pytest.mark.parametrize("path", ["/events", "/events/stream"])
async def test_only_ops_may_read_the_log(client: httpx.AsyncClient, auth: AuthHeaders, path: str) -> None:
    for role in (Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT, Role.PARTNER):
        reply = await client.get(path, headers=auth(role))
        assert reply.status_code == 403, role
