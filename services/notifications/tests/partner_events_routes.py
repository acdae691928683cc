"""Who may call each route of the partner events area: its authorisation table (test_authorisation.py checks that every
served route is in exactly one table; the area's own tests check each role, and 404 for another's object)."""

from medic.shared.auth import Role

COORDINATOR, PARTNER = Role.COORDINATOR, Role.PARTNER

ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/webhooks/school-links"): frozenset({COORDINATOR, PARTNER}),  # a partner sees its own only
    ("GET", "/webhooks/school-links/{urn}"): frozenset({COORDINATOR, PARTNER}),  # another partner's: 404
    ("PUT", "/webhooks/school-links/{urn}"): frozenset({COORDINATOR}),
    ("DELETE", "/webhooks/school-links/{urn}"): frozenset({COORDINATOR}),
}
# Served without a token on purpose (each says why).
PUBLIC: set[tuple[str, str]] = {
    # The catalogue documents the API (like /asyncapi.json), names no one, and a partner's developer may have no
    # account: anyone may read it.
    ("GET", "/webhooks/event-types"),
    ("GET", "/webhooks/event-types/{name}"),
}
