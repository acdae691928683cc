"""Who may call each route of the emails area: its authorisation table (test_authorisation.py checks that every
served route is in exactly one table; the area's own tests check each role, and 404 for another's object)."""

from medic.shared.auth import Role

COORDINATOR, OPS = Role.COORDINATOR, Role.OPS

ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/emails"): frozenset({COORDINATOR, OPS}),
    ("GET", "/emails/{email_id}"): frozenset({COORDINATOR, OPS}),
    ("POST", "/emails/{email_id}/retry"): frozenset({COORDINATOR}),
    ("GET", "/emails/kinds"): frozenset({COORDINATOR, OPS}),
    ("GET", "/emails/kinds/{name}/preview"): frozenset({COORDINATOR}),
}
# Served without a token on purpose (each says why).
PUBLIC: set[tuple[str, str]] = {
    # The recipient's own link (RFC 8058 one-click unsubscribe): the signed token in the path is the credential.
    ("GET", "/emails/unsubscribe/{token}"),
    ("POST", "/emails/unsubscribe/{token}"),
    ("GET", "/emails/preferences/{token}"),
    ("PUT", "/emails/preferences/{token}"),
}
