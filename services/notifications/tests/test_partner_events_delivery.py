"""End to end: internal events in, signed partner events out to a real HTTP receiver on loopback, verified with the
stock `standardwebhooks` library as a partner would; only the types the endpoint subscribes to, only the partner's
own, numbered in the partner's sequence across all types."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

from medic.notifications.bootstrap import NotificationsService
from medic.shared.auth import Role, issue_token
from medic.shared.events import RawEnvelope
from tests.support import eventually

if TYPE_CHECKING:  # conftest is not importable at run time (--import-mode=importlib); fixtures hand these out
    from services.notifications.tests.conftest import ServiceWith


@dataclass
class Receiver:
    """A partner's webhook receiver: keeps each request's headers and raw body, answers 204."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hooks", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    found.url = f"http://127.0.0.1:{port}/hooks"
    try:
        yield found
    finally:
        await runner.cleanup()


def envelope(event_type: str, data: dict[str, Any], *, source: str = "/services/projects") -> RawEnvelope:
    return RawEnvelope(
        id=uuid.uuid4(),
        type=event_type,
        source=source,
        subject=None,
        time=datetime.now(UTC),
        correlationid=uuid.uuid4(),
        causationid=None,
        data=data,
    )


async def register(service: NotificationsService, partner: uuid.UUID, url: str, event_types: list[str]) -> str:
    token = issue_token(service.settings, roles=[Role.PARTNER], organisation_id=partner)
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications.test") as client:
        reply = await client.post(
            "/webhooks/endpoints",
            json={"url": url, "event_types": event_types},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert reply.status_code == 201, reply.text
    secret: str = reply.json()["secret"]
    return secret


async def test_a_partner_receives_its_subscribed_events_signed_in_its_own_sequence(
    service_with: ServiceWith, receiver: Receiver
) -> None:
    service = await service_with(WEBHOOK_ALLOW_HTTP="true", WEBHOOK_ALLOW_LOOPBACK="true")
    ours, theirs, project = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    secret = await register(service, ours, receiver.url, ["project.approved.v1", "participant.erasure_requested.v1"])
    base = {
        "project_id": str(project),
        "cohort_id": str(uuid.uuid4()),
        "group_id": str(uuid.uuid4()),
        "practice_id": str(uuid.uuid4()),
        "partner_ids": [str(ours)],
    }
    theirs_project = {**base, "project_id": str(uuid.uuid4()), "partner_ids": [str(theirs)]}
    for event in (
        envelope("projects.project.created.v1", {**base, "title": "Cook & eat", "topic": "nutrition"}),  # sequence 1
        envelope("projects.project.approved.v1", {**base, "from_state": "proposal_review", "to_state": "approved"}),
        envelope("projects.project.approved.v1", {**theirs_project, "from_state": "a", "to_state": "approved"}),
        envelope(
            "outreach.partner_erasure_notice.requested.v1",
            source="/services/outreach",
            data={"partner_id": str(ours), "participant_id": str(uuid.uuid4()), "erasure_id": str(uuid.uuid4())},
        ),
    ):
        await service.consumer.consumer.handle(event)

    async def two() -> list[tuple[dict[str, str], bytes]] | None:
        return receiver.received if len(receiver.received) >= 2 else None

    await eventually(two, timeout_s=15)
    await asyncio.sleep(0.3)  # nothing else is on its way
    assert len(receiver.received) == 2
    verified = []
    for headers, body in receiver.received:
        message = Webhook(secret).verify(body, headers)
        verified.append((message["type"], message["data"]["sequence"]))
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body.replace(b'"sequence":', b'"sequence" :'), headers)  # tampered
        data = message["data"]
        assert data["partner_id"] == str(ours)
        assert not {"group_id", "practice_id", "partner_ids"} & set(data)
        assert json.loads(body)["timestamp"]  # when it occurred; the header's timestamp is when it was sent
    assert sorted(verified) == [("participant.erasure_requested.v1", 3), ("project.approved.v1", 2)]
    [approved] = [Webhook(secret).verify(b, h) for h, b in receiver.received if b"project.approved.v1" in b]
    assert approved["data"]["title"] == "Cook & eat" and approved["data"]["to_state"] == "approved"
