"""Who may call each route of the emails area: its authorisation table (test_authorisation.py checks that every
served route is in exactly one table; the area's own tests check each role, and 404 for another's object)."""

from medic.shared.auth import Role

ROUTES: dict[tuple[str, str], frozenset[Role]] = {}
# Served without a token on purpose (each says why).
PUBLIC: set[tuple[str, str]] = set()
