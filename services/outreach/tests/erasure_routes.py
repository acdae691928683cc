"""Who may call each route of the erasure area: the area's authorisation table (see test_authorisation.py, which
checks that every served route is in one table). Coordinators only: erasure and retention decide what the service
forgets for good."""

from medic.shared.auth import Role

C = Role.COORDINATOR

ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/participants/{participant_id}/erasure"): frozenset({C}),
    ("POST", "/safeguarding/people/{person_id}/erasure"): frozenset({C}),
    ("GET", "/erasures"): frozenset({C}),
    ("POST", "/retention/reviews"): frozenset({C}),
    ("GET", "/retention/reviews"): frozenset({C}),
    ("GET", "/retention/reviews/{review_id}"): frozenset({C}),
    ("POST", "/retention/reviews/{review_id}/items/{item_id}/keep"): frozenset({C}),
    ("POST", "/retention/reviews/{review_id}/run"): frozenset({C}),
}
