"""WATCCH, on SQLite and PostgreSQL: a withdrawal gives up the participant's places and waitlist positions in the
cycle's activities to come; the activity waitlist passes over anyone no longer enrolled; one offer's conflict does
not stop the expiry of the others."""

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from medic.outreach.adapters.watcch_repository import WatcchRepository
from medic.outreach.domain.watcch import Application, State
from services.outreach.tests.activity_support import NOW, register, schedule
from services.outreach.tests.school_support import SCHOOL, Outreach
from services.outreach.tests.watcch_support import act, enter, open_cycle, setup, state

FUTURE = {"starts_at": (NOW + timedelta(days=3)).isoformat(), "ends_at": (NOW + timedelta(days=3, hours=2)).isoformat()}


async def enrolled(app: Outreach, n: int) -> tuple[str, list[tuple[str, str]]]:
    """A cycle with `n` enrolled participants: (application id, participant id) each."""
    await app.register(**{**SCHOOL, "phase": "secondary"})
    cycle = await open_cycle(app, capacity=n)
    found = []
    for _ in range(n):
        application = await enter(app, cycle["id"])
        for action in ("accept", "enrol"):
            assert (await act(app, application["id"], action)).status_code == 200
        found.append((application["id"], str(application["participant_id"])))
    return str(cycle["id"]), found


async def listing(app: Outreach, activity: dict[str, Any]) -> list[tuple[str, str]]:
    url = f"/activities/{activity['id']}/registrations"
    return [(r["participant_id"], r["status"]) for r in (await app.client.get(url, headers=app.coordinator)).json()]


async def test_a_withdrawal_releases_places_and_waitlist_positions_in_activities_to_come(app: Outreach) -> None:
    cycle_id, [(ada_app, ada), (_, ben), (_, cai), (_, dee)] = await enrolled(app, 4)
    first = await schedule(app, cycle_id, capacity=1, **FUTURE)
    second = await schedule(app, cycle_id, capacity=1, **FUTURE)
    started = await schedule(app, cycle_id, capacity=1)  # began an hour ago: its record stays
    for activity, participants in ((first, (ada, ben)), (second, (cai, ada)), (started, (ada, dee))):
        for participant in participants:
            await register(app, activity["id"], participant)

    withdrawn = await act(app, ada_app, "withdraw", "Moved out of the area")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"

    assert await listing(app, first) == [(ben, "registered"), (ada, "cancelled")]
    assert await listing(app, second) == [(cai, "registered"), (ada, "cancelled")]
    assert await listing(app, started) == [(ada, "registered"), (dee, "waitlisted")]
    views = [(await app.client.get(f"/activities/{a['id']}", headers=app.coordinator)).json() for a in (first, second)]
    assert [(v["places_taken"], v["waitlisted"]) for v in views] == [(1, 0), (1, 0)]
    # The same events as cancellations through the activities' routes, in the withdrawal's transaction.
    outbox = await app.outbox()
    withdrawal = next(json.loads(b)["correlationid"] for t, b in outbox if t.endswith("application.withdrawn.v1"))
    released = [
        (t.rsplit(".", 2)[-2], json.loads(b)["data"])
        for t, b in outbox
        if t.startswith("outreach.activity.") and json.loads(b)["correlationid"] == withdrawal
    ]
    by_activity: dict[str, list[tuple[str, str]]] = {}
    for kind, data in released:  # the activities in either order, each one's events in order
        by_activity.setdefault(data["activity_id"], []).append((kind, data["participant_id"]))
    assert by_activity == {
        first["id"]: [("registration_cancelled", ada), ("registration_confirmed", ben)],
        second["id"]: [("registration_cancelled", ada)],
    }
    assert [data["from_waitlist"] for kind, data in released if kind == "registration_confirmed"] == [True]


async def test_completing_keeps_the_registrations_and_the_waitlist_passes_over_those_not_enrolled(
    app: Outreach,
) -> None:
    cycle_id, [(_, ada), (ben_app, ben), (_, cai)] = await enrolled(app, 3)
    activity = await schedule(app, cycle_id, capacity=1, **FUTURE)
    for participant in (ada, ben, cai):
        await register(app, activity["id"], participant)
    assert (await act(app, ben_app, "complete")).json()["state"] == "completed"
    assert await listing(app, activity) == [(ada, "registered"), (ben, "waitlisted"), (cai, "waitlisted")]

    cancelled = await app.client.post(
        f"/activities/{activity['id']}/registrations/{ada}/cancellation", headers=app.coordinator
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["promoted"]["participant_id"] == cai  # ben, completed, is passed over
    assert await listing(app, activity) == [(cai, "registered"), (ben, "waitlisted"), (ada, "cancelled")]


async def test_one_offers_conflict_does_not_stop_the_others_from_expiring(
    app: Outreach, monkeypatch: pytest.MonkeyPatch
) -> None:
    cycle = await setup(app, capacity=2)
    offers = [await enter(app, cycle["id"]) for _ in range(2)]
    waiting = await enter(app, cycle["id"])
    assert [o["state"] for o in offers] + [waiting["state"]] == ["offered", "offered", "waitlisted"]
    save = WatcchRepository.save
    refused: list[str] = []

    async def conflicting(self: WatcchRepository, application: Application, **kwargs: Any) -> bool:
        """The first offer to expire finds its application changed meanwhile (a WatcchConflict)."""
        if application.state is State.OFFER_EXPIRED and not refused:
            refused.append(str(application.id))
            return False
        return await save(self, application, **kwargs)

    monkeypatch.setattr(WatcchRepository, "save", conflicting)
    scheduler = app.service.offer_expiry
    scheduler.now = lambda: max(datetime.fromisoformat(o["offer_expires_at"]) for o in offers)
    expired = [str(i) for i in await scheduler.tick()]
    assert len(refused) == 1 and expired == [o["id"] for o in offers if o["id"] != refused[0]]
    assert await state(app, refused[0]) == "offered"  # rolled back whole: left for the next tick
    assert await state(app, expired[0]) == "offer_expired"
    assert await state(app, waiting["id"]) == "offered"  # the freed place moved on

    monkeypatch.setattr(WatcchRepository, "save", save)
    assert [str(i) for i in await scheduler.tick()] == refused
    types = [t for t, _ in await app.outbox()]
    assert types.count("outreach.watcch_application.offer_expired.v1") == 2


@pytest.fixture
def app(outreach_app: Outreach) -> Outreach:
    return outreach_app
