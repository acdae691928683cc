"""Activity rules without I/O: what an activity may be, and the hours attendance records."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medic.outreach.domain.activities import Activity, ActivityConflict, InvalidActivity, attended_hours
from medic.shared.contracts.outreach.activities import ActivityKind, Attendance, HostKind

START = datetime(2027, 2, 6, 10, 0, tzinfo=UTC)


def activity(**fields: object) -> Activity:
    values: dict[str, object] = {
        "cycle_id": uuid.uuid4(),
        "kind": ActivityKind.WORKSHOP,
        "title": "  Interview   practice ",
        "starts_at": START,
        "ends_at": START + timedelta(hours=5, minutes=40),
        "place": "Room 1",
        "host_kind": None,
        "capacity": 20,
        **fields,
    }
    return Activity.create(**values)  # type: ignore[arg-type]


def test_an_activity_is_cleaned_and_its_hours_are_quarter_hours() -> None:
    made = activity()
    assert made.title == "Interview practice" and made.hours == Decimal("5.5") and made.free_places == 20


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": ActivityKind.WORK_EXPERIENCE, "host_kind": HostKind.GP_PRACTICE, "capacity": 5}, "capacity"),
        ({"kind": ActivityKind.WORK_EXPERIENCE}, "host_kind"),
        ({"host_kind": HostKind.HOSPITAL_DEPARTMENT}, "host_kind"),
        ({"ends_at": START}, "ends_at"),
        ({"ends_at": START + timedelta(days=6)}, "ends_at"),
        ({"starts_at": START.replace(tzinfo=None)}, "starts_at"),
        ({"capacity": 0}, "capacity"),
        ({"title": " "}, "title"),
        ({"place": "x" * 201}, "place"),
    ],
)
def test_bad_activities_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidActivity) as refused:
        activity(**fields)
    assert refused.value.field == field


def test_a_placement_in_pairs_at_a_host() -> None:
    made = activity(kind=ActivityKind.WORK_EXPERIENCE, host_kind=HostKind.GP_PRACTICE, capacity=6)
    assert made.host_kind is HostKind.GP_PRACTICE


def test_attendance_hours() -> None:
    made, later = activity(), START + timedelta(hours=1)
    assert attended_hours(made, Attendance.PRESENT, None, later) == Decimal("5.5")
    assert attended_hours(made, Attendance.ABSENT, None, later) == 0
    assert attended_hours(made, Attendance.LATE, Decimal("4.25"), later) == Decimal("4.25")
    for attendance, hours in [
        (Attendance.LATE, None),
        (Attendance.WITHDRAWN, Decimal("5.75")),
        (Attendance.ABSENT, Decimal(1)),
        (Attendance.PRESENT, Decimal("0.1")),
    ]:
        with pytest.raises(InvalidActivity):
            attended_hours(made, attendance, hours, later)
    with pytest.raises(ActivityConflict):
        attended_hours(made, Attendance.PRESENT, None, START - timedelta(seconds=1))


@given(st.sampled_from(Attendance), st.integers(min_value=0, max_value=40))
def test_recorded_hours_never_exceed_the_activity(attendance: Attendance, quarters: int) -> None:
    made = activity()
    try:
        hours = attended_hours(made, attendance, Decimal("0.25") * quarters, START)
    except InvalidActivity:
        return
    assert 0 <= hours <= made.hours
