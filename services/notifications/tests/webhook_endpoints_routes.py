"""Who may call each route of the webhook endpoints area: its authorisation table (test_authorisation.py checks that
every served route is in exactly one table; the area's own tests check each role, and 404 for another's object)."""

from medic.shared.auth import Role

# Partner users manage their own organisation's endpoints (another's is 404); coordinators manage every partner's.
MANAGERS = frozenset({Role.COORDINATOR, Role.PARTNER})

ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/webhooks/endpoints"): MANAGERS,
    ("GET", "/webhooks/endpoints"): MANAGERS,
    ("GET", "/webhooks/endpoints/{endpoint_id}"): MANAGERS,
    ("PATCH", "/webhooks/endpoints/{endpoint_id}"): MANAGERS,
    ("DELETE", "/webhooks/endpoints/{endpoint_id}"): MANAGERS,
    ("POST", "/webhooks/endpoints/{endpoint_id}/secret/rotate"): MANAGERS,
}
