"""The directory of adult contacts, built from events, on SQLite and PostgreSQL: the newest event wins whatever
the order of arrival, a removal deletes the address (and the emails to it) for good, groups and projects are filed
for addressing, WATCCH offers are kept by pseudonymous ids and go with the participant's erasure. No name or
address reaches the logs."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medic.notifications.bootstrap import NotificationsService
from medic.notifications.domain.directory import (
    ContactKind,
    OfferState,
    Recipient,
    coordinators_from,
    offer_reminder_at,
)
from medic.notifications.domain.emails import EmailRequest
from medic.shared.contracts.outreach.erasure import ParticipantErasedV1, SafeguardingPersonErasedV1
from medic.shared.contracts.outreach.watcch import WatcchApplicationAcceptedV1, WatcchApplicationOfferedV1
from medic.shared.contracts.projects.contacts import ContactAddressRemovedV1
from medic.shared.contracts.projects.projects import ProjectApprovedV1
from services.notifications.tests.directory_support import (
    address,
    deliver,
    envelope_of,
    facts,
    group,
    project_created,
    queued,
    running_service,
    uow_of,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PARTNER = uuid.uuid4()


@pytest.fixture(params=["sqlite", "postgresql"])
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NotificationsService]:
    async with running_service(request.param, tmp_path) as running:
        yield running


async def test_a_contact_is_filed_and_an_older_event_never_overwrites_a_newer_one(
    service: NotificationsService,
) -> None:
    contact_id = uuid.uuid4()
    newer = address(ContactKind.SUPERVISOR, contact_id, "New.Address@NHS.example", "Dr Asha Patel")
    older = address(ContactKind.SUPERVISOR, contact_id, "old.address@nhs.example", "Dr A Patel")
    await deliver(service, envelope_of(newer, time=T0 + timedelta(minutes=5)), envelope_of(older, time=T0))

    uow = uow_of(service)
    async with uow:
        contact = await uow.directory.contact(ContactKind.SUPERVISOR, contact_id)
        as_student = await uow.directory.contact(ContactKind.STUDENT, contact_id)
    assert contact is not None and as_student is None  # filed under its kind
    assert (contact.email, contact.display_name) == ("new.address@nhs.example", "Dr Asha Patel")
    assert contact.as_of == T0 + timedelta(minutes=5)


async def test_a_removed_contact_loses_its_address_for_good_and_the_emails_to_it_go(
    service: NotificationsService,
) -> None:
    contact_id, other_id = uuid.uuid4(), uuid.uuid4()
    mine = address(ContactKind.PARTNER_CONTACT, contact_id, "amina@riverside.example", "Amina", partner_id=PARTNER)
    other = address(ContactKind.PARTNER_CONTACT, other_id, "ben@riverside.example", "Ben", partner_id=PARTNER)
    await deliver(service, envelope_of(mine, time=T0), envelope_of(other, time=T0))
    uow = uow_of(service)
    async with uow:
        for recipient in ("amina@riverside.example", "ben@riverside.example"):
            await uow.emails.enqueue(EmailRequest("proposal_waiting", "cause-1", recipient, None, {}))
        await uow.commit()

    removed = ContactAddressRemovedV1(contact_id=contact_id, kind=ContactKind.PARTNER_CONTACT)
    late_set = address(ContactKind.PARTNER_CONTACT, contact_id, "amina@riverside.example", partner_id=PARTNER)
    await deliver(
        service,
        envelope_of(removed, time=T0 + timedelta(hours=1)),
        envelope_of(late_set, time=T0 + timedelta(minutes=1)),
    )

    uow = uow_of(service)
    async with uow:
        contact = await uow.directory.contact(ContactKind.PARTNER_CONTACT, contact_id)
        assert await uow.directory.in_use("amina@riverside.example") is False
    assert contact is not None and contact.removed_at == T0 + timedelta(hours=1)
    assert (contact.email, contact.display_name, contact.recipient) == (None, None, None)
    assert [e.recipient for e in await queued(service)] == ["ben@riverside.example"]


async def test_a_late_set_after_a_removal_does_not_bring_the_address_back(service: NotificationsService) -> None:
    contact_id = uuid.uuid4()
    removed = ContactAddressRemovedV1(contact_id=contact_id, kind=ContactKind.PARTNER_CONTACT)
    stale = address(ContactKind.PARTNER_CONTACT, contact_id, "gone@riverside.example", partner_id=PARTNER)
    await deliver(service, envelope_of(removed, time=T0 + timedelta(hours=1)), envelope_of(stale, time=T0))
    uow = uow_of(service)
    async with uow:
        contact = await uow.directory.contact(ContactKind.PARTNER_CONTACT, contact_id)
        assert await uow.directory.primary_contact(PARTNER) is None
    assert contact is not None and contact.email is None


async def test_the_primary_contact_follows_the_newest_events(service: NotificationsService) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    kind = ContactKind.PARTNER_CONTACT
    await deliver(
        service,
        envelope_of(address(kind, first, "first@p.example", "First", partner_id=PARTNER, primary=True), time=T0),
        envelope_of(address(kind, second, "second@p.example", "Second", partner_id=PARTNER), time=T0),
    )
    uow = uow_of(service)
    async with uow:
        assert await uow.directory.primary_contact(PARTNER) == Recipient("first@p.example", "First")
    moved = T0 + timedelta(minutes=1)
    await deliver(
        service,
        envelope_of(address(kind, second, "second@p.example", "Second", partner_id=PARTNER, primary=True), time=moved),
        envelope_of(address(kind, first, "first@p.example", "First", partner_id=PARTNER), time=moved),
    )
    uow = uow_of(service)
    async with uow:
        assert await uow.directory.primary_contact(PARTNER) == Recipient("second@p.example", "Second")
        assert await uow.directory.primary_contact(uuid.uuid4()) is None


async def test_a_groups_members_are_replaced_by_newer_events_only(service: NotificationsService) -> None:
    group_id, s1, s2, tutor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await deliver(
        service,
        envelope_of(group(group_id, [s1, s2], [tutor], created=False), time=T0 + timedelta(minutes=2)),
        envelope_of(group(group_id, [s1], [], name="old"), time=T0),
    )
    uow = uow_of(service)
    async with uow:
        members = await uow.directory.group(group_id)
    assert members is not None
    assert (members.name, members.student_ids, members.supervisor_ids) == (
        "A1",
        frozenset({s1, s2}),
        frozenset({tutor}),
    )


async def test_a_projects_title_and_group_are_filed_from_its_events_in_any_order(service: NotificationsService) -> None:
    project_id, group_id = uuid.uuid4(), uuid.uuid4()
    approved = ProjectApprovedV1(**facts(project_id, group_id, PARTNER), from_state="submitted", to_state="approved")
    await deliver(
        service,
        envelope_of(approved, time=T0 + timedelta(days=3)),
        envelope_of(project_created(project_id, group_id, "Healthy lunchboxes", PARTNER), time=T0),
    )
    uow = uow_of(service)
    async with uow:
        card = await uow.directory.project(project_id)
    assert card is not None
    assert (card.title, card.group_id, card.lead_partner_id) == ("Healthy lunchboxes", group_id, PARTNER)


def offered(application: uuid.UUID, participant: uuid.UUID, expires_at: datetime) -> WatcchApplicationOfferedV1:
    return WatcchApplicationOfferedV1(
        application_id=application,
        cycle_id=uuid.UUID(int=7),
        participant_id=participant,
        expires_at=expires_at,
        from_waitlist=False,
    )


async def test_an_offer_is_filed_for_its_reminder_closed_by_its_answer_and_erased_with_the_participant(
    service: NotificationsService,
) -> None:
    answered, erased, participant = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    expires = T0 + timedelta(days=7)
    accepted = WatcchApplicationAcceptedV1(
        application_id=answered, cycle_id=uuid.UUID(int=7), participant_id=uuid.uuid4()
    )
    await deliver(
        service,
        envelope_of(offered(answered, uuid.uuid4(), expires), time=T0),
        envelope_of(accepted, time=T0 + timedelta(hours=1)),
        envelope_of(offered(erased, participant, expires), time=T0),
    )
    uow = uow_of(service)
    async with uow:
        closed, pending = await uow.directory.offer(answered), await uow.directory.offer(erased)
    assert closed is not None and closed.state is OfferState.CLOSED
    assert pending is not None and (pending.state, pending.remind_at) == (OfferState.PENDING, expires - timedelta(2))

    erasure = ParticipantErasedV1(participant_id=participant, erased_at=T0, erasure_id=uuid.uuid4())
    await deliver(service, envelope_of(erasure))
    uow = uow_of(service)
    async with uow:
        assert await uow.directory.offer(erased) is None
        assert await uow.directory.offer(answered) is not None


async def test_a_late_offer_after_its_answer_sets_no_reminder(service: NotificationsService) -> None:
    application = uuid.uuid4()
    accepted = WatcchApplicationAcceptedV1(
        application_id=application, cycle_id=uuid.UUID(int=7), participant_id=uuid.uuid4()
    )
    await deliver(
        service,
        envelope_of(accepted, time=T0 + timedelta(hours=1)),
        envelope_of(offered(application, uuid.uuid4(), T0 + timedelta(days=7)), time=T0),
    )
    uow = uow_of(service)
    async with uow:
        offer = await uow.directory.offer(application)
    assert offer is not None and offer.state is OfferState.CLOSED


async def test_a_safeguarding_erasure_finds_nothing_keyed_by_a_university_id(service: NotificationsService) -> None:
    student = uuid.uuid4()
    await deliver(service, envelope_of(address(ContactKind.STUDENT, student, "sam@student.example", "Sam")))
    erasure = SafeguardingPersonErasedV1(person_id="20230001", erased_at=T0, erasure_id=uuid.uuid4())
    await deliver(service, envelope_of(erasure))
    uow = uow_of(service)
    async with uow:
        assert await uow.directory.count_contacts() == {"student": 1}


async def test_an_unreadable_contact_event_is_skipped_without_logging_its_data(
    service: NotificationsService, capfd: pytest.CaptureFixture[str]
) -> None:
    bad = envelope_of(address(ContactKind.STUDENT, uuid.uuid4(), "leak.me@student.example", "Leaky Name"))
    bad.data["kind"] = "child"  # not a kind of contact: nobody is filed
    bad.data["email"] = "leak.me@student.example"
    await deliver(service, bad)
    uow = uow_of(service)
    async with uow:
        assert await uow.directory.count_contacts() == {}
    output = capfd.readouterr()
    assert "directory.unreadable_event" in output.out + output.err
    assert "leak.me" not in output.out + output.err and "Leaky" not in output.out + output.err


def test_coordinators_come_from_the_setting_each_once_lower_cased() -> None:
    assert coordinators_from(" A@x.example, b@x.example ,a@X.example,, ") == (
        Recipient("a@x.example"),
        Recipient("b@x.example"),
    )
    assert coordinators_from("") == ()


def test_an_offer_reminder_goes_two_days_before_or_half_way_through_a_short_offer() -> None:
    assert offer_reminder_at(T0, T0 + timedelta(days=7)) == T0 + timedelta(days=5)
    assert offer_reminder_at(T0, T0 + timedelta(hours=10)) == T0 + timedelta(hours=5)
    assert offer_reminder_at(T0, T0 - timedelta(hours=1)) == T0 - timedelta(hours=1)  # already lapsed: at once
