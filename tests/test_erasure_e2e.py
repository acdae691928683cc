"""Erasure end to end, within a minute: outreach and notifications on the real RabbitMQ (a private namespace, deleted
afterwards), a participant made with sentinels in every personal field (and consents naming a partner), erased over
HTTP. Then no sentinel in any outreach or notifications table, the outbox, the namespace's queues and dead-letter
queues (read without consuming them), or the captured logs; and the ops log lists none of the participant's events
but the erasure's own. Timed: the figure is printed."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import pytest
from sqlalchemy import select

from medic.notifications.adapters import orm as notifications_orm
from medic.outreach.adapters import orm as outreach_orm
from medic.outreach.adapters.orm_partners import known_partners
from medic.shared.auth import Role, issue_token
from medic.shared.logging import configure_logging
from medic.shared.topology import Topology
from tests.conftest import DatabaseUrls
from tests.harness import Running, auth, running
from tests.support import eventually

pytestmark = pytest.mark.integration

SCHOOL = {"urn": "100000", "laestab": "2013614", "name": "The Aldgate School", "phase": "secondary",
          "local_authority_name": "City of London", "postcode": "ec3a 5de", "state_funded": True}  # fmt: skip
QUESTION = "Why healthcare?"
SENTINELS = {
    "given_name": "Sentinel-Oblivia",
    "family_name": "Sentinel-Vanishwood",
    "email": "oblivia.vanishwood@example.com",
    "phone": "07700 900555",
    "guardian_name": "Sentinel-Guardian-Nevermore",
    "guardian_email": "nevermore.g@example.com",
    "guardian_phone": "07700 900556",
    "referee_name": "Sentinel-Referee-Forgetful",
    "referee_email": "forgetful.referee@school.example.sch.uk",
}
ANSWER = "Sentinel-answer-Amnesiac-hospice"
NOTES = "Sentinel-notes-Lethewater: worried about her mock exams"  # a mentor's notes about the child
MENTOR = "2301299"
KEPT = {"outreach.participant.erased.v1", "outreach.partner_erasure_notice.requested.v1"}


async def _post(service: Running, path: str, body: Any = None, expected: int = 201) -> Any:
    response = await service.client.post(path, json=body, headers=auth(service.service.settings, Role.COORDINATOR))
    assert response.status_code == expected, response.text
    return response.json()


async def _participant(outreach: Running) -> tuple[str, str]:
    """A participant with sentinels in every personal field, enrolled, with consents naming a partner, mentored."""
    today = datetime.now(UTC).date()
    start = today.year if today.month >= 9 else today.year - 1
    await _post(outreach, "/schools", SCHOOL)
    cycle = await _post(outreach, "/watcch/cycles", {
        "name": "WATCCH", "academic_year": f"{start}/{(start + 1) % 100:02d}", "capacity": 5,
        "applications_open_on": (today - timedelta(days=30)).isoformat(),
        "applications_close_on": (today + timedelta(days=30)).isoformat(),
        "programme_starts_on": f"{start + 1}-01-16", "programme_ends_on": f"{start + 1}-07-10",
        "year_groups": ["year_12"], "questions": [QUESTION],
    })  # fmt: skip
    await _post(outreach, f"/watcch/cycles/{cycle['id']}/open", expected=200)
    application = await _post(outreach, f"/watcch/cycles/{cycle['id']}/applications", {
        **SENTINELS, "date_of_birth": f"{start - 16}-10-01", "home_postcode": "E1 6AN", "school_urn": "100000",
        "year_group": "year_12", "answers": {QUESTION: ANSWER},
        "indicators": {"free_school_meals": "yes", "parental_education": "02"},
    })  # fmt: skip
    for action in ("accept", "enrol"):
        await _post(outreach, f"/watcch/applications/{application['id']}/actions/{action}", {}, expected=200)
    await _post(outreach, f"/watcch/applications/{application['id']}/referee-link")
    partner = uuid.uuid4()
    async with outreach.service.engine.begin() as connection:
        await connection.execute(known_partners.insert().values(
            id=partner, name="Riverside", kind="charity", areas_of_work=[], registered_at=datetime.now(UTC)
        ))  # fmt: skip
    participant = application["participant_id"]
    for scope in ("taking_part", "mentoring", "partner_sharing"):
        await _post(outreach, "/consent/texts", {"scope": scope, "text": f"The wording of {scope}"})
        for party in ("participant", "guardian"):
            await _post(outreach, f"/participants/{participant}/consents", {
                "party": party, "scope": scope, "text_version": 1, "method": "online_form",
                "partner_ids": [str(partner)] if scope == "partner_sharing" else [],
            })  # fmt: skip
    await _mentored(outreach, participant, cycle["id"], first_day=f"{start + 1}-01-16", last_day=f"{start + 1}-07-10")
    return participant, application["id"]


async def _mentored(outreach: Running, participant: str, cycle_id: str, *, first_day: str, last_day: str) -> None:
    """A cleared mentor matched with the participant, and a session whose notes (about the child) are a sentinel."""
    today = datetime.now(UTC).date()
    await _post(outreach, "/safeguarding/people", {"person_id": MENTOR, "full_name": "Dr Mentor"})
    await _post(outreach, f"/safeguarding/people/{MENTOR}/dbs-checks", {
        "level": "enhanced_barred_children", "workforce": "child", "certificate_number": "001234567890",
        "issued_on": (today - timedelta(days=60)).isoformat(), "seen_how": "original_certificate",
    })  # fmt: skip
    await _post(outreach, f"/safeguarding/people/{MENTOR}/training", {
        "completed_on": (today - timedelta(days=50)).isoformat(),
        "expires_on": (today + timedelta(days=900)).isoformat(),
    })  # fmt: skip
    programme = await _post(outreach, "/mentoring/programmes", {
        "cycle_id": cycle_id, "name": "Mentoring", "starts_on": first_day, "ends_on": last_day,
        "interests": ["applying_to_medicine"],
    })  # fmt: skip
    slots = [{"weekday": "tuesday", "part_of_day": "evening"}]
    profile = {"interests": ["applying_to_medicine"], "availability": slots, "max_mentees": 2}
    await _put(outreach, f"/mentoring/programmes/{programme['id']}/mentors/{MENTOR}", profile)
    await _put(outreach, f"/mentoring/programmes/{programme['id']}/mentees/{participant}", {
        "interests": ["applying_to_medicine"], "availability": slots,
    })  # fmt: skip
    match = await _post(outreach, "/mentoring/matches", {
        "programme_id": programme["id"], "mentor_id": MENTOR, "participant_id": participant,
    })  # fmt: skip
    mentor = {"Authorization": "Bearer " + issue_token(outreach.service.settings, roles=[Role.STUDENT], subject=MENTOR)}
    accepted = await outreach.client.post(f"/mentoring/matches/{match['id']}/actions/accept", headers=mentor)
    assert accepted.status_code == 200, accepted.text
    await _post(outreach, f"/mentoring/matches/{match['id']}/sessions", {
        "held_on": today.isoformat(), "mode": "online", "minutes": 45, "topic": "applying_to_medicine", "notes": NOTES,
    })  # fmt: skip


async def _put(service: Running, path: str, body: Any) -> None:
    response = await service.client.put(path, json=body, headers=auth(service.service.settings, Role.COORDINATOR))
    assert response.status_code == 200, response.text


async def _rows(service: Running, metadata: Any) -> str:
    texts = []
    async with service.service.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in await connection.execute(select(table)):
                texts.append(" ".join(v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in row))
    return "\n".join(texts)


async def _queued(url: str, namespace: str) -> str:
    """Every message waiting in the namespace's queues, read and put back (never acknowledged)."""
    topology = Topology(namespace)
    bodies = []
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        for service in ("outreach", "notifications"):
            for name in (
                topology.consumer_queue_name(service),
                topology.retry_queue_name(service),
                topology.dead_letter_queue_name(service),
            ):
                try:
                    queue = await channel.get_queue(name, ensure=True)
                except aio_pika.exceptions.ChannelClosed:
                    channel = await connection.channel()
                    continue
                while (message := await queue.get(no_ack=False, fail=False)) is not None:
                    bodies.append(message.body.decode(errors="replace"))
        await channel.close()  # the unacknowledged messages go back to their queues
    return "\n".join(bodies)


async def _ops_log_about(notifications: Running, participant: str) -> list[str]:
    page = await notifications.get("/events", role=Role.OPS, limit=500)
    return [e["type"] for e in page["items"] if participant in str(e) and e["type"] not in KEPT]


async def test_an_erasure_leaves_no_trace_anywhere_within_a_minute(
    broker_namespace: tuple[str, str], sqlite_urls: DatabaseUrls, capfd: pytest.CaptureFixture[str]
) -> None:
    url, namespace = broker_namespace
    configure_logging("tests", "INFO")  # to this test's captured stdout (an earlier test may have bound another)
    async with running(
        "outreach", "notifications", rabbitmq_url=url, namespace=namespace, database_urls=sqlite_urls
    ) as services:
        outreach, notifications = services["outreach"], services["notifications"]
        participant, _ = await _participant(outreach)
        stored = await _rows(outreach, outreach_orm.metadata)
        assert SENTINELS["family_name"] in stored and NOTES in stored
        assert await eventually(lambda: _ops_log_about(notifications, participant), timeout_s=30)

        captured: list[str] = []  # every line logged so far (reading the capture empties it)
        started = time.monotonic()
        erased = await _post(outreach, f"/participants/{participant}/erasure", {"reason": "subject_request"})
        assert erased["partners_notified"] == 1

        async def gone() -> bool:
            captured.append("".join(capfd.readouterr()))
            if await _ops_log_about(notifications, participant):
                return False
            page = await notifications.get("/events", role=Role.OPS, limit=500)
            if not {e["type"] for e in page["items"]} >= KEPT:
                return False
            everything = "\n".join([
                await _rows(outreach, outreach_orm.metadata),
                await _rows(notifications, notifications_orm.metadata),
                await _queued(url, namespace),
                *captured,
            ])  # fmt: skip
            return not [s for s in [*SENTINELS.values(), ANSWER, NOTES] if s.lower() in everything.lower()]

        await eventually(gone, timeout_s=60, interval_s=0.5)
        elapsed = time.monotonic() - started

    captured.append("".join(capfd.readouterr()))
    with capfd.disabled():
        print(f"\nerasure end to end: {elapsed:.2f} s (limit 60 s)")
    assert elapsed < 60
    assert "/participants/{participant_id}/erasure" in "".join(captured)  # the request log is what is searched
    assert not [s for s in [*SENTINELS.values(), ANSWER, NOTES] if s.lower() in "".join(captured).lower()]
