"""Who may call each route of the erasure area: the area's authorisation table (see test_authorisation.py, which
checks that every served route is in one table)."""

from medic.shared.auth import Role

ROUTES: dict[tuple[str, str], frozenset[Role]] = {}
