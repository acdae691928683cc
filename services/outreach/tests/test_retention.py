"""The yearly retention review: its dates (hypothesis), then over HTTP on both backends with the service's clock
moved: listed once per year, kept with a reason, refused before its erasing day, erased through the erasure use case,
completed once; and the timer, twice at once (two replicas), listing and completing exactly once."""

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from medic.outreach.domain.dates import add_months, add_years
from medic.outreach.domain.retention import (
    ItemStatus,
    KeepReason,
    RetentionPolicy,
    erase_from,
    listing_day,
    review_year,
)
from medic.outreach.service_layer.retention_timers import RetentionSweep
from services.outreach.tests import watcch_support as watcch
from services.outreach.tests.school_support import Outreach

POLICY = RetentionPolicy(participant_years=6, safeguarding_months=6, min_review_days=30)
LISTED = "outreach.retention_review.listed.v1"
COMPLETED = "outreach.retention_review.completed.v1"


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)))
def test_a_day_belongs_to_the_review_of_the_latest_1_september(day: date) -> None:
    year = review_year(day)
    assert listing_day(year) <= day < listing_day(year + 1)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)))
def test_erasing_starts_on_1_november_and_never_sooner_than_the_review_window(listed_on: date) -> None:
    year = review_year(listed_on)
    start = erase_from(year, listed_on, POLICY)
    assert start >= date(year, 11, 1) and start >= listed_on + timedelta(days=POLICY.min_review_days)
    if listed_on <= date(year, 11, 1) - timedelta(days=POLICY.min_review_days):
        assert start == date(year, 11, 1)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)), st.integers(-120, 120))
def test_months_and_years_move_by_calendar(day: date, n: int) -> None:
    moved = add_months(day, n)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == n
    assert moved.day == day.day or moved.day < day.day
    assert add_years(day, n // 12).year == day.year + n // 12


def at(app: Outreach, moment: datetime) -> None:
    app.service.app.state.clock = lambda: moment


async def _participants(app: Outreach) -> list[dict[str, Any]]:
    cycle = await watcch.setup(app, capacity=3)
    return [await watcch.enter(app, cycle["id"]) for _ in range(2)]


async def test_a_review_lists_keeps_and_erases_what_is_past_its_retention(outreach_app: Outreach) -> None:
    app = outreach_app
    first, second = await _participants(app)
    ended = date.fromisoformat(watcch.cycle_body()["programme_ends_on"])
    year = ended.year + 7
    at(app, datetime(year, 9, 2, 9, tzinfo=UTC))

    listed = await app.client.post("/retention/reviews", headers=app.coordinator)

    assert listed.status_code == 201, listed.text
    review = listed.json()
    assert review["year"] == year and review["erase_from"] == f"{year}-11-01" and review["listed"] == 2
    assert {i["subject_id"] for i in review["items"]} == {first["participant_id"], second["participant_id"]}
    again = await app.client.post("/retention/reviews", headers=app.coordinator)
    assert again.status_code == 200 and again.json()["id"] == review["id"]
    kept_item = next(i for i in review["items"] if i["subject_id"] == second["participant_id"])
    base = f"/retention/reviews/{review['id']}"
    too_soon = {"reason": "legal_claim", "review_again_on": f"{year}-09-02"}
    refused = await app.client.post(f"{base}/items/{kept_item['id']}/keep", json=too_soon, headers=app.coordinator)
    assert refused.status_code == 409 and refused.json()["detail"][0]["loc"] == ["body", "review_again_on"]
    keep = {"reason": "legal_claim", "review_again_on": f"{year + 2}-09-01"}
    kept = await app.client.post(f"{base}/items/{kept_item['id']}/keep", json=keep, headers=app.coordinator)
    assert kept.status_code == 200, kept.text
    assert kept.json()["status"] == "kept" and kept.json()["keep_reason"] == "legal_claim"
    early = await app.client.post(f"{base}/run", headers=app.coordinator)
    assert early.status_code == 409 and early.json()["detail"][0]["loc"] == ["body", "erase_from"]

    at(app, datetime(year, 11, 1, 9, tzinfo=UTC))
    ran = await app.client.post(f"{base}/run", headers=app.coordinator)

    assert ran.status_code == 200, ran.text
    report = ran.json()
    assert report["status"] == "completed"
    assert (report["listed"], report["kept"], report["erased"], report["failed"]) == (2, 1, 1, 0)
    shown = await app.client.get(f"/watcch/applications/{first['id']}", headers=app.coordinator)
    assert shown.json()["personal_details"] is None
    kept_shown = await app.client.get(f"/watcch/applications/{second['id']}", headers=app.coordinator)
    assert kept_shown.json()["personal_details"] is not None
    erasures = (await app.client.get("/erasures", headers=app.coordinator)).json()
    assert [(e["subject_id"], e["reason"], e["erased_by"], e["retention_review_id"]) for e in erasures] == [
        (first["participant_id"], "retention_period_ended", "retention-sweep", review["id"])
    ]
    assert (await app.client.post(f"{base}/run", headers=app.coordinator)).status_code == 409
    assert (await app.client.get(base, headers=app.coordinator)).json() == report
    types = [t for t, _ in await app.outbox()]
    assert types.count(LISTED) == 1 and types.count(COMPLETED) == 1
    # Next year: the kept one is not listed again before its day
    at(app, datetime(year + 1, 9, 1, 9, tzinfo=UTC))
    next_year = (await app.client.post("/retention/reviews", headers=app.coordinator)).json()
    assert next_year["year"] == year + 1 and next_year["listed"] == 0


async def test_unknown_reviews_and_items_are_404(outreach_app: Outreach) -> None:
    app = outreach_app
    unknown = uuid.uuid4()
    assert (await app.client.get(f"/retention/reviews/{unknown}", headers=app.coordinator)).status_code == 404
    assert (await app.client.post(f"/retention/reviews/{unknown}/run", headers=app.coordinator)).status_code == 404
    review = (await app.client.post("/retention/reviews", headers=app.coordinator)).json()
    keep = {"reason": "legal_claim", "review_again_on": "2099-09-01"}
    url = f"/retention/reviews/{review['id']}/items/{unknown}/keep"
    assert (await app.client.post(url, json=keep, headers=app.coordinator)).status_code == 404


async def test_the_timer_on_two_replicas_lists_and_completes_once(outreach_app: Outreach) -> None:
    app = outreach_app
    await _participants(app)
    ended = date.fromisoformat(watcch.cycle_body()["programme_ends_on"])
    year = ended.year + 6
    factory = app.service.app.state.uow_factory
    moment = datetime(year, ended.month, ended.day, 12, tzinfo=UTC)  # six years to the day: not past yet
    replicas = [RetentionSweep(factory, POLICY, interval_s=3600, zone=app.service.retention_sweep._zone,
                               now=lambda: moment) for _ in range(2)]  # fmt: skip

    async def tick_both() -> list[Any]:
        return await asyncio.gather(*(r.tick() for r in replicas), return_exceptions=True)

    assert await tick_both() == [None, None]
    # Ticks that lose a race to the other replica fail (a unique key) and are logged by the loop; none lists twice.
    moment = datetime(year, 9, 1, 9, tzinfo=UTC)
    await tick_both()
    await tick_both()
    moment = datetime(year, 11, 1, 9, tzinfo=UTC)
    await tick_both()
    await tick_both()

    types = [t for t, _ in await app.outbox()]
    assert types.count(LISTED) == 1 and types.count(COMPLETED) == 1
    assert types.count("outreach.participant.erased.v1") == 2
    reviews = (await app.client.get("/retention/reviews", headers=app.coordinator)).json()
    assert [(r["year"], r["status"]) for r in reviews] == [(year, "completed")]


async def test_a_keep_too_late_for_an_erasure_is_refused_and_the_item_shows_it_erased(outreach_app: Outreach) -> None:
    """The sweep's erasure and a coordinator's keep race: once the erasure is recorded the keep is 409; a keep that
    committed while the erasure ran is overwritten by the truth, `erased`."""
    app = outreach_app
    first, second = await _participants(app)
    year = date.fromisoformat(watcch.cycle_body()["programme_ends_on"]).year + 7
    at(app, datetime(year, 9, 2, 9, tzinfo=UTC))
    review = (await app.client.post("/retention/reviews", headers=app.coordinator)).json()
    by_subject = {i["subject_id"]: i for i in review["items"]}
    base = f"/retention/reviews/{review['id']}"
    keep = {"reason": "legal_claim", "review_again_on": f"{year + 2}-09-01"}
    for participant in (first, second):  # erased meanwhile by hand (a subject's request)
        url = f"/participants/{participant['participant_id']}/erasure"
        assert (await app.client.post(url, json={"reason": "subject_request"}, headers=app.coordinator)).is_success
    late = await app.client.post(
        f"{base}/items/{by_subject[first['participant_id']]['id']}/keep", json=keep, headers=app.coordinator
    )
    assert late.status_code == 409 and late.json()["detail"][0]["loc"] == ["body", "item_id"], late.text
    kept_id = uuid.UUID(by_subject[second["participant_id"]]["id"])
    async with app.service.app.state.uow_factory() as uow:  # the keep that won the race against the erasure
        assert await uow.erasure.keep(
            kept_id, KeepReason.LEGAL_CLAIM, date(year + 2, 9, 1), by="c", now=datetime.now(UTC)
        )
        assert await uow.erasure.mark_item(kept_id, ItemStatus.ERASED, now=datetime.now(UTC))
        await uow.commit()
    shown = (await app.client.get(base, headers=app.coordinator)).json()
    assert {i["subject_id"]: i["status"] for i in shown["items"]}[second["participant_id"]] == "erased"
