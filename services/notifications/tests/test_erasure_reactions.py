"""An event about someone erased already (late, or redelivered from a dead-letter queue) is not logged, and sets
nothing else off either: no email names them, no directory row or partner message brings their id back."""

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from medic.shared.contracts.outreach.consent import ConsentExpiringV1
from medic.shared.contracts.outreach.erasure import ParticipantErasedV1
from medic.shared.contracts.outreach.watcch import WatcchApplicationOfferedV1
from services.notifications.tests.directory_support import deliver, envelope_of, running_service


async def test_an_event_arriving_after_its_participants_erasure_sets_nothing_off(tmp_path: Path) -> None:
    participant, application = uuid.uuid4(), uuid.uuid4()
    erasure = envelope_of(
        ParticipantErasedV1(participant_id=participant, erased_at=datetime.now(UTC), erasure_id=uuid.uuid4())
    ).model_copy(update={"subject": f"participants/{participant}"})
    late = [
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
                application_id=application,
                cycle_id=uuid.uuid4(),
                participant_id=participant,
                expires_at=datetime.now(UTC) + timedelta(days=3),
                from_waitlist=False,
            )
        ),
    ]
    # The mail server is away: whatever was queued stays visible.
    async with running_service("sqlite", tmp_path, SMTP_URL="smtp://127.0.0.1:9") as service:
        await deliver(service, erasure, *late)
        async with service.app.state.uow_factory() as uow:
            emails = (await uow.emails.page(limit=100)).items
            offer = await uow.directory.offer(application)
    assert emails == []
    assert offer is None
