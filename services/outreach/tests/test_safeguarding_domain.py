"""The safeguarding record as a fold of its history, clearance as a pure function of it, reminders, and the actions
allowed, property-tested with hypothesis."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medic.outreach.domain.dates import add_years
from medic.outreach.domain.history import HistoryEvent, Stream
from medic.outreach.domain.safeguarding import (
    THRESHOLDS,
    Action,
    ContactKind,
    DbsLevel,
    EventType,
    InvalidSafeguarding,
    SafeguardingRecord,
    SafeguardingRefused,
    SeenHow,
    StatusResult,
    VoidReason,
    Workforce,
    certificate_digest,
    check_recorded,
    digest_matches,
    fold,
    kept_after_erasure,
    options,
    require,
    status_checked,
    training_recorded,
)
from medic.outreach.domain.safeguarding_clearance import clearance_of
from medic.outreach.domain.safeguarding_reminders import ReminderKind, reminders_due, threshold_reached

PERSON = "2301234"
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
DAY = date(2026, 6, 1)
UNSUPERVISED, SUPERVISED = ContactKind.UNSUPERVISED_OR_REGULAR, ContactKind.SUPERVISED_OCCASIONAL


def event(type_: str, data: dict[str, Any], n: int = 0) -> HistoryEvent:
    return HistoryEvent(n, uuid.uuid4(), Stream.SAFEGUARDING, PERSON, type_, T0 + timedelta(minutes=n), "c1", data)


def history(*changes: tuple[str, dict[str, Any]]) -> list[HistoryEvent]:
    return [event(t, d, n) for n, (t, d) in enumerate([(EventType.REGISTERED, {}), *changes])]


def a_check(
    level: DbsLevel = DbsLevel.ENHANCED_BARRED_CHILDREN,
    workforce: Workforce = Workforce.CHILD,
    issued_on: date = date(2025, 1, 10),
    check_id: uuid.UUID | None = None,
    years: int = 3,
) -> tuple[str, dict[str, Any]]:
    [(type_, data)] = check_recorded(
        check_id=check_id or uuid.uuid4(),
        level=level,
        workforce=workforce,
        issued_on=issued_on,
        seen_how=SeenHow.ORIGINAL_CERTIFICATE,
        status_checked_on=None,
        status_result=None,
        today=issued_on,
        recheck_years=years,
    )
    return type_, data


def training(completed_on: date = date(2025, 9, 1), expires_on: date = date(2028, 9, 1)) -> tuple[str, dict[str, Any]]:
    return training_recorded(
        training_id=uuid.uuid4(), completed_on=completed_on, expires_on=expires_on, today=max(DAY, completed_on)
    )


def cleared_record(**check: Any) -> SafeguardingRecord:
    return fold(PERSON, history(a_check(**check), training()))


def codes(record: SafeguardingRecord, contact: ContactKind, on: date = DAY) -> set[str]:
    return {u.code for u in clearance_of(record, contact, on).unmet}


def test_a_full_check_and_training_clear_for_both_kinds_of_contact() -> None:
    record = cleared_record()
    for contact in ContactKind:
        answer = clearance_of(record, contact, DAY)
        assert answer.cleared and answer.unmet == () and answer.recheck_due_on == date(2028, 1, 10)


def test_an_unregistered_person_is_not_cleared_and_told_why() -> None:
    answer = clearance_of(SafeguardingRecord(PERSON), UNSUPERVISED, DAY)
    assert not answer.cleared and [u.code for u in answer.unmet] == ["no_safeguarding_record"]


def test_a_recheck_overdue_or_a_wrong_workforce_does_not_clear_unsupervised_contact_and_says_why() -> None:
    overdue = cleared_record(issued_on=date(2023, 1, 10))  # due 2026-01-10
    assert codes(overdue, UNSUPERVISED) == {"dbs_recheck_due"}
    message = clearance_of(overdue, UNSUPERVISED, DAY).unmet[0].message
    assert "2026-01-10" in message
    adult = cleared_record(workforce=Workforce.ADULT)
    assert codes(adult, UNSUPERVISED) == {"dbs_workforce"}
    assert codes(adult, SUPERVISED) == set()  # supervised, occasional: any enhanced check
    no_barred = cleared_record(level=DbsLevel.ENHANCED, workforce=Workforce.OTHER)
    assert codes(no_barred, UNSUPERVISED) == {"dbs_barred_list", "dbs_workforce"}
    assert codes(cleared_record(level=DbsLevel.STANDARD), SUPERVISED) == {"dbs_level"}


def test_every_unmet_condition_is_listed() -> None:
    record = fold(
        PERSON,
        history(
            a_check(level=DbsLevel.BASIC, workforce=Workforce.ADULT, issued_on=date(2022, 1, 1)),
            training(date(2023, 1, 1), date(2024, 1, 1)),
            (EventType.LEFT, {"left_on": "2026-05-01"}),
        ),
    )
    assert codes(record, UNSUPERVISED) == {
        "dbs_level",
        "dbs_workforce",
        "dbs_recheck_due",
        "training_expired",
        "person_left",
    }


def test_a_void_a_changed_status_and_a_later_issue_do_not_count_and_no_change_moves_the_recheck_on() -> None:
    check_id = uuid.uuid4()
    base = [a_check(check_id=check_id, issued_on=date(2023, 1, 10)), training()]
    assert codes(fold(PERSON, history(*base)), UNSUPERVISED) == {"dbs_recheck_due"}
    renewed = status_checked(
        check_id=check_id,
        issued_on=date(2023, 1, 10),
        checked_on=date(2025, 12, 1),
        result=StatusResult.NO_CHANGE,
        today=DAY,
        recheck_years=3,
    )
    assert codes(fold(PERSON, history(*base, renewed)), UNSUPERVISED) == set()
    assert clearance_of(fold(PERSON, history(*base, renewed)), UNSUPERVISED, DAY).recheck_due_on == date(2028, 12, 1)
    changed = status_checked(
        check_id=check_id,
        issued_on=date(2023, 1, 10),
        checked_on=date(2025, 12, 2),
        result=StatusResult.CHANGED,
        today=DAY,
        recheck_years=3,
    )
    assert "dbs_status_changed" in codes(fold(PERSON, history(*base, renewed, changed)), UNSUPERVISED)
    voided = (EventType.CHECK_VOIDED, {"check_id": str(check_id), "reason": VoidReason.RECORDED_IN_ERROR.value})
    assert codes(fold(PERSON, history(*base, renewed, voided)), UNSUPERVISED) == {"no_dbs_check"}
    later = [a_check(issued_on=date(2026, 7, 1)), training()]
    assert codes(fold(PERSON, history(*later)), UNSUPERVISED) == {"no_dbs_check"}


def test_input_contradicting_itself_or_today_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidSafeguarding) as future:
        check_recorded(
            check_id=uuid.uuid4(),
            level=DbsLevel.ENHANCED,
            workforce=Workforce.CHILD,
            issued_on=DAY + timedelta(days=1),
            seen_how=SeenHow.ORIGINAL_CERTIFICATE,
            status_checked_on=None,
            status_result=None,
            today=DAY,
            recheck_years=3,
        )
    assert future.value.field == "issued_on"
    with pytest.raises(InvalidSafeguarding) as missing:
        check_recorded(
            check_id=uuid.uuid4(),
            level=DbsLevel.ENHANCED,
            workforce=Workforce.CHILD,
            issued_on=DAY,
            seen_how=SeenHow.UPDATE_SERVICE,
            status_checked_on=None,
            status_result=None,
            today=DAY,
            recheck_years=3,
        )
    assert missing.value.field == "status_checked_on"
    with pytest.raises(InvalidSafeguarding) as backwards:
        training_recorded(training_id=uuid.uuid4(), completed_on=DAY, expires_on=DAY, today=DAY)
    assert backwards.value.field == "expires_on"


def test_the_certificate_digest_is_keyed_and_verifies_only_the_same_number() -> None:
    digest = certificate_digest("001234567890", b"k1")
    assert len(digest) == 64 and "001234567890" not in digest and "7890" not in digest
    assert digest != certificate_digest("001234567890", b"k2")
    assert digest_matches("001234567890", b"k1", digest)
    assert not digest_matches("001234567891", b"k1", digest) and not digest_matches("x", b"k1", digest)


def test_actions_as_data_refuse_with_the_reason_and_what_is_allowed() -> None:
    record = cleared_record()
    assert Action.REGISTER not in options(record) and Action.START_RENEWAL in options(record)
    with pytest.raises(SafeguardingRefused) as refused:
        require(record, Action.STOP_RENEWAL)
    assert refused.value.reason == "no renewal is in progress" and Action.START_RENEWAL in refused.value.allowed
    assert options(SafeguardingRecord(PERSON)) == [Action.REGISTER]


def test_erasure_keeps_types_codes_and_dates_only() -> None:
    [recorded] = history(a_check())[1:]
    kept = kept_after_erasure(recorded)
    assert kept is not None and set(kept) == {
        "check_id",
        "level",
        "workforce",
        "issued_on",
        "seen_how",
        "recheck_due_on",
    }
    assert kept_after_erasure(event("something_else", {"note": "free text"})) is None


def test_reminders_fire_at_the_nearest_threshold_and_lapse_on_the_day() -> None:
    record = cleared_record(issued_on=date(2023, 6, 30))  # due 2026-06-30
    due = date(2026, 6, 30)
    assert reminders_due(record, due - timedelta(days=31)) == []
    [thirty] = [r for r in reminders_due(record, due - timedelta(days=30)) if r.kind is ReminderKind.DBS_RECHECK]
    assert thirty.days_before == 30 and thirty.key == f"dbs_recheck:{PERSON}:2026-06-30:30"
    [ten] = [r for r in reminders_due(record, due - timedelta(days=10)) if r.kind is ReminderKind.DBS_RECHECK]
    assert ten.days_before == 14  # down past 30: only the nearest not yet passed
    [lapsed] = [r for r in reminders_due(record, due) if r.kind is ReminderKind.DBS_LAPSED]
    assert lapsed.key == f"dbs_lapsed:{PERSON}:2026-06-30"
    paused = fold(PERSON, history(a_check(issued_on=date(2023, 6, 30)), training(), (EventType.RENEWAL_STARTED, {})))
    assert [r.kind for r in reminders_due(paused, due - timedelta(days=7))] == []
    assert [r.kind for r in reminders_due(paused, due)] == [ReminderKind.DBS_LAPSED]


# --- properties ---------------------------------------------------------------------------------------------------

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
levels, workforces = st.sampled_from(DbsLevel), st.sampled_from(Workforce)


@st.composite
def records(draw: st.DrawFn) -> SafeguardingRecord:
    changes: list[tuple[str, dict[str, Any]]] = []
    ids = []
    for _ in range(draw(st.integers(0, 3))):
        check_id = uuid.uuid4()
        ids.append(check_id)
        changes.append(a_check(draw(levels), draw(workforces), draw(days), check_id, draw(st.integers(1, 5))))
    for check_id in ids:
        if draw(st.booleans()):
            changes.append((EventType.CHECK_VOIDED, {"check_id": str(check_id), "reason": "duplicate"}))
    for _ in range(draw(st.integers(0, 2))):
        completed = draw(days)
        changes.append(training(completed, completed + timedelta(days=draw(st.integers(1, 1500)))))
    if draw(st.booleans()):
        changes.append((EventType.LEFT, {"left_on": draw(days).isoformat()}))
    return fold(PERSON, history(*changes))


@settings(max_examples=300, deadline=None)
@given(records(), days, st.sampled_from(ContactKind))
def test_cleared_exactly_when_nothing_is_unmet_and_each_unmet_is_named(
    record: SafeguardingRecord, on: date, contact: ContactKind
) -> None:
    answer = clearance_of(record, contact, on)
    assert answer.cleared == (answer.unmet == ())
    assert all(u.code and u.message and u.subject == PERSON for u in answer.unmet)
    assert len({u.code for u in answer.unmet}) == len(answer.unmet)


@settings(max_examples=300, deadline=None)
@given(records(), days)
def test_unsupervised_clearance_implies_supervised_clearance(record: SafeguardingRecord, on: date) -> None:
    if clearance_of(record, UNSUPERVISED, on).cleared:
        assert clearance_of(record, SUPERVISED, on).cleared


@settings(max_examples=300, deadline=None)
@given(records(), days, st.sampled_from(ContactKind), levels, workforces, st.integers(1, 400))
def test_a_check_issued_after_the_day_changes_nothing(
    record: SafeguardingRecord, on: date, contact: ContactKind, level: DbsLevel, workforce: Workforce, later: int
) -> None:
    type_, data = a_check(level, workforce, on + timedelta(days=later))
    after = fold(PERSON, [*history()[:0], *_replay(record), event(type_, data, 99)])
    before = clearance_of(record, contact, on)
    assert clearance_of(after, contact, on).unmet == before.unmet


def _replay(record: SafeguardingRecord) -> list[HistoryEvent]:
    """The events that fold to `record` (checks, voids, training, leaving) in a fresh order."""
    changes: list[tuple[str, dict[str, Any]]] = []
    for c in record.checks:
        changes.append(
            (
                EventType.CHECK_RECORDED,
                {
                    "check_id": str(c.check_id),
                    "level": c.level.value,
                    "workforce": c.workforce.value,
                    "issued_on": c.issued_on.isoformat(),
                    "seen_how": c.seen_how.value,
                    "recheck_due_on": c.recheck_due_on.isoformat(),
                },
            )
        )
        if c.voided:
            changes.append((EventType.CHECK_VOIDED, {"check_id": str(c.check_id), "reason": c.voided.value}))
    for t in record.trainings:
        changes.append(
            (
                EventType.TRAINING_RECORDED,
                {
                    "training_id": str(t.training_id),
                    "completed_on": t.completed_on.isoformat(),
                    "expires_on": t.expires_on.isoformat(),
                },
            )
        )
    if record.left_on:
        changes.append((EventType.LEFT, {"left_on": record.left_on.isoformat()}))
    return history(*changes)


@settings(max_examples=300, deadline=None)
@given(records(), days)
def test_voiding_every_check_leaves_no_one_cleared(record: SafeguardingRecord, on: date) -> None:
    voids = [
        event(EventType.CHECK_VOIDED, {"check_id": str(c.check_id), "reason": "wrong_person"}, 200 + i)
        for i, c in enumerate(record.checks)
    ]
    after = fold(PERSON, [*_replay(record), *voids])
    for contact in ContactKind:
        assert "no_dbs_check" in {u.code for u in clearance_of(after, contact, on).unmet}


@settings(max_examples=300, deadline=None)
@given(records(), days)
def test_reminders_name_one_threshold_and_stop_for_people_who_left(record: SafeguardingRecord, today: date) -> None:
    due = reminders_due(record, today)
    assert len({r.key for r in due}) == len(due) <= 2
    for reminder in due:
        assert reminder.days_before in (None, *THRESHOLDS)
        days_left = (reminder.due_on - today).days
        if reminder.days_before is None:
            assert days_left <= 0
        else:
            assert reminder.days_before == threshold_reached(days_left)
    if record.left_on is not None and record.left_on <= today:
        assert due == []


@given(days, st.integers(1, 10))
def test_add_years_lands_on_the_same_day_or_the_28th(day: date, years: int) -> None:
    later = add_years(day, years)
    assert later.year == day.year + years and later.month == day.month
    assert later.day == day.day or (day.month, day.day, later.day) == (2, 29, 28)
