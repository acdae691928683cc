"""The Partner aggregate's rules, without I/O: the primary contact, agreement statuses, and what each change records."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medic.projects.domain.events import (
    AgreementActivated,
    AgreementTerminated,
    AgreementUpdated,
    ContactAdded,
    ContactRemoved,
    ContactUpdated,
    PartnerRegistered,
)
from medic.projects.domain.partners import (
    ALLOWED_TRANSITIONS,
    ArchiveStateConflict,
    InvalidPartner,
    Partner,
    PartnerConflict,
)
from medic.shared.contracts.projects.partners import AgreementKind, AgreementStatus, PartnerKind

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
TODAY = NOW.date()


def partner() -> Partner:
    return Partner.register(
        name="Riverside Food Bank",
        kind=PartnerKind.CHARITY,
        contact_email=" Hello@Riverside.Example ",
        areas_of_work=["food poverty"],
        now=NOW,
    )


def primaries(p: Partner) -> int:
    return sum(c.primary for c in p.contacts)


def test_the_registration_address_is_the_first_primary_contact_without_a_name() -> None:
    p = partner()
    (contact,) = p.contacts
    assert (contact.email, contact.name, contact.role, contact.primary) == ("hello@riverside.example", None, "", True)
    assert p.events == [PartnerRegistered(partner_id=p.id)]
    assert p.revision == 1


def test_making_another_contact_primary_moves_the_flag_and_records_both() -> None:
    p = partner()
    first = p.contacts[0]
    p.events.clear()
    second = p.add_contact(name="Amina", email="amina@riverside.example", role="", primary=True, now=NOW)

    assert [c.primary for c in p.contacts] == [False, True]
    assert p.events == [
        ContactUpdated(partner_id=p.id, contact_id=first.id),
        ContactAdded(partner_id=p.id, contact_id=second.id),
    ]
    assert p.revision == 2  # one command, one revision
    p.edit_contact(first.id, primary=True)
    assert p.primary_contact == p.contact(first.id)
    assert primaries(p) == 1


def test_the_primary_contact_cannot_be_unflagged_and_removing_it_hands_the_flag_on() -> None:
    p = partner()
    first = p.contacts[0]
    second = p.add_contact(name="Amina", email="amina@riverside.example", role="", primary=False, now=NOW)
    with pytest.raises(PartnerConflict) as refused:
        p.edit_contact(first.id, primary=False)
    assert refused.value.field == "primary"

    p.events.clear()
    p.remove_contact(first.id)
    assert p.contact(second.id).primary
    assert p.events == [
        ContactRemoved(partner_id=p.id, contact_id=first.id),
        ContactUpdated(partner_id=p.id, contact_id=second.id),
    ]
    p.remove_contact(second.id)
    assert p.contacts == []
    assert p.primary_contact is None
    third = p.add_contact(name="Sam", email="sam@riverside.example", role="", primary=False, now=NOW)
    assert third.primary  # the first contact of a partner is primary


def test_an_address_is_used_once_per_partner_and_an_edit_that_changes_nothing_records_nothing() -> None:
    p = partner()
    with pytest.raises(PartnerConflict) as refused:
        p.add_contact(name="Dup", email="HELLO@riverside.example", role="", primary=False, now=NOW)
    assert refused.value.field == "email"
    p.events.clear()
    p.edit_contact(p.contacts[0].id, email="hello@riverside.example", primary=True)
    assert p.events == []
    assert p.revision == 1


def test_profile_changes_normalise_like_registration_and_archiving_goes_one_way_at_a_time() -> None:
    p = partner()
    p.replace_areas_of_work([" Mental  health ", "mental health", "", "Food poverty"])
    assert p.areas_of_work == ("Mental health", "Food poverty")
    with pytest.raises(InvalidPartner):
        p.replace_areas_of_work([f"area {i}" for i in range(21)])
    with pytest.raises(InvalidPartner):
        p.update(name=" \u3000 ")
    p.archive(NOW)
    with pytest.raises(ArchiveStateConflict):
        p.archive(NOW)
    p.unarchive()
    with pytest.raises(ArchiveStateConflict):
        p.unarchive()
    assert not p.archived


# A contact operation: (what, which contact by position, primary flag)
contact_operations = st.lists(
    st.tuples(st.sampled_from(["add", "promote", "demote", "remove"]), st.integers(0, 30), st.booleans()),
    max_size=40,
)


@given(contact_operations)
def test_whatever_happens_a_partner_with_contacts_has_exactly_one_primary(
    operations: list[tuple[str, int, bool]],
) -> None:
    p = partner()
    for n, (what, index, flag) in enumerate(operations):
        revision = p.revision
        try:
            if what == "add":
                p.add_contact(name=f"C{n}", email=f"c{n}@example.org", role="", primary=flag, now=NOW)
            elif p.contacts:
                target = p.contacts[index % len(p.contacts)].id
                if what == "promote":
                    p.edit_contact(target, primary=True)
                elif what == "demote":
                    p.edit_contact(target, primary=False)
                else:
                    p.remove_contact(target)
        except PartnerConflict:
            assert p.revision == revision  # a refusal changes nothing
        assert primaries(p) == (1 if p.contacts else 0)
        assert len({c.email for c in p.contacts}) == len(p.contacts)


def agreement_partner(starts_on: date, ends_on: date) -> tuple[Partner, uuid.UUID]:
    p = partner()
    agreement = p.add_agreement(kind=AgreementKind.PARTNERSHIP_MOU, starts_on=starts_on, ends_on=ends_on, now=NOW)
    return p, agreement.id


def test_an_agreement_ends_after_it_starts() -> None:
    p = partner()
    with pytest.raises(InvalidPartner) as refused:
        p.add_agreement(kind=AgreementKind.DATA_SHARING, starts_on=TODAY, ends_on=TODAY, now=NOW)
    assert refused.value.field == "ends_on"
    p, agreement_id = agreement_partner(TODAY, TODAY + timedelta(days=30))
    with pytest.raises(InvalidPartner) as refused:
        p.edit_agreement(agreement_id, today=TODAY, starts_on=TODAY + timedelta(days=30))
    assert refused.value.field == "starts_on"
    assert p.agreement(agreement_id).starts_on == TODAY


def test_an_active_agreement_reads_expired_after_its_end_date_and_renewing_brings_it_back() -> None:
    end = TODAY + timedelta(days=10)
    p, agreement_id = agreement_partner(TODAY - timedelta(days=100), end)
    p.edit_agreement(agreement_id, today=TODAY, status=AgreementStatus.ACTIVE)
    agreement = p.agreement(agreement_id)
    assert agreement.status_on(end) is AgreementStatus.ACTIVE  # the end date is its last day
    later = end + timedelta(days=1)
    assert agreement.status_on(later) is AgreementStatus.EXPIRED
    for refused_status in (AgreementStatus.TERMINATED, AgreementStatus.ACTIVE):
        with pytest.raises(PartnerConflict):
            p.edit_agreement(agreement_id, today=later, status=refused_status)
    with pytest.raises(PartnerConflict) as refused:
        p.edit_agreement(agreement_id, today=later, kind=AgreementKind.DATA_SHARING)
    assert refused.value.field == "kind"

    p.events.clear()
    renewed = p.edit_agreement(agreement_id, today=later, ends_on=end + timedelta(days=365))
    assert renewed.status_on(later) is AgreementStatus.ACTIVE
    assert p.events == [AgreementUpdated(partner_id=p.id, agreement_id=agreement_id)]


STATUSES = list(AgreementStatus)


@given(
    steps=st.lists(st.tuples(st.sampled_from(STATUSES), st.integers(-5, 5)), max_size=12),
    length=st.integers(1, 20),
)
def test_agreement_status_changes_follow_the_table_and_a_refusal_changes_nothing(
    steps: list[tuple[AgreementStatus, int]], length: int
) -> None:
    """Any sequence of status requests on any days: only the allowed moves happen, each recorded once."""
    p, agreement_id = agreement_partner(TODAY, TODAY + timedelta(days=length))
    for target, day_offset in steps:
        day = TODAY + timedelta(days=day_offset * 4)
        before = p.agreement(agreement_id)
        reads = before.status_on(day)
        events = len(p.events)
        try:
            after = p.edit_agreement(agreement_id, today=day, status=target)
        except PartnerConflict as refused:
            assert refused.field == "status"
            assert p.agreement(agreement_id) == before
            assert len(p.events) == events
            assert (
                target is AgreementStatus.EXPIRED
                or reads is AgreementStatus.EXPIRED
                or target not in ALLOWED_TRANSITIONS[before.stored_status]
                or (target is AgreementStatus.ACTIVE and before.ends_on < day)
            )
            continue
        if target is reads:
            assert after == before
            assert len(p.events) == events
        else:
            assert target in ALLOWED_TRANSITIONS[before.stored_status]
            assert after.stored_status is target
            expected = AgreementActivated if target is AgreementStatus.ACTIVE else AgreementTerminated
            assert p.events[-1] == expected(partner_id=p.id, agreement_id=agreement_id)
        assert after.stored_status is not AgreementStatus.EXPIRED  # never stored


def test_a_terminated_agreement_keeps_its_terms() -> None:
    p, agreement_id = agreement_partner(TODAY, TODAY + timedelta(days=30))
    p.edit_agreement(agreement_id, today=TODAY, status=AgreementStatus.TERMINATED)
    with pytest.raises(PartnerConflict) as refused:
        p.edit_agreement(agreement_id, today=TODAY, ends_on=TODAY + timedelta(days=60))
    assert refused.value.field == "ends_on"
    with pytest.raises(PartnerConflict):
        p.edit_agreement(agreement_id, today=TODAY, status=AgreementStatus.ACTIVE)
