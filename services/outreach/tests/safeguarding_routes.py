"""Who may call each route of the safeguarding area: the area's authorisation table (see test_authorisation.py, which
checks that every served route is in one table). Coordinators do everything; a student reads their own record,
history and clearance (another's is 404, tested in test_safeguarding_authorisation.py)."""

from medic.shared.auth import Role

C, ST = Role.COORDINATOR, Role.STUDENT
PEOPLE = "/safeguarding/people"
PERSON = "/safeguarding/people/{person_id}"
CHECK = "/safeguarding/people/{person_id}/dbs-checks/{check_id}"

ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", PEOPLE): frozenset({C}),
    ("GET", PEOPLE): frozenset({C}),
    ("GET", PERSON): frozenset({C, ST}),
    ("GET", f"{PERSON}/history"): frozenset({C, ST}),
    ("GET", f"{PERSON}/clearance"): frozenset({C, ST}),
    ("POST", f"{PERSON}/dbs-checks"): frozenset({C}),
    ("POST", f"{CHECK}/update-service-checks"): frozenset({C}),
    ("POST", f"{CHECK}/verification"): frozenset({C}),
    ("POST", f"{CHECK}/void"): frozenset({C}),
    ("PUT", f"{PERSON}/renewal"): frozenset({C}),
    ("POST", f"{PERSON}/training"): frozenset({C}),
    ("PUT", f"{PERSON}/leaving"): frozenset({C}),
    ("GET", "/safeguarding/reports/cleared"): frozenset({C}),
}
