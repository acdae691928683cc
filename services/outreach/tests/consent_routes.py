"""Who may call each route of the consent area: the area's authorisation table (see test_authorisation.py, which
checks that every served route is in one table). Coordinators only: participants have no login."""

from medic.shared.auth import Role

C = Role.COORDINATOR

ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/consent/texts"): frozenset({C}),
    ("GET", "/consent/texts"): frozenset({C}),
    ("POST", "/participants/{participant_id}/consents"): frozenset({C}),
    ("POST", "/participants/{participant_id}/consents/withdrawals"): frozenset({C}),
    ("GET", "/participants/{participant_id}/consents"): frozenset({C}),
    ("GET", "/participants/{participant_id}/consents/history"): frozenset({C}),
    ("GET", "/participants/{participant_id}/permissions"): frozenset({C}),
}
