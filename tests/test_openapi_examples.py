"""Every request body in every service's OpenAPI document comes with examples, field by field.

A front-end developer reads `/docs` to learn what to send: each field of each body, nested ones included,
shows an example (or a default). The authorisation tests build their requests from these examples too.
"""

from typing import Any

import pytest

from tests.harness import builder, settings_for

UNUSED = {"rabbitmq_url": "amqp://unused", "namespace": "unused", "database_url": "sqlite+aiosqlite://"}


def _document(service: str) -> dict[str, Any]:
    build, settings_class = builder(service)
    document: dict[str, Any] = build(settings_for(settings_class, **UNUSED)).app.openapi()
    return document


def _fields_without_examples(schema: dict[str, Any], components: dict[str, Any], where: str) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _fields_without_examples(components[name], components, where)
    missing = []
    for name, field in schema.get("properties", {}).items():
        if "examples" not in field and "example" not in field and "default" not in field:
            missing.append(f"{where}.{name}")
        for nested in (field, field.get("items", {}), *field.get("anyOf", [])):
            if "$ref" in nested or "properties" in nested:
                missing += _fields_without_examples(nested, components, f"{where}.{name}")
    return missing


@pytest.mark.parametrize("service", ["projects", "outreach", "notifications"])
def test_every_request_body_field_has_an_example(service: str) -> None:
    document = _document(service)
    components = document.get("components", {}).get("schemas", {})
    missing = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media_type, body in content.items():
                if media_type == "application/json":
                    missing += _fields_without_examples(body["schema"], components, f"{method.upper()} {path}")
                elif "example" not in body and "examples" not in body and "examples" not in body["schema"]:
                    missing.append(f"{method.upper()} {path} ({media_type})")
    assert missing == []
