"""Consent validity as a pure fold of the history, property-tested: the latest record for each party, scope and
partner stands; a withdrawal takes effect at once; expiry ends with its last day; whose consent is needed by age."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medic.outreach.domain.consent import (
    GIVEN,
    WITHDRAWN,
    ConsentConflict,
    ConsentMethod,
    ConsentPolicy,
    ConsentScope,
    ExpiryKind,
    GiveConsent,
    InvalidConsent,
    Party,
    WithdrawConsent,
    check,
    check_given,
    expiry_due,
    fold,
    guardian_needed,
    needed_parties,
    partners_ever_named,
    valid_partners,
    withdrawal_data,
)
from medic.outreach.domain.history import HistoryEvent, Stream

P = uuid.UUID(int=1)
PARTNERS = [uuid.UUID(int=100 + n) for n in range(3)]
DAY0 = date(2027, 1, 1)
T0 = datetime(2027, 1, 1, 9, tzinfo=UTC)
CODES = {"consent_missing", "guardian_consent_missing", "consent_withdrawn", "consent_expired", "partner_not_named"}
BOTH = (Party.PARTICIPANT, Party.GUARDIAN)


def event(seq: int, type_: str, data: dict[str, Any]) -> HistoryEvent:
    return HistoryEvent(seq, uuid.uuid4(), Stream.CONSENT, str(P), type_, T0 + timedelta(hours=seq), "c1", data)


def given_event(seq: int, party: Party, scope: ConsentScope, expires_on: date | None = None,
                partners: list[uuid.UUID] | None = None) -> HistoryEvent:  # fmt: skip
    data = {"party": party.value, "scope": scope.value, "partner_ids": [str(p) for p in partners or []],
            "text_version": 1, "method": "online_form", "form_dated_on": None,
            "expires_on": None if expires_on is None else expires_on.isoformat()}  # fmt: skip
    return event(seq, GIVEN, data)


def withdrawn_event(
    seq: int, party: Party, scope: ConsentScope, partners: list[uuid.UUID] | None = None
) -> HistoryEvent:
    data = {"party": party.value, "scope": scope.value, "partner_ids": [str(p) for p in partners or []],
            "method": "email", "form_dated_on": None}  # fmt: skip
    return event(seq, WITHDRAWN, data)


# One record: (given?, party, scope, partner index, expiry offset in days or None)
records = st.lists(
    st.tuples(
        st.booleans(),
        st.sampled_from(list(Party)),
        st.sampled_from(list(ConsentScope)),
        st.integers(0, len(PARTNERS) - 1),
        st.none() | st.integers(-5, 30),
    ),
    max_size=25,
)


def history_of(recorded: list[tuple[bool, Party, ConsentScope, int, int | None]]) -> list[HistoryEvent]:
    out = []
    for seq, (is_given, party, scope, partner, expiry) in enumerate(recorded):
        partners = [PARTNERS[partner]] if scope is ConsentScope.PARTNER_SHARING else None
        if is_given:
            expires_on = None if expiry is None else DAY0 + timedelta(days=expiry)
            out.append(given_event(seq, party, scope, expires_on, partners))
        else:
            out.append(withdrawn_event(seq, party, scope, partners))
    return out


def model_valid(recorded: list[tuple[bool, Party, ConsentScope, int, int | None]], scope: ConsentScope,
                on: date, parties: tuple[Party, ...], partner: int) -> bool:  # fmt: skip
    """The rule, said the simple way: the latest record of each needed party is a consent given, unexpired."""
    for party in parties:
        latest = [r for r in recorded if (r[1], r[2]) == (party, scope)
                  and (scope is not ConsentScope.PARTNER_SHARING or r[3] == partner)]  # fmt: skip
        if not latest or not latest[-1][0]:
            return False
        expiry = latest[-1][4]
        if expiry is not None and on > DAY0 + timedelta(days=expiry):
            return False
    return True


@given(records, st.sampled_from(list(ConsentScope)), st.integers(-3, 35), st.booleans(), st.integers(0, 2))
def test_validity_is_the_latest_record_of_every_needed_party(
    recorded: list[tuple[bool, Party, ConsentScope, int, int | None]], scope: ConsentScope, offset: int,
    guardian: bool, partner: int,
) -> None:  # fmt: skip
    on = DAY0 + timedelta(days=offset)
    parties = BOTH if guardian else (Party.PARTICIPANT,)
    standing = fold(history_of(recorded))
    partner_id = PARTNERS[partner] if scope is ConsentScope.PARTNER_SHARING else None
    result = check(P, standing, [scope], on, parties, partner_id=partner_id)
    assert result.valid == model_valid(recorded, scope, on, parties, partner)
    assert result.valid == (result.unmet == ())
    assert {u.code for u in result.unmet} <= CODES and all(u.subject == str(P) for u in result.unmet)


@given(records, st.sampled_from(list(Party)), st.sampled_from(list(ConsentScope)), st.integers(-3, 35))
def test_a_withdrawal_takes_effect_at_once_whatever_came_before(
    recorded: list[tuple[bool, Party, ConsentScope, int, int | None]], party: Party, scope: ConsentScope, offset: int
) -> None:
    events = history_of(recorded)
    partners = PARTNERS if scope is ConsentScope.PARTNER_SHARING else None
    events.append(withdrawn_event(len(events), party, scope, partners))
    standing = fold(events)
    on = DAY0 + timedelta(days=offset)
    parties = BOTH if party is Party.GUARDIAN else (Party.PARTICIPANT,)
    assert not check(P, standing, [scope], on, parties).valid
    if scope is ConsentScope.PARTNER_SHARING:
        assert valid_partners(standing, on, parties) == set()


@given(records, st.integers(-3, 35))
def test_consent_given_again_by_every_party_is_valid_until_its_last_day(
    recorded: list[tuple[bool, Party, ConsentScope, int, int | None]], last: int
) -> None:
    events = history_of(recorded)
    expires_on = DAY0 + timedelta(days=last)
    for party in BOTH:
        events.append(given_event(len(events), party, ConsentScope.RESEARCH, expires_on))
    standing = fold(events)
    assert check(P, standing, [ConsentScope.RESEARCH], expires_on, BOTH).valid
    expired = check(P, standing, [ConsentScope.RESEARCH], expires_on + timedelta(days=1), BOTH)
    assert [u.code for u in expired.unmet] == ["consent_expired", "consent_expired"]


@given(records, st.integers(0, 24))
def test_the_state_as_known_at_a_moment_is_the_fold_of_what_was_recorded_by_then(
    recorded: list[tuple[bool, Party, ConsentScope, int, int | None]], cut: int
) -> None:
    events = history_of(recorded)
    known_at = T0 + timedelta(hours=cut, minutes=30)
    assert fold(e for e in events if e.recorded_at <= known_at) == fold(events[: min(cut + 1, len(events))])


@given(st.dates(date(1990, 1, 1), date(2025, 12, 31)), st.dates(date(2020, 1, 1), date(2030, 12, 31)),
       st.integers(13, 18))  # fmt: skip
def test_a_guardian_is_needed_under_the_policy_age_and_always_under_13(born: date, on: date, policy_age: int) -> None:
    policy = ConsentPolicy(guardian_age=policy_age)
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    assert guardian_needed(born, on, policy) == (age < policy_age)
    if age < 13:
        assert guardian_needed(born, on, policy)
    assert needed_parties(born, on, policy)[0] is Party.PARTICIPANT  # the participant's own, always


def test_ages_at_the_edges_and_an_unknown_date_of_birth() -> None:
    default = ConsentPolicy()
    on = date(2027, 3, 14)
    assert guardian_needed(date(2011, 3, 14), on, default)  # 16
    assert not guardian_needed(date(2009, 3, 14), on, default)  # 18 today
    assert guardian_needed(date(2009, 3, 15), on, default)  # 18 tomorrow
    assert guardian_needed(date(2015, 1, 1), on, ConsentPolicy(guardian_age=13))  # 12
    assert not guardian_needed(date(2014, 3, 14), on, ConsentPolicy(guardian_age=13))  # 13 today
    assert guardian_needed(None, on, default)
    with pytest.raises(ValueError, match="13"):
        ConsentPolicy(guardian_age=12)


def test_partner_sharing_needs_the_partner_named_by_every_needed_party() -> None:
    a, b = PARTNERS[:2]
    standing = fold([
        given_event(0, Party.PARTICIPANT, ConsentScope.PARTNER_SHARING, partners=[a, b]),
        given_event(1, Party.GUARDIAN, ConsentScope.PARTNER_SHARING, partners=[b]),
    ])  # fmt: skip
    sharing = [ConsentScope.PARTNER_SHARING]
    assert valid_partners(standing, DAY0, BOTH) == {b}
    assert check(P, standing, sharing, DAY0, BOTH, partner_id=b).valid
    assert [u.code for u in check(P, standing, sharing, DAY0, BOTH, partner_id=a).unmet] == ["partner_not_named"]
    assert check(P, standing, sharing, DAY0, BOTH).valid  # with some partner
    only_a = fold([
        given_event(0, Party.PARTICIPANT, ConsentScope.PARTNER_SHARING, partners=[a]),
        given_event(1, Party.GUARDIAN, ConsentScope.PARTNER_SHARING, partners=[b]),
    ])  # fmt: skip
    assert [u.code for u in check(P, only_a, sharing, DAY0, BOTH).unmet] == ["partner_not_named"]
    assert partners_ever_named([given_event(0, Party.GUARDIAN, ConsentScope.PARTNER_SHARING, partners=[a])]) == {a}


def test_a_consent_contradicting_itself_the_record_or_today_names_the_field() -> None:
    def give(**fields: Any) -> GiveConsent:
        return GiveConsent(**{"party": Party.PARTICIPANT, "scope": ConsentScope.RESEARCH, "text_version": 1,
                              "method": ConsentMethod.ONLINE_FORM, **fields})  # fmt: skip

    ends = date(2027, 7, 10)
    kwargs: dict[str, Any] = {"today": DAY0, "cycle_ends_on": ends, "published": True, "known_partners": PARTNERS}
    assert check_given(give(), **kwargs) == ends
    assert check_given(give(expires_on=date(2027, 2, 1)), **kwargs) == date(2027, 2, 1)
    cases: list[tuple[GiveConsent, str, dict[str, Any]]] = [
        (give(expires_on=date(2027, 7, 11)), "expires_on", {}),
        (give(), "expires_on", {"cycle_ends_on": DAY0 - timedelta(days=1)}),
        (give(), "text_version", {"published": False}),
        (give(method=ConsentMethod.PAPER_FORM), "form_dated_on", {}),
        (give(form_dated_on=DAY0 + timedelta(days=1)), "form_dated_on", {}),
        (give(partner_ids=frozenset(PARTNERS[:1])), "partner_ids", {}),
        (give(scope=ConsentScope.PARTNER_SHARING), "partner_ids", {}),
        (give(scope=ConsentScope.PARTNER_SHARING, partner_ids=frozenset({uuid.uuid4()})), "partner_ids", {}),
    ]
    for command, field, changes in cases:
        with pytest.raises(InvalidConsent) as refused:
            check_given(command, **{**kwargs, **changes})
        assert refused.value.field == field
    with pytest.raises(ConsentConflict):
        withdrawal_data(WithdrawConsent(Party.PARTICIPANT, ConsentScope.RESEARCH, ConsentMethod.EMAIL), {}, DAY0)


def test_reminders_and_expiry_are_due_for_the_consent_standing_only() -> None:
    policy = ConsentPolicy(reminder_days=14)
    last = date(2027, 7, 10)
    first = given_event(0, Party.PARTICIPANT, ConsentScope.RESEARCH, last)
    standing = fold([first])
    assert expiry_due(standing, last - timedelta(days=15), policy) == []
    (reminder,) = expiry_due(standing, last - timedelta(days=14), policy)
    assert reminder.kind is ExpiryKind.REMINDER and reminder.key == f"consent_expiry:reminder:{first.event_id}"
    assert [d.kind for d in expiry_due(standing, last, policy)] == [ExpiryKind.REMINDER]
    assert [d.kind for d in expiry_due(standing, last + timedelta(days=1), policy)] == [ExpiryKind.EXPIRED]
    withdrawn = fold([first, withdrawn_event(1, Party.PARTICIPANT, ConsentScope.RESEARCH)])
    assert expiry_due(withdrawn, last + timedelta(days=1), policy) == []
    renewed = fold([first, given_event(1, Party.PARTICIPANT, ConsentScope.RESEARCH, last + timedelta(days=100))])
    assert expiry_due(renewed, last + timedelta(days=1), policy) == []
