"""Consent over HTTP on SQLite and PostgreSQL: the wording versioned, consents given and withdrawn, whose consent
is needed at which age, the state as of a past day, expiry at the end of the cycle, what may be done now, the
research extract following withdrawal at once, the events (never the wording or a date of birth), and erasure."""

import json
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.consent import ConsentScope
from medic.outreach.domain.history import Stream
from medic.outreach.service_layer import consent as handlers
from medic.outreach.service_layer import reports
from services.outreach.tests.consent_support import (
    PROGRAMME_ENDS_ON,
    WORDING,
    at,
    born_aged,
    consents,
    give,
    give_both,
    participant,
    publish,
    publish_all,
    scope_of,
    set_clock,
    withdraw,
)
from services.outreach.tests.primary_support import known_partner
from services.outreach.tests.school_support import Outreach
from services.outreach.tests.watcch_support import TODAY, setup

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def codes(unmet: list[dict[str, str]]) -> list[str]:
    return [u["code"] for u in unmet]


async def test_the_wording_is_versioned_per_scope_and_listed(outreach_app: Outreach) -> None:
    assert await publish(outreach_app, "research", "First wording") == 1
    assert await publish(outreach_app, "research", "Second wording") == 2
    assert await publish(outreach_app, "photographs") == 1
    listed = await outreach_app.client.get("/consent/texts", headers=outreach_app.coordinator)
    assert [(t["scope"], t["version"], t["text"]) for t in listed.json()] == [
        ("photographs", 1, WORDING),
        ("research", 1, "First wording"),
        ("research", 2, "Second wording"),
    ]
    research = await outreach_app.client.get(
        "/consent/texts", params={"scope": "research"}, headers=outreach_app.coordinator
    )
    assert [t["version"] for t in research.json()] == [1, 2]
    blank = await outreach_app.client.post(
        "/consent/texts", json={"scope": "research", "text": "   "}, headers=outreach_app.coordinator
    )
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"][-1] == "text"


async def test_a_guardian_is_needed_for_a_16_year_old_not_an_18_year_old_and_always_for_a_12_year_old(
    outreach_app: Outreach,
) -> None:
    await publish_all(outreach_app)
    cycle = await setup(outreach_app, capacity=10)
    sixteen = await participant(outreach_app, cycle=cycle, born=born_aged(16, TODAY))
    eighteen = await participant(outreach_app, cycle=cycle, born=born_aged(18, TODAY))
    twelve = await participant(outreach_app, cycle=cycle, born=born_aged(12, TODAY))
    for someone in (sixteen, eighteen, twelve):
        assert (await give(outreach_app, someone, "taking_part")).status_code == 201
    states = {who: await consents(outreach_app, who) for who in (sixteen, eighteen, twelve)}
    assert [states[w]["guardian_needed"] for w in (sixteen, eighteen, twelve)] == [True, False, True]
    assert scope_of(states[eighteen], "taking_part")["valid"] is True
    sixteens = scope_of(states[sixteen], "taking_part")
    assert sixteens["valid"] is False and codes(sixteens["unmet"]) == ["guardian_consent_missing"]
    # A policy of 13 (the lowest allowed) frees the 16-year-old, never the 12-year-old
    state = outreach_app.service.app.state
    factory = state.uow_factory

    def at_thirteen() -> OutreachUnitOfWork:
        uow: OutreachUnitOfWork = factory()
        uow.policies = replace(uow.policies, consent=replace(uow.policies.consent, guardian_age=13))
        return uow

    state.uow_factory = at_thirteen
    try:
        assert (await consents(outreach_app, sixteen))["guardian_needed"] is False
        assert (await consents(outreach_app, twelve))["guardian_needed"] is True
    finally:
        state.uow_factory = factory
    assert (await give(outreach_app, sixteen, "taking_part", "guardian")).status_code == 201
    assert scope_of(await consents(outreach_app, sixteen), "taking_part")["valid"] is True


async def test_an_as_of_query_for_the_day_before_a_withdrawal_shows_the_consent_given(outreach_app: Outreach) -> None:
    await publish_all(outreach_app)
    someone = await participant(outreach_app, born=born_aged(18, TODAY))
    day = TODAY + timedelta(days=1)
    set_clock(outreach_app, at(day))
    assert (await give(outreach_app, someone, "photographs", method="paper_form",
                       form_dated_on=TODAY.isoformat())).status_code == 201  # fmt: skip
    set_clock(outreach_app, at(day + timedelta(days=2)))
    assert (await withdraw(outreach_app, someone, "photographs")).status_code == 201
    before = scope_of(await consents(outreach_app, someone, day + timedelta(days=1)), "photographs")
    assert before["valid"] is True and [r["status"] for r in before["records"]] == ["given"]
    after = scope_of(await consents(outreach_app, someone, day + timedelta(days=2)), "photographs")
    assert after["valid"] is False and codes(after["unmet"]) == ["consent_withdrawn"]
    earlier = scope_of(await consents(outreach_app, someone, TODAY), "photographs")
    assert codes(earlier["unmet"]) == ["consent_missing"] and earlier["records"] == []
    history = await outreach_app.client.get(
        f"/participants/{someone}/consents/history", headers=outreach_app.coordinator
    )
    assert [(r["kind"], r["scope"], r["form_dated_on"]) for r in history.json()] == [
        ("given", "photographs", TODAY.isoformat()),
        ("withdrawn", "photographs", None),
    ]
    future = await outreach_app.client.get(
        f"/participants/{someone}/consents", params={"as_of": (day + timedelta(days=3)).isoformat()},
        headers=outreach_app.coordinator,
    )  # fmt: skip
    assert future.status_code == 409 and future.json()["detail"][0]["loc"] == ["query", "as_of"]


async def test_a_withdrawal_recorded_now_makes_consent_check_invalid_at_once(outreach_app: Outreach) -> None:
    await publish_all(outreach_app)
    someone = await participant(outreach_app)  # 16: a guardian's consent is needed too
    await give_both(outreach_app, someone, "mentoring")
    await give_both(outreach_app, someone, "taking_part")
    uow = outreach_app.service.app.state.uow_factory()
    scopes = [ConsentScope.TAKING_PART, ConsentScope.MENTORING]
    assert (await handlers.consent_check(uow, uuid.UUID(someone), scopes, TODAY)).valid
    assert (await withdraw(outreach_app, someone, "mentoring", "guardian")).status_code == 201
    check = await handlers.consent_check(uow, uuid.UUID(someone), scopes, TODAY)
    assert not check.valid
    assert [(u.code, u.subject) for u in check.unmet] == [("consent_withdrawn", someone)]
    async with uow:  # inside a caller's transaction too
        inside = await handlers.consent_check(uow, uuid.UUID(someone), [ConsentScope.TAKING_PART], TODAY)
    assert inside.valid
    again = await withdraw(outreach_app, someone, "mentoring", "guardian")
    assert again.status_code == 409
    assert again.json()["detail"] == "no parent's or guardian's consent to mentoring stands to withdraw"


async def test_a_consent_expires_at_the_end_of_the_cycle_or_earlier_if_it_says(outreach_app: Outreach) -> None:
    await publish_all(outreach_app)
    someone = await participant(outreach_app, born=born_aged(18, TODAY))
    assert (await give(outreach_app, someone, "taking_part")).status_code == 201
    earlier = PROGRAMME_ENDS_ON - timedelta(days=60)
    assert (await give(outreach_app, someone, "research", expires_on=earlier.isoformat())).status_code == 201
    set_clock(outreach_app, at(PROGRAMME_ENDS_ON + timedelta(days=1)))
    on_last_day = await consents(outreach_app, someone, PROGRAMME_ENDS_ON)
    assert scope_of(on_last_day, "taking_part")["valid"] is True
    assert scope_of(on_last_day, "taking_part")["records"][0]["expires_on"] == PROGRAMME_ENDS_ON.isoformat()
    assert codes(scope_of(on_last_day, "research")["unmet"]) == ["consent_expired"]
    day_after = await consents(outreach_app, someone)
    assert codes(scope_of(day_after, "taking_part")["unmet"]) == ["consent_expired"]
    assert scope_of(day_after, "taking_part")["records"][0]["status"] == "expired"


async def test_refusals_name_the_field_or_the_reason(outreach_app: Outreach) -> None:
    await publish(outreach_app, "taking_part")
    await publish(outreach_app, "partner_sharing")
    someone = await participant(outreach_app)
    partner = str(await known_partner(outreach_app))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"scope": "research"}, "text_version"),  # no research wording published
        ({"text_version": 2}, "text_version"),
        ({"method": "paper_form"}, "form_dated_on"),
        ({"form_dated_on": (TODAY + timedelta(days=1)).isoformat()}, "form_dated_on"),
        ({"expires_on": (PROGRAMME_ENDS_ON + timedelta(days=1)).isoformat()}, "expires_on"),
        ({"expires_on": (TODAY - timedelta(days=1)).isoformat()}, "expires_on"),
        ({"partner_ids": [partner]}, "partner_ids"),  # only partner sharing names partners
        ({"scope": "partner_sharing"}, "partner_ids"),  # and it names at least one
        ({"scope": "partner_sharing", "partner_ids": [str(uuid.uuid4())]}, "partner_ids"),  # a known one
    ]
    for fields, field in cases:
        response = await give(outreach_app, someone, **{"scope": "taking_part", **fields})
        assert response.status_code == 409, (fields, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", field], fields
    nothing = await withdraw(outreach_app, someone, "taking_part")
    assert nothing.status_code == 409 and "to withdraw" in nothing.json()["detail"]
    wrong = await withdraw(outreach_app, someone, "taking_part", partner_id=partner)
    assert wrong.status_code == 409 and wrong.json()["detail"][0]["loc"] == ["body", "partner_id"]
    bad = await give(outreach_app, someone, "taking_part", party="parent")
    assert bad.status_code == 422
    for method, path in (
        ("POST", f"/participants/{UNKNOWN}/consents"),
        ("POST", f"/participants/{UNKNOWN}/consents/withdrawals"),
        ("GET", f"/participants/{UNKNOWN}/consents"),
        ("GET", f"/participants/{UNKNOWN}/consents/history"),
        ("GET", f"/participants/{UNKNOWN}/permissions"),
    ):
        body = {"party": "participant", "scope": "taking_part", "text_version": 1, "method": "email"}
        if path.endswith("withdrawals"):
            del body["text_version"]
        response = await outreach_app.client.request(
            method, path, json=body if method == "POST" else None, headers=outreach_app.coordinator
        )
        assert response.status_code == 404, (path, response.text)


async def test_permissions_say_what_may_be_done_and_partner_sharing_stops_per_partner(outreach_app: Outreach) -> None:
    await publish_all(outreach_app)
    someone = await participant(outreach_app)  # 16
    first, second = str(await known_partner(outreach_app)), str(await known_partner(outreach_app))
    await give_both(outreach_app, someone, "photographs")
    await give_both(outreach_app, someone, "partner_sharing", partner_ids=[first, second])
    assert (await give(outreach_app, someone, "research")).status_code == 201  # the guardian's is missing
    url = f"/participants/{someone}/permissions"
    permissions = (await outreach_app.client.get(url, headers=outreach_app.coordinator)).json()
    assert permissions["photographs"] is True and permissions["research"] is False
    assert sorted(permissions["partner_ids"]) == sorted([first, second])
    assert "guardian_consent_missing" in codes(permissions["unmet"])
    assert (await withdraw(outreach_app, someone, "partner_sharing", "guardian", partner_id=first)).status_code == 201
    assert (await withdraw(outreach_app, someone, "photographs")).status_code == 201
    permissions = (await outreach_app.client.get(url, headers=outreach_app.coordinator)).json()
    assert permissions["photographs"] is False and permissions["partner_ids"] == [second]
    uow = outreach_app.service.app.state.uow_factory()
    sharing = [ConsentScope.PARTNER_SHARING]
    assert (await handlers.consent_check(uow, uuid.UUID(someone), sharing, TODAY, partner_id=uuid.UUID(second))).valid
    with_first = await handlers.consent_check(uow, uuid.UUID(someone), sharing, TODAY, partner_id=uuid.UUID(first))
    assert [u.code for u in with_first.unmet] == ["consent_withdrawn"]
    stranger = await handlers.consent_check(uow, uuid.UUID(someone), sharing, TODAY, partner_id=uuid.uuid4())
    assert [u.code for u in stranger.unmet] == ["partner_not_named", "partner_not_named"]
    # Withdrawn for every partner the guardian named: sharing stops with everyone
    assert (await withdraw(outreach_app, someone, "partner_sharing", "guardian")).status_code == 201
    permissions = (await outreach_app.client.get(url, headers=outreach_app.coordinator)).json()
    assert permissions["partner_ids"] == []
    types = [t for t, _ in await outreach_app.outbox() if t.startswith("outreach.consent.")]
    assert types.count("outreach.consent.withdrawn.v1") == 3
    withdrawn = [json.loads(b)["data"] for t, b in await outreach_app.outbox() if t == "outreach.consent.withdrawn.v1"]
    assert [w["partner_ids"] for w in withdrawn] == [[first], [], [second]]


async def test_the_research_extract_drops_a_participant_the_moment_consent_is_withdrawn(
    outreach_app: Outreach,
) -> None:
    await publish_all(outreach_app)
    cycle = await setup(outreach_app, capacity=10)
    adult = await participant(outreach_app, cycle=cycle, enrol=True, born=born_aged(18, TODAY))
    child = await participant(outreach_app, cycle=cycle, enrol=True)  # 16
    not_asked = await participant(outreach_app, cycle=cycle, enrol=True)
    assert (await give(outreach_app, adult, "research")).status_code == 201
    assert (await give(outreach_app, child, "research")).status_code == 201  # not enough alone: a guardian too

    async def extract() -> list[str]:
        response = await outreach_app.client.get("/reports/research-extract", headers=outreach_app.coordinator)
        assert response.status_code == 200, response.text
        assert response.json()["built_on"] == TODAY.isoformat()
        return sorted(r["participant_id"] for r in response.json()["rows"])

    assert await extract() == [adult]
    assert (await give(outreach_app, child, "research", "guardian")).status_code == 201
    assert await extract() == sorted([adult, child])
    assert (await withdraw(outreach_app, child, "research", "guardian")).status_code == 201
    assert await extract() == [adult]
    rows = await reports.research_extract(outreach_app.service.app.state.uow_factory(), on=TODAY)
    assert [str(r.participant_id) for r in rows] == [adult]
    assert not_asked not in await extract()


async def test_events_carry_ids_codes_and_dates_never_the_wording_or_a_date_of_birth(outreach_app: Outreach) -> None:
    secret_wording = "Sentinel-wording-Plumtree I agree"
    await publish(outreach_app, "taking_part", secret_wording)
    born = born_aged(16, TODAY)
    someone = await participant(outreach_app, born=born)
    assert (await give(outreach_app, someone, "taking_part", method="paper_form",
                       form_dated_on=TODAY.isoformat())).status_code == 201  # fmt: skip
    assert (await withdraw(outreach_app, someone, "taking_part")).status_code == 201
    consent_events = [(t, json.loads(b)) for t, b in await outreach_app.outbox() if t.startswith("outreach.consent")]
    assert [t for t, _ in consent_events] == ["outreach.consent.given.v1", "outreach.consent.withdrawn.v1"]
    given = consent_events[0][1]["data"]
    assert given["participant_id"] == someone and given["party"] == "participant"
    assert given["text_version"] == 1 and given["given_on"] == TODAY.isoformat()
    assert given["expires_on"] == PROGRAMME_ENDS_ON.isoformat()
    everything = json.dumps([e for _, e in consent_events])
    assert "Sentinel-wording" not in everything and born.isoformat() not in everything
    uow = outreach_app.service.app.state.uow_factory()
    async with uow:
        recorded = await uow.history.events(Stream.CONSENT, someone)
    assert born.isoformat() not in json.dumps([dict(e.data) for e in recorded])


async def test_forgetting_a_participant_deletes_their_consents_and_names_the_partners(outreach_app: Outreach) -> None:
    await publish_all(outreach_app)
    cycle = await setup(outreach_app, capacity=10)
    someone = await participant(outreach_app, cycle=cycle, born=born_aged(18, TODAY))
    other = await participant(outreach_app, cycle=cycle, born=born_aged(18, TODAY))
    first, second = await known_partner(outreach_app), await known_partner(outreach_app)
    assert (await give(outreach_app, someone, "partner_sharing", partner_ids=[str(first)])).status_code == 201
    assert (await give(outreach_app, someone, "partner_sharing", partner_ids=[str(second)])).status_code == 201
    assert (await withdraw(outreach_app, someone, "partner_sharing")).status_code == 201
    assert (await give(outreach_app, other, "taking_part")).status_code == 201
    uow = outreach_app.service.app.state.uow_factory()
    assert await handlers.forget_participant(uow, uuid.UUID(someone)) == {first, second}
    async with uow:
        assert await uow.history.events(Stream.CONSENT, someone) == []
        assert len(await uow.history.events(Stream.CONSENT, other)) == 1
    assert await handlers.forget_participant(uow, uuid.UUID(someone)) == set()  # again: nothing left
