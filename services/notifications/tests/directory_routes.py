"""Who may call each route of the directory area: its authorisation table (test_authorisation.py checks that every
served route is in exactly one table; the area's own tests check each role, and 404 for another's object)."""

from medic.shared.auth import Role

ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/directory/contacts/{kind}/{contact_id}"): frozenset({Role.COORDINATOR}),
}
