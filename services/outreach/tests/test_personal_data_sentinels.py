"""No personal data leaves outreach: sentinel values sent through every route reach no message on the broker, no
outbox row and no log line.

First a walk through each area with sentinels in every personal or free-text field it takes (a school's contact,
a teacher's comments, a student's reflection, a cancellation reason, an applicant's details and answers, a
referee's answer, a withdrawal reason). Then every route that takes a JSON body is called again, aimed at the walk's
objects, with each free string of its example body replaced by a sentinel, so a route added later is covered
without anyone remembering to. The relay publishes to the real broker, where a queue bound to every event type
collects what was published.
"""

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy import func, select

from medic.outreach.adapters import orm
from medic.shared.auth import Role
from medic.shared.outbox import OutboxState
from medic.shared.topology import Topology, declare_event_exchanges, delete_namespace
from services.outreach.tests import primary_support as primary
from services.outreach.tests import watcch_support as watcch
from services.outreach.tests.safeguarding_support import clear
from services.outreach.tests.school_support import BACKENDS, SCHOOL, Outreach, running_outreach
from tests import infra
from tests.support import eventually, example_value

SWEEP_TEXT = "Sentinel-Xyloquartz-free-text"
CONTACT = {"name": "Ms Sentinel Vexworthy", "email": "vexworthy.sentinel@aldgate.example.sch.uk", "role": "teacher"}
TYPED = {
    "comments": "Sentinel-teacher-comment-Brambleclaw",
    "reflection": "Sentinel-reflection-Marrowdusk",
    "cancel": "Sentinel-cancel-reason-Fennelwick",
    "withdraw": "Sentinel-withdrawal-Quorndale",
}


@asynccontextmanager
async def collecting(url: str, namespace: str) -> AsyncIterator[list[AbstractIncomingMessage]]:
    """Every event published in `namespace` while inside, from a queue of our own; the namespace's exchanges
    are deleted afterwards (the queue goes with the connection)."""
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        topology = Topology(namespace)
        await declare_event_exchanges(channel, topology)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(topology.events_exchange.name, routing_key="#")
        received: list[AbstractIncomingMessage] = []

        async def keep(message: AbstractIncomingMessage) -> None:
            received.append(message)
            await message.ack()

        await queue.consume(keep)
        try:
            yield received
        finally:
            await delete_namespace(channel, topology, services=[])


async def _walk_every_area(app: Outreach) -> dict[str, str]:
    """The areas used as their people would, sentinels in every personal field; returns the objects' ids by the
    path parameter names the routes use."""
    coordinator = app.coordinator
    await app.register(**{**SCHOOL, "phase": "all_through"})
    assert (await app.client.put(f"/schools/{SCHOOL['urn']}/contact", json=CONTACT, headers=coordinator)).is_success

    term = await primary.term(app)
    session = await primary.plan(app, term["id"])
    await primary.act(app, session["id"], "review_plan")
    sessions = f"/primary/sessions/{session['id']}"
    delivery = {"pupils": 28, "classes": 1, "teacher_present_throughout": True}
    await clear(app, primary.STUDENT)  # a delivering student must be cleared for contact with children
    assert (await app.client.post(f"{sessions}/delivery", json=delivery, headers=coordinator)).is_success
    feedback = {"form_version": 1, "scores": primary.TEACHER_SCORES, "comments": TYPED["comments"]}
    assert (await app.client.put(f"{sessions}/teacher-feedback", json=feedback, headers=coordinator)).is_success
    student = primary.token(app, Role.STUDENT, primary.STUDENT)
    reflection = {"text": TYPED["reflection"]}
    assert (await app.client.put(f"{sessions}/reflection", json=reflection, headers=student)).is_success
    cancelled = await primary.plan(app, term["id"])
    await primary.act(app, cancelled["id"], "cancel", reason=TYPED["cancel"])

    cycle = await watcch.open_cycle(app, capacity=2)
    public = await app.client.post("/watcch/applications", json=watcch.application_body(cycle["id"]))
    assert public.status_code == 201, public.text
    entered = await watcch.enter(app, cycle["id"])
    link = await app.client.post(f"/watcch/applications/{entered['id']}/referee-link", headers=coordinator)
    token = link.json()["token"]
    assert (await app.client.post(f"/watcch/referee/{token}", json={"answer": "confirmed"})).is_success
    withdrawn = await watcch.enter(app, cycle["id"])
    assert (await watcch.act(app, withdrawn["id"], "withdraw", reason=TYPED["withdraw"])).is_success
    return {
        "urn": SCHOOL["urn"],
        "term_id": term["id"],
        "session_id": session["id"],
        "topic_id": session["topic_id"],
        "kind": "teacher",
        "cycle_id": cycle["id"],
        "application_id": entered["id"],
        "participant_id": entered["participant_id"],
        "token": token,
    }


async def _sweep_every_route(app: Outreach, ids: dict[str, str]) -> None:
    """Every route taking JSON, called as a coordinator with its free strings replaced by SWEEP_TEXT; whatever
    it answers, it must not be a 500."""
    document = app.service.app.openapi()
    components = document.get("components", {}).get("schemas", {})
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            body = example_value(content["application/json"]["schema"], components, free_text=SWEEP_TEXT)
            target = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)
            response = await app.client.request(method.upper(), target, json=body, headers=app.coordinator)
            assert response.status_code < 500, (method, path, response.text)


async def _all_published(app: Outreach, received: list[AbstractIncomingMessage]) -> int:
    """How many events the outbox holds once every one is published and has arrived; else 0."""
    async with app.service.engine.connect() as connection:
        pending = select(func.count()).where(orm.outbox.c.state != OutboxState.PUBLISHED.value)
        if (await connection.execute(pending)).scalar_one():
            return 0
    rows = await app.outbox()
    return len(rows) if len(received) >= len(rows) else 0


@pytest.mark.parametrize("backend", BACKENDS)
async def test_no_personal_data_reaches_the_broker_the_outbox_or_the_logs(
    backend: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    rabbitmq_url, _ = infra.rabbitmq_url()
    namespace = f"t-{uuid.uuid4().hex[:10]}"
    async with (
        collecting(rabbitmq_url, namespace) as received,
        running_outreach(backend, tmp_path, broker=(rabbitmq_url, namespace)) as app,
    ):
        ids = await _walk_every_area(app)
        await _sweep_every_route(app, ids)
        published = await eventually(lambda: _all_published(app, received))
        outbox = await app.outbox()

    assert published >= 10 and {t for t, _ in outbox} >= {
        "outreach.school.registered.v1",
        "outreach.session.delivered.v1",
        "outreach.watcch_application.withdrawn.v1",
    }
    logged = "".join(capfd.readouterr())
    assert "/watcch/applications" in logged  # the request log is captured, so it is what is searched
    on_the_bus = [m.body.decode() + repr(m.headers) for m in received]
    sentinels = [
        SWEEP_TEXT,
        *CONTACT.values(),
        *TYPED.values(),
        *watcch.SENTINELS.values(),
        watcch.ANSWER,
        "E1 6AN",  # the applicant's home postcode
        ids["token"],
    ]
    sentinels.remove("teacher")  # the contact's role is not personal
    for where, texts in (("bus", on_the_bus), ("outbox", [b for _, b in outbox]), ("log", [logged])):
        leaked = {s for s in sentinels for text in texts if s.lower() in text.lower()}
        assert not leaked, f"personal data in the {where}: {leaked}"
