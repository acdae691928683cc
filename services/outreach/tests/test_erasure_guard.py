"""A guard against forgetting a table: every table with a column naming a participant or a person (participant_id,
person_id, mentor_id, subject_id, student_id) is erased, forgotten by its area's function, or kept for aggregates
with a reason (`PARTICIPANT_DATA` in adapters/erasure_repository.py). A new table fails here until it is listed."""

from medic.outreach.adapters import orm
from medic.outreach.adapters.erasure_repository import PARTICIPANT_DATA, SUBJECT_COLUMNS, Handling


def test_every_table_naming_a_participant_or_a_person_says_what_erasure_does_to_it() -> None:
    naming = {t.name for t in orm.metadata.sorted_tables if SUBJECT_COLUMNS & set(t.columns.keys())}
    unlisted = naming - set(PARTICIPANT_DATA)
    assert not unlisted, f"say what erasure does to these tables in PARTICIPANT_DATA: {sorted(unlisted)}"
    assert set(PARTICIPANT_DATA) <= set(orm.metadata.tables), "PARTICIPANT_DATA names a table that is not there"
    for name, handling in PARTICIPANT_DATA.items():
        assert handling.why.strip(), f"{name}: say why"
        assert isinstance(handling.handling, Handling)
