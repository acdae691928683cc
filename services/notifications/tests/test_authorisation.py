"""Every route of the notifications API is in exactly one authorisation table, so a new route cannot go untested.

The ops event log's routes are checked here (any other role is 403, no token is 401); each other area checks its own
table in its tests, with 404 for another organisation's object.
"""

import httpx

from medic.notifications.bootstrap import NotificationsService
from medic.shared.auth import Role
from services.notifications.tests import (
    directory_routes,
    emails_routes,
    partner_events_routes,
    webhook_endpoints_routes,
    webhook_operations_routes,
)
from services.notifications.tests.conftest import AuthHeaders

OPS = Role.OPS

ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/events"): frozenset({OPS}),
    ("GET", "/events/stream"): frozenset({OPS}),
}
AREA_TABLES = tuple(
    area.ROUTES
    for area in (
        webhook_endpoints_routes,
        webhook_operations_routes,
        partner_events_routes,
        emails_routes,
        directory_routes,
    )
)
# Served without a token on purpose: health, documents, and what each area lists as public in its table module.
UNGUARDED = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/asyncapi.json"),
    *emails_routes.PUBLIC,
    *partner_events_routes.PUBLIC,
}


def test_every_route_is_in_exactly_one_table(service: NotificationsService) -> None:
    document = service.app.openapi()
    served = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    tabled = set(ROUTES).union(*AREA_TABLES)
    assert served - UNGUARDED == tabled, "add the new route to its area's table with who may call it"
    assert sum(len(table) for table in (ROUTES, *AREA_TABLES)) == len(tabled), "a route is in two tables"


async def test_the_event_log_admits_only_ops(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    wrong = []
    for (method, path), roles in ROUTES.items():
        if path.endswith("/stream"):
            continue  # an endless response: its role check is test_stream's
        if (status := (await client.request(method, path)).status_code) != 401:
            wrong.append(f"{method} {path} without a token: {status}")
        for role in Role:
            status = (await client.request(method, path, headers=auth(role))).status_code
            if (status == 200) != (role in roles) or status not in (200, 403):
                wrong.append(f"{method} {path} as {role.value}: {status}")
    assert wrong == []
