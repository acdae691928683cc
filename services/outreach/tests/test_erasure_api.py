"""Erasure of a WATCCH participant and of a medical student's safeguarding record, over HTTP, on both backends: what
goes, what stays (and still counts), the events, idempotency, and no sentinel left in any table."""

import json
import uuid
from typing import Any

from sqlalchemy import select

from medic.outreach.adapters import orm
from medic.outreach.adapters.orm_watcch import participants, watcch_applications
from services.outreach.tests import consent_support as consent
from services.outreach.tests import watcch_support as watcch
from services.outreach.tests.activity_support import register, schedule
from services.outreach.tests.primary_support import known_partner
from services.outreach.tests.school_support import Outreach

ERASE = {"reason": "subject_request", "request_reference": "DPO-2026-0142"}
ERASED = "outreach.participant.erased.v1"
NOTICE = "outreach.partner_erasure_notice.requested.v1"
# The erased participant's details: sentinels of their own (others applying keep theirs)
FORGOTTEN = {
    "given_name": "Sentinel-Erasmina",
    "family_name": "Sentinel-Forgetmenot",
    "email": "erasmina.forgetmenot@example.com",
    "phone": "07700 900123",
    "guardian_name": "Sentinel-Guardian-Obliviana",
    "guardian_email": "obliviana.g@example.com",
    "referee_name": "Sentinel-Referee-Lethe",
    "referee_email": "lethe.referee@school.example.sch.uk",
}
FORGOTTEN_ANSWER = "Sentinel-answer-Mnemosyne-volunteering"


async def every_row(app: Outreach) -> str:
    """Every row of every outreach table (the outbox's bodies too), as text."""
    texts = []
    async with app.service.engine.connect() as connection:
        for table in orm.metadata.sorted_tables:
            for row in await connection.execute(select(table)):
                texts.append(" ".join(v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in row))
    return "\n".join(texts)


async def rows_of(app: Outreach, table: Any, participant_id: str) -> int:
    async with app.service.engine.connect() as connection:
        query = select(table).where(table.c.participant_id == uuid.UUID(participant_id))
        return len((await connection.execute(query)).all())


async def _consent_to_partner_sharing(app: Outreach, participant_id: str, partner: uuid.UUID) -> bool:
    """Partner sharing consented, naming `partner`, if the consent area takes it as written (else False)."""
    texts = {
        scope: await app.client.post(
            "/consent/texts",
            json={"scope": scope, "text": f"Sentinel-consent-wording-{scope}"},
            headers=app.coordinator,
        )
        for scope in ("taking_part", "partner_sharing")
    }
    if any(r.status_code != 201 for r in texts.values()):
        return False
    recorded = []
    for party in ("participant", "guardian"):
        for scope in ("taking_part", "partner_sharing"):
            body = {
                "party": party,
                "scope": scope,
                "text_version": 1,
                "method": "online_form",
                "partner_ids": [str(partner)] if scope == "partner_sharing" else [],
            }
            response = await app.client.post(
                f"/participants/{participant_id}/consents", json=body, headers=app.coordinator
            )
            recorded.append(response.status_code)
    return 201 in recorded


async def test_erasing_a_participant_deletes_their_details_keeps_the_counts_and_tells_everyone(
    outreach_app: Outreach,
) -> None:
    app = outreach_app
    cycle = await watcch.setup(app, capacity=1)
    enrolled = await watcch.enter(
        app, cycle["id"], **FORGOTTEN, home_postcode="EC1A 1BB", answers={watcch.QUESTION: FORGOTTEN_ANSWER}
    )
    for action in ("accept", "enrol"):
        assert (await watcch.act(app, enrolled["id"], action)).status_code == 200
    waiting = await watcch.enter(app, cycle["id"], given_name="Waitlisted")
    assert await watcch.state(app, waiting["id"]) == "waitlisted"
    link = await app.client.post(f"/watcch/applications/{enrolled['id']}/referee-link", headers=app.coordinator)
    assert link.status_code == 201
    activity = await schedule(app, cycle["id"])
    await register(app, activity["id"], enrolled["participant_id"])
    partner = await known_partner(app)
    consented = await _consent_to_partner_sharing(app, enrolled["participant_id"], partner)
    participant_id = enrolled["participant_id"]
    assert FORGOTTEN["family_name"] in await every_row(app)
    before = len(await app.outbox())

    response = await app.client.post(f"/participants/{participant_id}/erasure", json=ERASE, headers=app.coordinator)

    assert response.status_code == 201, response.text
    record = response.json()
    assert record["status"] == "erased" and record["subject_id"] == participant_id
    assert record["reason"] == "subject_request" and record["request_reference"] == "DPO-2026-0142"
    assert record["deleted"]["personal_details"] == 1
    assert record["deleted"]["individual_indicators"] >= 1
    assert record["deleted"]["referee_links"] == 1
    assert record["deleted"]["decisions_stripped"] == 1
    assert record["deleted"]["applications_withdrawn"] == 1
    assert record["partners_notified"] == (1 if consented else 0)
    # Deleted, not masked: no sentinel anywhere in any table
    everything = await every_row(app)
    # (the postcode itself stays in the ONS directory loaded: reference data, not about anyone)
    leaked = [s for s in [*FORGOTTEN.values(), FORGOTTEN_ANSWER] if s.lower() in everything.lower()]
    assert leaked == [], leaked
    for table in (orm.metadata.tables[name] for name in (
        "personal_details", "participant_areas", "participant_area_indicators", "individual_indicators",
    )):  # fmt: skip
        assert await rows_of(app, table, participant_id) == 0, table.name
    # The pseudonymous id stays where it only counts: the participant, the application's state, attendance
    assert await rows_of(app, participants, participant_id) == 1
    assert await rows_of(app, orm.metadata.tables["activity_registrations"], participant_id) == 1
    async with app.service.engine.connect() as connection:
        query = select(watcch_applications.c.decision).where(watcch_applications.c.id == uuid.UUID(enrolled["id"]))
        assert (await connection.execute(query)).scalar_one() == {"eligible": True, "findings": []}
    shown = (await app.client.get(f"/watcch/applications/{enrolled['id']}", headers=app.coordinator)).json()
    assert shown["personal_details"] is None and shown["state"] == "withdrawn"
    # Their place went to the waitlist, as on any withdrawal
    assert await watcch.state(app, waiting["id"]) == "offered"
    # Events: withdrawn (before), erased, and a notice per partner named in a partner-sharing consent
    published = (await app.outbox())[before:]
    types = [t for t, _ in published]
    assert types.count(ERASED) == 1 and types.count(NOTICE) == (1 if consented else 0)
    assert types.index("outreach.watcch_application.withdrawn.v1") < types.index(ERASED)
    erased = json.loads(next(b for t, b in published if t == ERASED))
    assert erased["subject"] == f"participants/{participant_id}"
    assert set(erased["data"]) == {"participant_id", "erased_at", "erasure_id"}
    if consented:
        notice = json.loads(next(b for t, b in published if t == NOTICE))
        assert notice["data"]["partner_id"] == str(partner)

    again = await app.client.post(
        f"/participants/{participant_id}/erasure", json={"reason": "consent_withdrawn"}, headers=app.coordinator
    )

    assert again.status_code == 200
    assert again.json() == {**record, "status": "already_erased"}
    assert len(await app.outbox()) == before + len(published)  # nothing new
    listed = (await app.client.get("/erasures", headers=app.coordinator)).json()
    assert [r["id"] for r in listed] == [record["id"]]


async def test_an_unknown_participant_is_404_and_bad_input_422(outreach_app: Outreach) -> None:
    app = outreach_app
    unknown = await app.client.post(f"/participants/{uuid.uuid4()}/erasure", json=ERASE, headers=app.coordinator)
    assert unknown.status_code == 404
    cycle = await watcch.setup(app)
    entered = await watcch.enter(app, cycle["id"])
    for body, field in (
        ({"reason": "because they asked nicely"}, "reason"),
        ({"reason": "subject_request", "request_reference": "Ms Zephyrina Quillfeather"}, "request_reference"),
        ({"reason": "subject_request", "note": "free text"}, "note"),
    ):
        response = await app.client.post(
            f"/participants/{entered['participant_id']}/erasure", json=body, headers=app.coordinator
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][-1] == field
        assert "Quillfeather" not in response.text
    assert await rows_of(app, orm.metadata.tables["personal_details"], entered["participant_id"]) == 1


async def test_a_concurrent_second_erasure_finds_the_first(outreach_app: Outreach) -> None:
    import asyncio

    app = outreach_app
    cycle = await watcch.setup(app)
    entered = await watcch.enter(app, cycle["id"])
    url = f"/participants/{entered['participant_id']}/erasure"
    answers = await asyncio.gather(*(app.client.post(url, json=ERASE, headers=app.coordinator) for _ in range(3)))
    assert sorted(a.status_code for a in answers) == [200, 200, 201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert [t for t, _ in await app.outbox()].count(ERASED) == 1


async def _register_person(app: Outreach, person_id: str) -> bool:
    """A medical student registered with the safeguarding area, if its route takes this body."""
    body = {"person_id": person_id, "full_name": "Sentinel-Ignatius Threadgold"}
    response = await app.client.post("/safeguarding/people", json=body, headers=app.coordinator)
    return response.status_code == 201


async def test_erasing_a_safeguarding_record(outreach_app: Outreach) -> None:
    app = outreach_app
    unknown = await app.client.post("/safeguarding/people/9999999/erasure", json=ERASE, headers=app.coordinator)
    assert unknown.status_code == 404
    if not await _register_person(app, "2301234"):
        return  # the safeguarding area's registration differs: covered by the end-to-end test
    before = len(await app.outbox())
    body = {"reason": "left_the_programme"}
    response = await app.client.post("/safeguarding/people/2301234/erasure", json=body, headers=app.coordinator)
    assert response.status_code == 201, response.text
    assert response.json()["subject_kind"] == "safeguarding_person"
    assert "Threadgold" not in await every_row(app)
    types = [t for t, _ in (await app.outbox())[before:]]
    assert types.count("outreach.safeguarding_person.erased.v1") == 1
    again = await app.client.post("/safeguarding/people/2301234/erasure", json=body, headers=app.coordinator)
    assert again.status_code == 200 and again.json()["status"] == "already_erased"
    assert len(await app.outbox()) == before + len(types)


async def test_no_consent_is_recorded_for_an_erased_participant(outreach_app: Outreach) -> None:
    """Erased is gone: a consent given or withdrawn afterwards is 404 (it would otherwise outlive the erasure, and
    its partners would never be told), and so are the consent views."""
    app = outreach_app
    participant_id = await consent.participant(app)
    await consent.publish_all(app)
    assert (await consent.give(app, participant_id, "research")).status_code == 201
    response = await app.client.post(f"/participants/{participant_id}/erasure", json=ERASE, headers=app.coordinator)
    assert response.status_code == 201, response.text
    assert (await consent.give(app, participant_id, "research")).status_code == 404
    assert (await consent.withdraw(app, participant_id, "research")).status_code == 404
    view = await app.client.get(f"/participants/{participant_id}/consents", headers=app.coordinator)
    assert view.status_code == 404
    async with app.service.engine.connect() as connection:
        c = orm.metadata.tables["record_history"].c
        left = await connection.execute(select(c.seq).where(c.subject_id == participant_id))
        assert left.all() == []
