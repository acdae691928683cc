"""Who may call each route of the mentoring area: the area's authorisation table (see test_authorisation.py, which
checks that every served route is in one table). Programmes, mentors and mentees are for coordinators; matches and
their sessions also for students, who see only the matches they mentor (another's is 404:
test_mentoring_authorisation.py)."""

from medic.shared.auth import Role

C, ST = Role.COORDINATOR, Role.STUDENT

ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/mentoring/programmes"): frozenset({C}),
    ("GET", "/mentoring/programmes"): frozenset({C}),
    ("GET", "/mentoring/programmes/{programme_id}"): frozenset({C}),
    ("PUT", "/mentoring/programmes/{programme_id}/mentors/{person_id}"): frozenset({C}),
    ("GET", "/mentoring/programmes/{programme_id}/mentors"): frozenset({C}),
    ("PUT", "/mentoring/programmes/{programme_id}/mentees/{participant_id}"): frozenset({C}),
    ("GET", "/mentoring/programmes/{programme_id}/mentees/{participant_id}"): frozenset({C}),
    ("GET", "/mentoring/programmes/{programme_id}/mentees/{participant_id}/suggestions"): frozenset({C}),
    ("POST", "/mentoring/matches"): frozenset({C}),
    ("GET", "/mentoring/matches"): frozenset({C, ST}),
    ("GET", "/mentoring/matches/{match_id}"): frozenset({C, ST}),
    ("POST", "/mentoring/matches/{match_id}/actions/{action}"): frozenset({C, ST}),
    ("POST", "/mentoring/matches/{match_id}/sessions"): frozenset({C, ST}),
    ("GET", "/mentoring/matches/{match_id}/sessions"): frozenset({C, ST}),
}
