"""Who may call each route of the webhook operations area: its authorisation table (test_authorisation.py checks that
every served route is in exactly one table; the area's own tests check each role, and 404 for another's object)."""

from medic.shared.auth import Role

PARTNER_OR_COORDINATOR = frozenset({Role.PARTNER, Role.COORDINATOR})
ENDPOINT = "/webhooks/endpoints/{endpoint_id}"
MESSAGE = ENDPOINT + "/messages/{message_id}"

ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", f"{ENDPOINT}/test"): PARTNER_OR_COORDINATOR,
    ("POST", f"{MESSAGE}/resend"): PARTNER_OR_COORDINATOR,
    ("POST", f"{ENDPOINT}/recover"): PARTNER_OR_COORDINATOR,
    ("POST", f"{ENDPOINT}/replay"): PARTNER_OR_COORDINATOR,
    ("POST", f"{ENDPOINT}/pause"): PARTNER_OR_COORDINATOR,
    ("POST", f"{ENDPOINT}/resume"): PARTNER_OR_COORDINATOR,
    ("GET", f"{ENDPOINT}/summary"): PARTNER_OR_COORDINATOR,
    ("GET", f"{ENDPOINT}/attempts"): PARTNER_OR_COORDINATOR,
    ("GET", f"{MESSAGE}/attempts"): PARTNER_OR_COORDINATOR,
}
