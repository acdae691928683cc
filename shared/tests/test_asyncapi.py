"""AsyncAPI documents: what they say about channels, messages and the correlation id, checked against the
envelopes our publishers really write. The official parser validates the services' documents in
tests/test_asyncapi_documents.py."""

import json
import re
import uuid
from typing import Any

import jsonschema_rs
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from medic.shared.asyncapi import AsyncAPIDocument, asyncapi_document, asyncapi_page
from medic.shared.consumer import EventConsumer, Subscription
from medic.shared.contracts import ALL_EVENT_PAYLOADS, PartnerKind, PartnerRegisteredV1
from medic.shared.events import Envelope, RawEnvelope
from medic.shared.settings import ServiceSettings
from medic.shared.uow import UnitOfWork

REGISTERED = PartnerRegisteredV1.event_type
COMPONENT_KEY = re.compile(r"^[a-zA-Z0-9.\-_]+$")


def _settings(service: str, **values: Any) -> ServiceSettings:
    return ServiceSettings(service_name=service, broker_namespace="ns1", **values)


def _publisher() -> AsyncAPIDocument:
    return asyncapi_document(_settings("projects"), description="publishes", publishes=[PartnerRegisteredV1])


async def _record(payload: Any, envelope: RawEnvelope, uow: UnitOfWork) -> None:
    return None


def _consumer(engine: AsyncEngine, subscriptions: dict[str, Subscription], name: str = "outreach") -> EventConsumer:
    return EventConsumer(name, lambda: UnitOfWork(engine), subscriptions)


def _published_envelope() -> dict[str, Any]:
    """An envelope exactly as the outbox stores and the relay publishes it."""
    payload = PartnerRegisteredV1(partner_id=uuid.uuid4(), name="Riverside Food Bank", kind=PartnerKind.CHARITY)
    envelope = Envelope.wrap(payload, subject=f"partners/{payload.partner_id}", correlation_id=uuid.uuid4())
    body: dict[str, Any] = json.loads(envelope.model_dump_json(serialize_as_any=True))
    return body


def _message_validator(document: AsyncAPIDocument, event_type: str) -> jsonschema_rs.Validator:
    """The message's payload schema resolved inside the document, as a partner's tooling would (draft 7,
    the base of AsyncAPI schemas; formats such as uuid and date-time checked)."""
    root = {**document, "$ref": f"#/components/messages/{event_type}/payload"}
    return jsonschema_rs.Draft7Validator(root, validate_formats=True)


def _resolve(document: AsyncAPIDocument, ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_a_published_event_is_a_channel_on_the_events_exchange_with_its_routing_key() -> None:
    document = _publisher()

    channel = document["channels"][REGISTERED]
    assert channel["address"] == REGISTERED
    assert channel["bindings"]["amqp"]["is"] == "routingKey"
    assert channel["bindings"]["amqp"]["exchange"] | {"vhost": "/"} == {
        "name": "ns1.events",
        "type": "topic",
        "durable": True,
        "autoDelete": False,
        "vhost": "/",
    }
    operation = document["operations"][f"publish.{REGISTERED}"]
    assert operation["action"] == "send"
    assert _resolve(document, operation["channel"]["$ref"]) is channel
    assert operation["bindings"]["amqp"]["deliveryMode"] == 2
    assert [_resolve(document, ref["$ref"]) for ref in operation["messages"]] == [channel["messages"][REGISTERED]]


def test_the_message_is_the_envelope_with_the_contract_as_data() -> None:
    document = _publisher()

    message = _resolve(document, document["channels"][REGISTERED]["messages"][REGISTERED]["$ref"])
    envelope = message["payload"]
    assert envelope["properties"]["type"]["const"] == REGISTERED
    assert envelope["properties"]["source"]["const"] == PartnerRegisteredV1.source
    assert set(envelope["required"]) == set(Envelope.model_fields)
    data = _resolve(document, envelope["properties"]["data"]["$ref"])
    assert data["title"] == "PartnerRegisteredV1"
    assert set(data["properties"]) == set(PartnerRegisteredV1.model_fields)
    assert all(field["description"] for field in data["properties"].values())
    assert message["bindings"]["amqp"]["messageType"] == REGISTERED


def test_a_published_envelope_matches_its_message_schema_and_others_do_not() -> None:
    validator = _message_validator(_publisher(), REGISTERED)
    published = _published_envelope()

    assert list(validator.iter_errors(published)) == []
    assert not validator.is_valid({**published, "type": "projects.partner.archived.v1"})
    assert not validator.is_valid({key: value for key, value in published.items() if key != "correlationid"})
    assert not validator.is_valid({**published, "time": "yesterday"})
    assert not validator.is_valid({**published, "data": {**published["data"], "contact_email": "a@b.example"}})
    assert not validator.is_valid({**published, "data": {**published["data"], "kind": "pub"}})


def test_the_correlation_id_is_declared_where_messages_carry_it() -> None:
    document = _publisher()
    published = _published_envelope()

    message = document["components"]["messages"][REGISTERED]
    correlation = _resolve(document, message["correlationId"]["$ref"])
    location = correlation["location"]
    assert location.startswith("$message.payload#/")
    pointed_at = published
    for part in location.removeprefix("$message.payload#/").split("/"):
        pointed_at = pointed_at[part]
    assert pointed_at == published["correlationid"]
    assert "AMQP `correlation_id`" in correlation["description"]
    assert "correlationid" in message["payload"]["required"]


def test_every_envelope_attribute_is_described() -> None:
    envelope = _publisher()["components"]["messages"][REGISTERED]["payload"]
    described = {name for name, attribute in envelope["properties"].items() if attribute.get("description")}
    assert described == set(Envelope.model_fields) - {"data"}  # data is a bare $ref to the described contract


async def test_a_consumer_is_its_queue_receiving_the_contracts_it_validates(engine: AsyncEngine) -> None:
    consumer = _consumer(engine, {REGISTERED: Subscription(PartnerRegisteredV1, _record)})
    document = asyncapi_document(_settings("outreach"), description="consumes", consumer=consumer)

    channel = document["channels"]["ns1.outreach.events"]
    assert channel["address"] == "ns1.outreach.events"
    assert channel["bindings"]["amqp"]["is"] == "queue"
    assert channel["bindings"]["amqp"]["queue"]["name"] == "ns1.outreach.events"
    assert "ns1.outreach.dead-letter" in channel["description"]
    assert list(channel["messages"]) == [REGISTERED]
    operation = document["operations"]["consume.ns1.outreach.events"]
    assert operation["action"] == "receive"
    assert operation["bindings"]["amqp"]["ack"] is True
    message = _resolve(document, operation["messages"][0]["$ref"])
    assert _resolve(document, message["$ref"])["payload"]["properties"]["data"] == {
        "$ref": "#/components/schemas/PartnerRegisteredV1"
    }
    assert document["channels"].keys() == {"ns1.outreach.events"}  # it publishes nothing


async def test_a_consumer_of_every_event_receives_every_contract_in_the_catalogue(engine: AsyncEngine) -> None:
    consumer = _consumer(engine, {"#": Subscription(None, _record)}, name="notifications")
    document = asyncapi_document(_settings("notifications"), description="logs", consumer=consumer)

    channel = document["channels"]["ns1.notifications.events"]
    assert set(channel["messages"]) == {payload.event_type for payload in ALL_EVENT_PAYLOADS}
    assert set(document["components"]["messages"]) == set(channel["messages"])
    assert "every event" in channel["description"]
    assert "every event" in document["operations"]["consume.ns1.notifications.events"]["summary"]


async def test_a_subscription_no_contract_describes_is_refused(engine: AsyncEngine) -> None:
    consumer = _consumer(engine, {"projects.partner.teleported.v1": Subscription(None, _record)})
    with pytest.raises(ValueError, match="no contract describes"):
        asyncapi_document(_settings("outreach"), description="consumes", consumer=consumer)


async def test_every_key_is_a_valid_asyncapi_key_and_an_invalid_one_is_refused(engine: AsyncEngine) -> None:
    consumer = _consumer(engine, {REGISTERED: Subscription(PartnerRegisteredV1, _record)})
    document = asyncapi_document(
        _settings("outreach"), description="both", publishes=[PartnerRegisteredV1], consumer=consumer
    )
    sections = [document["channels"], document["operations"], *document["components"].values()]
    assert all(COMPONENT_KEY.fullmatch(key) for section in sections for key in section)

    consumer = _consumer(engine, {REGISTERED: Subscription(PartnerRegisteredV1, _record)}, name="out reach")
    with pytest.raises(ValueError, match="out reach"):
        asyncapi_document(_settings("outreach"), description="consumes", consumer=consumer)


def test_the_server_names_the_broker_and_virtual_host_but_never_the_credentials() -> None:
    settings = _settings("projects", RABBITMQ_URL="amqps://medic:s3cret-pass@broker.example:5671/prod%2Fevents")
    document = asyncapi_document(settings, description="publishes", publishes=[PartnerRegisteredV1])

    assert document["servers"]["rabbitmq"] | {"description": ""} == {
        "host": "broker.example:5671",
        "protocol": "amqps",
        "protocolVersion": "0.9.1",
        "description": "",
        "security": [{"type": "userPassword"}],
    }
    assert document["channels"][REGISTERED]["bindings"]["amqp"]["exchange"]["vhost"] == "prod/events"
    assert "s3cret-pass" not in json.dumps(document)
    assert "medic:" not in json.dumps(document)


def test_a_cluster_is_one_server_per_node_in_the_order_given() -> None:
    urls = "amqp://medic:s3cret@rabbit-1:5672/prod,amqp://medic:s3cret@rabbit-2:5672/prod,amqps://medic:s3cret@rabbit-3/prod"
    settings = _settings("projects", RABBITMQ_URL="amqp://single:5672/", RABBITMQ_URLS=urls)
    document = asyncapi_document(settings, description="publishes", publishes=[PartnerRegisteredV1])

    servers = document["servers"]
    assert list(servers) == ["rabbitmq", "rabbitmq-2", "rabbitmq-3"]
    assert [(server["host"], server["protocol"]) for server in servers.values()] == [
        ("rabbit-1:5672", "amqp"),
        ("rabbit-2:5672", "amqp"),
        ("rabbit-3", "amqps"),
    ]
    assert all(COMPONENT_KEY.fullmatch(name) for name in servers)
    assert document["channels"][REGISTERED]["bindings"]["amqp"]["exchange"]["vhost"] == "prod"
    assert "s3cret" not in json.dumps(document)


def test_the_page_embeds_the_document_without_letting_it_close_the_script() -> None:
    document = _publisher()
    document["info"]["title"] = "events </title><script>alert(1)</script>"
    document["info"]["description"] = "</script><script>alert(2)</script>"

    page = asyncapi_page(document)

    assert "<script>alert" not in page
    embedded = page.split("AsyncApiStandalone.render(", 1)[1].rsplit(', document.getElementById("asyncapi")', 1)[0]
    assert json.loads(embedded)["schema"] == document
