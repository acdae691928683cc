"""Outreach's partner read model: applying `projects.partner.registered.v1`, once, and listing it."""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import ValidationError

from medic.outreach.bootstrap import OutreachService, build
from medic.outreach.settings import OutreachSettings
from medic.shared.auth import Role, issue_token
from medic.shared.contracts.projects import PartnerKind, PartnerRegisteredV1
from medic.shared.events import Envelope, RawEnvelope
from tests.support import any_organisation


@pytest.fixture
async def outreach(tmp_path: Path) -> AsyncIterator[tuple[OutreachService, httpx.AsyncClient]]:
    settings = OutreachSettings(
        OUTREACH_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/outreach.db",
        BROKER_NAMESPACE=f"t-{uuid.uuid4().hex[:8]}",
    )
    service = build(settings, start_consumer=False)  # these tests hand envelopes to the consumer
    async with LifespanManager(service.app):
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://outreach") as client:
            yield service, client


def registered(name: str, **fields: object) -> RawEnvelope:
    payload = PartnerRegisteredV1(partner_id=uuid.uuid4(), name=name, kind=PartnerKind.SCHOOL, **fields)
    wire = Envelope.wrap(payload, subject=f"partners/{payload.partner_id}", correlation_id=uuid.uuid4())
    return RawEnvelope.model_validate_json(wire.model_dump_json(serialize_as_any=True))


async def listed(service: OutreachService, client: httpx.AsyncClient, role: Role = Role.STUDENT) -> httpx.Response:
    token = issue_token(service.settings, roles=[role], organisation_id=any_organisation([role]))
    return await client.get("/partners", headers={"Authorization": f"Bearer {token}"})


async def test_a_registered_partner_is_listed_once_however_often_it_arrives(
    outreach: tuple[OutreachService, httpx.AsyncClient],
) -> None:
    service, client = outreach
    envelope = registered("Hillside Primary", areas_of_work=["healthy eating"])

    assert await service.consumer.consumer.handle(envelope) is True
    assert await service.consumer.consumer.handle(envelope) is False  # redelivered: the inbox absorbs it

    reply = await listed(service, client)
    assert reply.status_code == 200
    (partner,) = reply.json()
    assert partner["id"] == str(envelope.data["partner_id"])
    assert partner["name"] == "Hillside Primary"
    assert partner["areas_of_work"] == ["healthy eating"]
    assert partner["registered_at"].endswith("Z")
    assert "contact_email" not in partner


async def test_a_payload_that_breaks_the_contract_changes_nothing(
    outreach: tuple[OutreachService, httpx.AsyncClient],
) -> None:
    service, client = outreach
    broken = registered("Valid Name").model_copy(update={"data": {"partner_id": "nope", "kind": "pub"}})

    with pytest.raises(ValidationError):
        await service.consumer.consumer.handle(broken)
    assert (await listed(service, client)).json() == []


async def test_listing_needs_a_token_and_a_role(outreach: tuple[OutreachService, httpx.AsyncClient]) -> None:
    service, client = outreach
    assert (await client.get("/partners")).status_code == 401
    assert (await listed(service, client, Role.PARTNER)).status_code == 403
    assert json.loads((await client.get("/asyncapi.json")).text)["info"]["title"] == "outreach service events"
