"""Which email each event sends, to whom, end to end: events in through the consumer, the directory resolving adults'
addresses, the mail sender delivering to a real SMTP server (aiosmtpd) with text and HTML parts. A redelivered event
sends nothing twice; a removed contact gets nothing; children are never recipients; links never reach the logs."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from medic.notifications.adapters.mail_renderer import MailRenderer
from medic.notifications.bootstrap import NotificationsService
from medic.notifications.domain import email_catalogue as kinds
from medic.notifications.domain.email_catalogue import KINDS
from medic.notifications.service_layer import email_rules
from medic.notifications.service_layer.email_timers import WatcchOfferReminders
from medic.shared.contracts.outreach.consent import ConsentExpiringV1
from medic.shared.contracts.outreach.erasure import ParticipantErasedV1, SafeguardingPersonErasedV1
from medic.shared.contracts.outreach.safeguarding import DbsRecheckDueV1
from medic.shared.contracts.outreach.watcch import WatcchApplicationDeclinedV1, WatcchApplicationOfferedV1
from medic.shared.contracts.projects.contacts import ContactAddressRemovedV1, ContactKind, VerificationMailRequestedV1
from medic.shared.contracts.projects.milestones import (
    MilestoneApproachingV1,
    MilestoneDueV1,
    MilestoneKind,
    MilestoneOverdueV1,
)
from medic.shared.contracts.projects.projects import (
    ProjectApprovedV1,
    ProjectChangesRequestedV1,
    ProjectDisputedV1,
    ProjectProposalSubmittedV1,
    ProjectRejectedV1,
)
from medic.shared.events import EventPayload
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
    who,
)
from services.notifications.tests.email_support import SmtpTestServer, start_smtp_server
from tests.support import eventually

COORDINATORS = ["coord.one@medic.example", "coord.two@medic.example"]
SAM, PRIYA, TUTOR, CONTACT = (
    "sam@student.example",
    "priya@student.example",
    "a.patel@nhs.example",
    "amina@partner.example",
)
TITLE = "Lunchboxes <b>& more</b>"


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    server = start_smtp_server()
    yield server
    server.stop()


@pytest.fixture
async def service(tmp_path: Path, smtp: SmtpTestServer) -> AsyncIterator[NotificationsService]:
    async with running_service("sqlite", tmp_path, SMTP_URL=smtp.url, MAIL_POLL_INTERVAL_S=0.05) as running:
        yield running


class Year:
    """A group of two students and a supervisor, on a project with a partner whose primary contact is known."""

    def __init__(self) -> None:
        self.sam, self.priya, self.tutor, self.nobody = (uuid.uuid4() for _ in range(4))
        self.contact, self.partner = uuid.uuid4(), uuid.uuid4()
        self.group, self.project = uuid.uuid4(), uuid.uuid4()

    def events(self) -> list[EventPayload]:
        return [
            address(ContactKind.STUDENT, self.sam, SAM, "Sam Okafor"),
            address(ContactKind.STUDENT, self.priya, PRIYA, "Priya Shah"),
            address(ContactKind.SUPERVISOR, self.tutor, TUTOR, "Dr Asha Patel"),
            address(ContactKind.PARTNER_CONTACT, self.contact, CONTACT, "Amina", partner_id=self.partner, primary=True),
            # `nobody` is a member whose address never arrived: skipped, not an error
            group(self.group, [self.sam, self.priya, self.nobody], [self.tutor]),
            project_created(self.project, self.group, TITLE, self.partner),
        ]

    def facts(self) -> dict[str, object]:
        return facts(self.project, self.group, self.partner)


@pytest.fixture
async def year(service: NotificationsService) -> Year:
    year = Year()
    await deliver(service, *(envelope_of(event) for event in year.events()))
    return year


async def arrived(smtp: SmtpTestServer, count: int) -> list[EmailMessage]:
    async def enough() -> list[EmailMessage]:
        messages = smtp.inbox.received_messages()
        return messages if len(messages) >= count else []

    found = await eventually(enough, timeout_s=10)
    await asyncio.sleep(0.2)  # and no more than that
    assert len(smtp.inbox.received_messages()) == count
    return found


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def subject(message: EmailMessage) -> str:
    """The Subject unfolded (the stdlib folds a long one before its first word, leaving a leading space)."""
    return str(message["Subject"]).strip()


def to(message: EmailMessage) -> str:
    return str(message["To"]).lower()


async def test_a_proposal_goes_to_the_supervisors_and_each_decision_to_the_students_once(
    service: NotificationsService, smtp: SmtpTestServer, year: Year
) -> None:
    transition = {**year.facts(), "from_state": "draft", "to_state": "proposal_submitted"}
    submitted = envelope_of(ProjectProposalSubmittedV1(**transition))
    changes = envelope_of(ProjectChangesRequestedV1(**transition))
    approved = envelope_of(ProjectApprovedV1(**transition))
    rejected = envelope_of(ProjectRejectedV1(**transition))
    await deliver(service, submitted, changes, approved, rejected, approved)  # `approved` redelivered

    assert who(await queued(service)) == [
        (kinds.CHANGES_REQUESTED, PRIYA),
        (kinds.CHANGES_REQUESTED, SAM),
        (kinds.PROPOSAL_APPROVED, PRIYA),
        (kinds.PROPOSAL_APPROVED, SAM),
        (kinds.PROPOSAL_REJECTED, PRIYA),
        (kinds.PROPOSAL_REJECTED, SAM),
        (kinds.PROPOSAL_WAITING, TUTOR),
    ]
    messages = await arrived(smtp, 7)
    waiting = next(m for m in messages if to(m).endswith(f"<{TUTOR}>") or to(m) == TUTOR)
    assert subject(waiting) == f"A project proposal is waiting for your review: {TITLE}"
    assert "Dr Asha Patel" in str(waiting["To"])
    assert f'"{TITLE}"' in text_of(waiting) and "Group A1" in text_of(waiting)
    assert "Lunchboxes &lt;b&gt;&amp; more&lt;/b&gt;" in html_of(waiting)  # escaped in HTML
    approved_to_sam = next(m for m in messages if SAM in to(m) and "approved" in subject(m))
    assert "Dear Sam Okafor" in text_of(approved_to_sam) and "governance" in text_of(approved_to_sam)
    assert all("List-Unsubscribe" not in m for m in messages)  # none of these may be turned off


async def test_a_partners_answer_goes_to_the_students_and_supervisors(
    service: NotificationsService, smtp: SmtpTestServer, year: Year
) -> None:
    disputed = ProjectDisputedV1(**year.facts(), verification_id=uuid.uuid4())
    await deliver(service, envelope_of(disputed))
    messages = await arrived(smtp, 3)
    assert sorted(to(m).split("<")[-1].rstrip(">") for m in messages) == sorted([PRIYA, SAM, TUTOR])
    assert all(subject(m) == f"Your partner disputed the project: {TITLE}" for m in messages)
    assert all("disputed" in text_of(m) for m in messages)


async def test_the_verification_link_goes_to_its_partner_contact_and_never_to_the_logs(
    service: NotificationsService, smtp: SmtpTestServer, year: Year, capfd: pytest.CaptureFixture[str]
) -> None:
    link = "https://projects.example/verifications/Tok3n-that-is-a-credential-0123456789abcdef"
    mail = VerificationMailRequestedV1(
        verification_id=uuid.uuid4(),
        project_id=year.project,
        partner_id=year.partner,
        contact_id=year.contact,
        link=link,
        expires_at=datetime(2026, 12, 18, 14, 0, tzinfo=UTC),
    )
    await deliver(service, envelope_of(mail))
    (message,) = await arrived(smtp, 1)
    assert CONTACT in to(message)
    assert link in text_of(message) and f'href="{link}"' in html_of(message)
    assert "Friday 18 December 2026, 14:00 UK time" in text_of(message)
    (email,) = await queued(service)
    assert email.context is None  # the link is dropped with the rest of the context once sent
    output = capfd.readouterr()
    assert "Tok3n" not in output.out + output.err and CONTACT not in output.out + output.err


async def test_milestones_go_to_the_students_and_the_optional_ones_can_be_unsubscribed(
    service: NotificationsService, smtp: SmtpTestServer, year: Year
) -> None:
    reminder = {"project_id": year.project, "cohort_id": uuid.UUID(int=1), "group_id": year.group}
    due = {"milestone": MilestoneKind.PROPOSAL_DUE, "due_on": date(2026, 10, 16)}
    await deliver(
        service,
        envelope_of(MilestoneApproachingV1(**reminder, **due)),
        envelope_of(MilestoneDueV1(**reminder, **due)),
        envelope_of(MilestoneOverdueV1(**reminder, **due)),
    )
    messages = await arrived(smtp, 6)
    assert {m["To"].addresses[0].addr_spec for m in messages} == {SAM, PRIYA}
    by_subject = {subject(m): m for m in messages if SAM in to(m)}
    assert set(by_subject) == {
        f"Proposal due on Friday 16 October 2026: {TITLE}",
        f"Proposal due today: {TITLE}",
        f"Overdue: proposal due for {TITLE}",
    }
    assert "Friday 16 October 2026" in text_of(by_subject[f"Proposal due on Friday 16 October 2026: {TITLE}"])
    assert "List-Unsubscribe" in by_subject[f"Proposal due on Friday 16 October 2026: {TITLE}"]
    assert "List-Unsubscribe" not in by_subject[f"Overdue: proposal due for {TITLE}"]


async def test_safeguarding_consent_and_watcch_offers_go_to_the_coordinators_only(
    service: NotificationsService, smtp: SmtpTestServer, capfd: pytest.CaptureFixture[str]
) -> None:
    participant = uuid.uuid4()
    await deliver(
        service,
        envelope_of(
            DbsRecheckDueV1(person_id="2301234", check_id=uuid.uuid4(), due_on=date(2027, 2, 1), days_before=30)
        ),
        envelope_of(
            ConsentExpiringV1(
                participant_id=participant,
                scope="partner_sharing",
                party="guardian",
                partner_ids=[],
                expires_on=date(2026, 12, 31),
                days_left=14,
            )
        ),
        envelope_of(
            WatcchApplicationOfferedV1(
                application_id=uuid.uuid4(),
                cycle_id=uuid.uuid4(),
                participant_id=participant,
                expires_at=datetime(2026, 12, 14, 17, tzinfo=UTC),
                from_waitlist=True,
            )
        ),
    )
    messages = await arrived(smtp, 6)
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == sorted(COORDINATORS * 3)
    subjects = {subject(m) for m in messages}
    assert subjects == {
        "DBS recheck due in 30 days (person 2301234)",
        "A WATCCH consent expires in 14 days",
        "A WATCCH place was offered",
    }
    offer = next(m for m in messages if subject(m) == "A WATCCH place was offered")
    assert "from the waitlist" in text_of(offer) and "Monday 14 December 2026, 17:00 UK time" in text_of(offer)


async def test_an_erasure_takes_the_unsent_emails_about_the_erased(tmp_path: Path) -> None:
    """Erasure reaches every copy: emails still waiting to go (here the mail server is down) that name the erased
    person or participant are deleted, not sent later; the others stay queued."""
    participant, check = uuid.uuid4(), uuid.uuid4()
    down = "smtp://127.0.0.1:9"  # discard: nothing listens, so every attempt fails and the emails wait
    async with running_service("sqlite", tmp_path, SMTP_URL=down, MAIL_POLL_INTERVAL_S=0.05) as service:
        await deliver(
            service,
            envelope_of(DbsRecheckDueV1(person_id="2301234", check_id=check, due_on=date(2027, 2, 1), days_before=30)),
            envelope_of(DbsRecheckDueV1(person_id="2309999", check_id=check, due_on=date(2027, 2, 1), days_before=30)),
            envelope_of(
                ConsentExpiringV1(
                    participant_id=participant,
                    scope="partner_sharing",
                    party="guardian",
                    partner_ids=[],
                    expires_on=date(2026, 12, 31),
                    days_left=14,
                )
            ),
        )

        async def waiting() -> list[str]:
            async with service.app.state.uow_factory() as uow:
                page = await uow.emails.page(limit=100)
            return sorted(str(email.context) for email in page.items)

        assert len(await waiting()) == 6  # two coordinators each
        await deliver(
            service,
            envelope_of(
                ParticipantErasedV1(participant_id=participant, erased_at=datetime.now(UTC), erasure_id=uuid.uuid4())
            ),
            envelope_of(
                SafeguardingPersonErasedV1(person_id="2301234", erased_at=datetime.now(UTC), erasure_id=uuid.uuid4())
            ),
        )
        left = await waiting()
        assert len(left) == 2 and all("2309999" in context for context in left)
        assert not any("2301234" in context or str(participant) in context for context in left)


async def test_an_offer_nobody_answered_reminds_the_coordinators_once_before_it_lapses(
    service: NotificationsService, smtp: SmtpTestServer
) -> None:
    offered_at = datetime(2026, 12, 7, 9, tzinfo=UTC)
    expires_at = offered_at + timedelta(days=7)
    waiting, answered = uuid.uuid4(), uuid.uuid4()
    cycle = uuid.uuid4()

    def offer(application: uuid.UUID) -> WatcchApplicationOfferedV1:
        return WatcchApplicationOfferedV1(
            application_id=application,
            cycle_id=cycle,
            participant_id=uuid.uuid4(),
            expires_at=expires_at,
            from_waitlist=False,
        )

    declined = WatcchApplicationDeclinedV1(application_id=answered, cycle_id=cycle, participant_id=uuid.uuid4())
    await deliver(
        service,
        envelope_of(offer(waiting), time=offered_at),
        envelope_of(offer(answered), time=offered_at),
        envelope_of(declined, time=offered_at + timedelta(hours=1)),
    )
    await arrived(smtp, 4)  # the two offers' own emails
    now = offered_at
    timer = WatcchOfferReminders(service.app.state.uow_factory, interval_s=60, clock=lambda: now)

    now = expires_at - timedelta(days=2, seconds=1)
    assert await timer.tick() == 0
    now = expires_at - timedelta(days=2)
    assert await timer.tick() == 1
    assert await timer.tick() == 0  # once
    messages = await arrived(smtp, 6)
    reminders = [m for m in messages if subject(m) == "A WATCCH offer lapses soon"]
    assert sorted(m["To"].addresses[0].addr_spec for m in reminders) == COORDINATORS
    assert str(waiting) in text_of(reminders[0]) and str(answered) not in text_of(reminders[0])

    now = expires_at + timedelta(days=30, seconds=1)  # a month after the offer lapsed, its rows go
    assert await timer.tick() == 0
    uow = uow_of(service)
    async with uow:
        assert await uow.directory.offer(waiting) is None and await uow.directory.offer(answered) is None


async def test_a_disabled_endpoint_emails_the_partners_primary_contact_and_the_coordinators_once(
    service: NotificationsService, smtp: SmtpTestServer, year: Year
) -> None:
    endpoint, at = uuid.uuid4(), datetime(2026, 12, 12, 4, tzinfo=UTC)
    for _ in range(2):  # the dispatcher's transaction retried
        uow = uow_of(service)
        async with uow:
            await email_rules.notify_endpoint_disabled(
                uow,
                endpoint_id=endpoint,
                partner_id=year.partner,
                url="https://user:pw@hooks.partner.example:8443/medic?token=s3cr3t#x",
                reason="the endpoint answered 410 Gone",
                at=at,
            )
            await uow.commit()
    messages = await arrived(smtp, 3)
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == sorted([CONTACT, *COORDINATORS])
    body = text_of(messages[0])
    assert "https://hooks.partner.example:8443/medic " in body and "s3cr3t" not in body and "pw@" not in body
    assert "the endpoint answered 410 Gone" in body and str(endpoint) in body


async def test_a_removed_contact_and_an_unknown_group_get_nothing(
    service: NotificationsService, smtp: SmtpTestServer, year: Year
) -> None:
    removed = ContactAddressRemovedV1(contact_id=year.sam, kind=ContactKind.STUDENT)
    elsewhere = {**year.facts(), "group_id": uuid.uuid4(), "from_state": "a", "to_state": "b"}
    approved = {**year.facts(), "from_state": "proposal_submitted", "to_state": "approved"}
    await deliver(
        service,
        envelope_of(removed),
        envelope_of(ProjectApprovedV1(**elsewhere)),
        envelope_of(ProjectApprovedV1(**approved)),
    )
    (message,) = await arrived(smtp, 1)
    assert PRIYA in to(message)


def test_every_kind_has_both_templates_and_renders_its_sample() -> None:
    renderer = MailRenderer(KINDS)
    renderer.check()
    assert set(KINDS) == {kind for kind in vars(kinds).values() if isinstance(kind, str) and kind in KINDS}
    optional = sorted(name for name, kind in KINDS.items() if kind.optional)
    assert optional == [kinds.MILESTONE_APPROACHING, kinds.MILESTONE_DUE, kinds.WATCCH_OFFER_MADE]


def test_every_rule_sends_a_kind_of_the_catalogue() -> None:
    assert set(email_rules.RULES) == {
        "projects.project.proposal_submitted.v1",
        "projects.project.changes_requested.v1",
        "projects.project.approved.v1",
        "projects.project.rejected.v1",
        "projects.project.verified.v1",
        "projects.project.disputed.v1",
        "projects.verification_link.mail_requested.v1",
        "projects.milestone.approaching.v1",
        "projects.milestone.due.v1",
        "projects.milestone.overdue.v1",
        "outreach.dbs_check.recheck_due.v1",
        "outreach.consent.expiring.v1",
        "outreach.watcch_application.offered.v1",
        "outreach.participant.erased.v1",  # not to send: to forget what is waiting to go
        "outreach.safeguarding_person.erased.v1",
    }


def test_an_endpoints_url_is_shown_without_credentials_query_or_fragment() -> None:
    assert email_rules.safe_url("https://u:p@h.example/a/b?x=1#f") == "https://h.example/a/b"
    assert email_rules.safe_url("https://[2001:db8::1]:8443/x") == "https://[2001:db8::1]:8443/x"
