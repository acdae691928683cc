"""Every service's HTTP API, fuzzed from its own OpenAPI document (schemathesis, property-based).

Schemathesis generates requests, valid and invalid, for every operation in the document the service's app
serves, so a new endpoint is fuzzed without a test being written for it. Each operation gets the real app
(`bootstrap.build`) on a fresh SQLite file and its own broker namespace, its lifespan running (migrations, relay
or consumer). Each generated request is sent as generated (no credentials, or a made-up token), then, unless it
leaves credentials out on purpose, with a real token without roles and one for each role. Every response is
checked against the document with all of schemathesis' checks.
"""

import os
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.checks import CheckFunction
from schemathesis.python.asgi import get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.types import ASGIApp, Receive, Scope, Send

from medic.notifications.adapters.emails_repository import encode_cursor as encode_email_cursor
from medic.notifications.domain.model import MAX_SEQ, Cursor
from medic.notifications.entrypoints.http.emails import EMAIL_CURSOR_FORMAT
from medic.projects.adapters.projects_repository import encode_cursor_at
from medic.projects.entrypoints.http.projects import CURSOR_FORMAT as PROJECT_CURSOR_FORMAT
from medic.shared.auth import Role, issue_token
from medic.shared.settings import ServiceSettings
from services.outreach.tests.school_csv import CSV_FORMATS as OUTREACH_CSV_FORMATS
from services.projects.tests.setup_csv import CSV_FORMATS
from tests.harness import builder, settings_for
from tests.support import any_organisation

# Tokens we issue: one without roles, one for each role.
ROLE_SETS: tuple[tuple[Role, ...], ...] = ((), *((role,) for role in Role))
# A live tail never ends: read what it sends for this long, then check that.
STREAM_READ_S = 0.2
# Enough to cover every operation quickly in `make test`; set FUZZ_EXAMPLES higher for a deeper run.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "30"))

# Formats the documents name beyond JSON Schema's own, and how to make a valid value of each.
schemathesis.openapi.format("event-log-cursor", st.integers(0, MAX_SEQ).map(lambda seq: Cursor(seq=seq).encode()))
schemathesis.openapi.format(
    PROJECT_CURSOR_FORMAT,
    st.builds(
        lambda at, project_id: encode_cursor_at(at, project_id),
        st.datetimes(timezones=st.just(UTC)),
        st.uuids(),
    ),
)
schemathesis.openapi.format(
    EMAIL_CURSOR_FORMAT, st.builds(encode_email_cursor, st.datetimes(timezones=st.just(UTC)), st.uuids())
)
for csv_format, csv_files in CSV_FORMATS.items():  # the projects service's CSV imports: well-formed files
    schemathesis.openapi.format(csv_format, csv_files)
for csv_format, csv_files in OUTREACH_CSV_FORMATS.items():  # the outreach service's GIAS school import
    schemathesis.openapi.format(csv_format, csv_files)


class ServiceUnderTest:
    """The ASGI app schemathesis calls for one service: the real app the current test has started.

    Schemathesis needs an app when it collects the tests, before any runs. Each test then starts a real one on a
    fresh database, its lifespan on schemathesis' event loop, where the requests run too.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.settings: ServiceSettings | None = None
        self._app: ASGIApp | None = None

    def document(self) -> dict[str, Any]:
        """The OpenAPI document the service's app serves. Building an app connects to nothing."""
        build, settings_class = builder(self.name)
        unused = {"rabbitmq_url": "amqp://unused", "namespace": "unused", "database_url": "sqlite+aiosqlite://"}
        document: dict[str, Any] = build(settings_for(settings_class, **unused)).app.openapi()
        return document

    def start(self, rabbitmq_url: str, namespace: str, data_dir: Path) -> ServiceSettings:
        build, settings_class = builder(self.name)
        settings = settings_for(
            settings_class,
            rabbitmq_url=rabbitmq_url,
            namespace=namespace,
            database_url=f"sqlite+aiosqlite:///{data_dir / self.name}.db",
        )
        app = build(settings).app
        get_client(app).__enter__()  # starts the lifespan on schemathesis' event loop
        self.settings, self._app = settings, app
        return settings

    def stop(self) -> None:
        self.settings, self._app = None, None
        shutdown_lifespans()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # `start` runs the real app's lifespan
        if self._app is None:
            raise RuntimeError(f"{self.name} has not been started by the test")
        await self._app(scope, receive, send)


@pytest.fixture
def start(broker_namespace: tuple[str, str], tmp_path: Path) -> Iterator[Callable[[ServiceUnderTest], ServiceSettings]]:
    """`start(service)`: the service running for this test (once), stopped afterwards."""
    started: list[ServiceUnderTest] = []

    def start_once(service: ServiceUnderTest) -> ServiceSettings:
        if service not in started:
            service.start(*broker_namespace, tmp_path)
            started.append(service)
        assert service.settings is not None
        return service.settings

    try:
        yield start_once
    finally:
        for service in started:
            service.stop()


# Operations whose schema-valid input may still be refused with a 422 for a reason outside the document: a webhook
# URL is resolved, and refused unless its host resolves to public addresses (and generated hosts resolve to nothing).
RESOLVES_INPUT = {("POST", "/webhooks/endpoints"), ("PATCH", "/webhooks/endpoints/{endpoint_id}")}


def streams(operation: schemathesis.APIOperation[Any, Any, Any, Any]) -> bool:
    """The operation answers with an event stream, which never ends by itself."""
    responses: dict[str, dict[str, Any]] = operation.definition.raw.get("responses", {})
    return any("text/event-stream" in response.get("content", {}) for response in responses.values())


def fuzz(name: str) -> Callable[..., None]:
    """A test of every operation in the service's document."""
    service = ServiceUnderTest(name)
    schema = schemathesis.openapi.from_dict(service.document())
    schema.app = service

    @schema.parametrize()
    # One running service takes all of an operation's requests, as a real server would.
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
        database=None,  # nothing written into the checkout
    )
    def test(case: schemathesis.Case[Any], start: Callable[[ServiceUnderTest], ServiceSettings]) -> None:
        settings = start(service)
        timeout = STREAM_READ_S if streams(case.operation) else None
        excluded: list[CheckFunction] = (
            [positive_data_acceptance] if (case.method.upper(), case.path) in RESOLVES_INPUT else []
        )
        # First as generated: without credentials, or with a made-up token.
        case.call_and_validate(timeout=timeout, excluded_checks=excluded)
        if "Authorization" not in (case.headers or {}):
            return  # a request without credentials on purpose: a token would change what it tests
        for roles in ROLE_SETS:
            token = issue_token(settings, roles=roles, organisation_id=any_organisation(roles))
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"}, timeout=timeout, excluded_checks=excluded
            )

    fuzzed: Callable[..., None] = test
    return fuzzed


test_projects_api = fuzz("projects")
test_outreach_api = fuzz("outreach")
test_notifications_api = fuzz("notifications")
