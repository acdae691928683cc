"""AsyncAPI 3.0 documents of the events a service publishes and consumes, built from the contracts.

Every message is the CloudEvents-style envelope of `medic.shared.events` with `data` described by its
payload class. The document is generated here rather than by FastStream so that it states what really
travels: the events exchange and routing keys, the service's queue, and where the correlation id is.
"""

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from medic.shared.consumer import EventConsumer, Subscription
from medic.shared.contracts import ALL_EVENT_PAYLOADS
from medic.shared.events import EventPayload, RawEnvelope
from medic.shared.settings import ServiceSettings
from medic.shared.topology import ALL_EVENTS, Topology

AsyncAPIDocument = dict[str, Any]  # JSON-ready

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"
# AsyncAPI 3 requires every key under components (and the channel and operation ids) to match this.
COMPONENT_KEY = re.compile(r"^[a-zA-Z0-9.\-_]+$")
SCHEMA_REF = "#/components/schemas/{model}"
CORRELATION_ID = "correlationid"
SERVER = "rabbitmq"

# How each envelope attribute travels; this is the part of the wire format a consumer must know.
ENVELOPE_ATTRIBUTES = {
    "id": "Unique id of the event, also sent as the AMQP `message_id` property. Delivery is at least once: "
    "deduplicate on it.",
    "source": "The service that published the event.",
    "type": "The event type, `<service>.<entity>.<past-tense-verb>.v<N>`; also the routing key and the AMQP "
    "`type` property.",
    "specversion": "CloudEvents version of the envelope.",
    "time": "When the event happened (UTC).",
    "subject": "The entity the event is about, e.g. `partners/<id>`; null if none.",
    "datacontenttype": "Media type of `data`.",
    "correlationid": "Shared by every event that follows from one request; also sent as the AMQP "
    "`correlation_id` property.",
    "causationid": "Id of the event that caused this one; null if a request caused it.",
}

ENVELOPE_NOTE = (
    "A JSON envelope with CloudEvents 1.0 attribute names; `data` is the payload. Sent persistent and at least "
    "once: consumers deduplicate on `id`. Events may arrive out of order."
)

CATALOGUE: Mapping[str, type[EventPayload]] = {payload.event_type: payload for payload in ALL_EVENT_PAYLOADS}


class _AsPublished(GenerateJsonSchema):
    """Schemas of messages as they are published: `model_dump_json` writes every field, defaults and nulls
    included, so a consumer can rely on each one being present."""

    def field_is_required(self, field: Any, total: bool) -> bool:
        return True


def asyncapi_document(
    settings: ServiceSettings,
    *,
    description: str,
    publishes: Sequence[type[EventPayload]] = (),
    consumer: EventConsumer | None = None,
) -> AsyncAPIDocument:
    """The AsyncAPI 3.0 document of one service: what it publishes, and what its consumer receives."""
    topology = Topology(settings.broker_namespace)
    urls = settings.rabbitmq_urls
    vhost = _vhost(urls[0])  # a cluster's nodes serve the same virtual hosts
    consumed = _consumed_payloads(consumer.subscriptions) if consumer is not None else []
    payloads = _unique([*publishes, *consumed])
    schemas, payload_refs = _payload_schemas(payloads)

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for payload in publishes:
        channels[payload.event_type] = _routing_key_channel(payload, topology, vhost)
        operations[f"publish.{payload.event_type}"] = _publish_operation(payload)
    if consumer is not None:
        queue = topology.consumer_queue_name(consumer.name)
        channels[queue] = _queue_channel(consumer, consumed, topology, vhost)
        operations[f"consume.{queue}"] = _consume_operation(consumer, queue, consumed)

    document = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": f"{settings.service_name} service events", "version": "0.1.0", "description": description},
        "defaultContentType": "application/json",
        "servers": _servers(urls),
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": {payload.event_type: _message(payload, payload_refs[payload]) for payload in payloads},
            "correlationIds": {
                CORRELATION_ID: {
                    "description": "The envelope's `correlationid`. Publishers also set it as the AMQP "
                    "`correlation_id` message property, which carries the same value.",
                    "location": "$message.payload#/correlationid",
                }
            },
        },
    }
    _check_keys(document)
    return document


def asyncapi_page(document: AsyncAPIDocument) -> str:
    """A page rendering the document with the AsyncAPI React component (loaded from a CDN)."""
    # Inside <script>, "<" is escaped so no string in the document can close the element.
    embedded = json.dumps({"schema": document, "config": {"show": {"sidebar": True}}}).replace("<", "\\u003c")
    title = html.escape(str(document["info"]["title"]))
    component = "https://unpkg.com/@asyncapi/react-component@3.1.5"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{component}/styles/default.min.css">
</head>
<body>
<div id="asyncapi"></div>
<script src="{component}/browser/standalone/index.js"></script>
<script>AsyncApiStandalone.render({embedded}, document.getElementById("asyncapi"));</script>
</body>
</html>
"""


def _consumed_payloads(subscriptions: Mapping[str, Subscription]) -> list[type[EventPayload]]:
    """The contracts a consumer receives; a subscription without a payload type (the consumer keeps `data`
    as received) is described by the catalogue's contracts for what it is bound to."""
    consumed: list[type[EventPayload]] = []
    for binding, subscription in subscriptions.items():
        if subscription.payload_type is not None:
            consumed.append(subscription.payload_type)
        elif binding == ALL_EVENTS:
            consumed.extend(ALL_EVENT_PAYLOADS)
        elif binding in CATALOGUE:
            consumed.append(CATALOGUE[binding])
        else:
            raise ValueError(f"no contract describes the events bound by {binding!r}")
    return _unique(consumed)


def _payload_schemas(
    payloads: Sequence[type[EventPayload]],
) -> tuple[dict[str, Any], dict[type[EventPayload], dict[str, Any]]]:
    """Component schemas of the payloads and everything they use, and a `$ref` to each payload's own."""
    refs, top = models_json_schema(
        [(payload, "serialization") for payload in payloads], ref_template=SCHEMA_REF, schema_generator=_AsPublished
    )
    return top.get("$defs", {}), {payload: refs[(payload, "serialization")] for payload in payloads}


def _envelope_schema(payload: type[EventPayload], payload_ref: dict[str, Any]) -> dict[str, Any]:
    schema = RawEnvelope.model_json_schema(mode="serialization", schema_generator=_AsPublished)
    properties: dict[str, Any] = schema["properties"]
    for name, description in ENVELOPE_ATTRIBUTES.items():
        properties[name].pop("title", None)
        properties[name]["description"] = description
    properties["type"] = {**properties["type"], "const": payload.event_type}
    properties["source"] = {**properties["source"], "const": payload.source}
    properties["data"] = payload_ref  # a bare $ref: in JSON Schema draft 7 its siblings would be ignored
    return {
        "title": f"{payload.__name__} envelope",
        "type": "object",
        "properties": properties,
        "required": schema["required"],
    }


def _message(payload: type[EventPayload], payload_ref: dict[str, Any]) -> dict[str, Any]:
    summary, _, details = (payload.__doc__ or payload.event_type).strip().partition("\n")
    return {
        "name": payload.event_type,
        "title": payload.__name__,
        "summary": summary.strip(),
        "description": "\n\n".join(part for part in (details.strip(), ENVELOPE_NOTE) if part),
        "contentType": "application/json",
        "correlationId": {"$ref": f"#/components/correlationIds/{CORRELATION_ID}"},
        "payload": _envelope_schema(payload, payload_ref),
        "bindings": {"amqp": {"messageType": payload.event_type, "bindingVersion": AMQP_BINDING_VERSION}},
    }


def _message_refs(channel: str, payloads: Iterable[type[EventPayload]]) -> list[dict[str, str]]:
    return [{"$ref": f"#/channels/{channel}/messages/{payload.event_type}"} for payload in payloads]


def _channel_messages(payloads: Iterable[type[EventPayload]]) -> dict[str, Any]:
    return {payload.event_type: {"$ref": f"#/components/messages/{payload.event_type}"} for payload in payloads}


def _routing_key_channel(payload: type[EventPayload], topology: Topology, vhost: str) -> dict[str, Any]:
    exchange = topology.events_exchange
    return {
        "address": payload.event_type,
        "title": payload.event_type,
        "description": f"Routing key `{payload.event_type}` on the `{exchange.name}` exchange.",
        "messages": _channel_messages([payload]),
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {
                    "name": exchange.name,
                    "type": exchange.type.value,
                    "durable": exchange.durable,
                    "autoDelete": False,
                    "vhost": vhost,
                },
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }


def _receives(subscriptions: Mapping[str, Subscription]) -> str:
    if ALL_EVENTS in subscriptions:
        return "every event (routing key `#`), including types newer than this document"
    return ", ".join(f"`{event_type}`" for event_type in subscriptions)


def _queue_channel(
    consumer: EventConsumer, payloads: Sequence[type[EventPayload]], topology: Topology, vhost: str
) -> dict[str, Any]:
    queue = topology.consumer_queue_name(consumer.name)
    return {
        "address": queue,
        "title": queue,
        "description": (
            f"Quorum queue bound to the `{topology.events_exchange.name}` exchange for "
            f"{_receives(consumer.subscriptions)}. A message that fails is retried through "
            f"`{topology.retry_queue_name(consumer.name)}`, then dead-lettered to "
            f"`{topology.dead_letter_queue_name(consumer.name)}`."
        ),
        "messages": _channel_messages(payloads),
        "bindings": {
            "amqp": {
                "is": "queue",
                "queue": {"name": queue, "durable": True, "exclusive": False, "autoDelete": False, "vhost": vhost},
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }


def _publish_operation(payload: type[EventPayload]) -> dict[str, Any]:
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{payload.event_type}"},
        "summary": f"Publishes {payload.event_type}.",
        "description": "Written to the outbox in the transaction that makes the change, then published by the "
        "outbox relay with publisher confirms: at least once, and a retried event can follow later ones.",
        "messages": _message_refs(payload.event_type, [payload]),
        "bindings": {"amqp": {"deliveryMode": 2, "mandatory": True, "bindingVersion": AMQP_BINDING_VERSION}},
    }


def _consume_operation(consumer: EventConsumer, queue: str, payloads: Sequence[type[EventPayload]]) -> dict[str, Any]:
    return {
        "action": "receive",
        "channel": {"$ref": f"#/channels/{queue}"},
        "summary": f"Receives {_receives(consumer.subscriptions)}.",
        "description": "Each event is applied once (an inbox keyed on `id` absorbs redeliveries) and acked only "
        "after the change it makes is committed.",
        "messages": _message_refs(queue, payloads),
        "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
    }


def _servers(urls: Sequence[str]) -> dict[str, Any]:
    """One server per broker address (a cluster's nodes): `rabbitmq`, then `rabbitmq-2`, `rabbitmq-3`..."""
    names = [SERVER, *(f"{SERVER}-{position}" for position in range(2, len(urls) + 1))]
    return {name: _server(url, _vhost(url)) for name, url in zip(names, urls, strict=True)}


def _server(url: str, vhost: str) -> dict[str, Any]:
    """The broker, without credentials."""
    parts = urlsplit(url)
    return {
        "host": parts.netloc.rpartition("@")[2],
        "protocol": parts.scheme,
        "protocolVersion": "0.9.1",
        "description": f"RabbitMQ, virtual host `{vhost}`.",
        "security": [{"type": "userPassword"}],
    }


def _vhost(url: str) -> str:
    """The AMQP URI's virtual host: the path without its leading slash, percent-decoded; "/" if empty."""
    return unquote(urlsplit(url).path[1:]) or "/"


def _check_keys(document: Mapping[str, Any]) -> None:
    sections = [document["channels"], document["operations"], *document["components"].values()]
    invalid = [key for section in sections for key in section if not COMPONENT_KEY.fullmatch(key)]
    if invalid:
        raise ValueError(f"AsyncAPI keys must match {COMPONENT_KEY.pattern}: {invalid}")


def _unique(payloads: Iterable[type[EventPayload]]) -> list[type[EventPayload]]:
    return list(dict.fromkeys(payloads))
