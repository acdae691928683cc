"""WATCCH activities on SQLite and PostgreSQL: places, the waitlist that moves by itself, attendance, history."""

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from medic.outreach.adapters.orm_activities import activities, activity_registrations
from services.outreach.tests.activity_support import NOW, activity_body, cycle_with, register, schedule
from services.outreach.tests.school_support import Outreach, running_outreach


async def test_places_fill_then_the_waitlist_moves_by_itself_when_one_frees(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle_id, (ada, ben, cai, dee) = await cycle_with(app, 4)
    activity = await schedule(app, cycle_id, capacity=2)
    assert (activity["places_taken"], activity["waitlisted"], activity["hours"]) == (0, 0, "5.50")

    assert [(await register(app, activity["id"], p))["status"] for p in (ada, ben, cai, dee)] == [
        "registered",
        "registered",
        "waitlisted",
        "waitlisted",
    ]
    assert (await register(app, activity["id"], cai))["status"] == "waitlisted"  # asking again changes nothing
    cancelled = await app.client.post(
        f"/activities/{activity['id']}/registrations/{ada}/cancellation", headers=app.coordinator
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["registration"]["status"] == "cancelled"
    assert cancelled.json()["promoted"]["participant_id"] == cai  # the head of the waitlist, first come

    listing = (await app.client.get(f"/activities/{activity['id']}/registrations", headers=app.coordinator)).json()
    assert [(r["participant_id"], r["status"]) for r in listing] == [
        (ben, "registered"),
        (cai, "registered"),
        (dee, "waitlisted"),
        (ada, "cancelled"),
    ]
    view = (await app.client.get(f"/activities/{activity['id']}", headers=app.coordinator)).json()
    assert (view["places_taken"], view["waitlisted"]) == (2, 1)

    events = [(t, json.loads(b)["data"]) for t, b in await app.outbox() if t.startswith("outreach.activity.")]
    assert [t.rsplit(".", 2)[-2] for t, _ in events] == [
        "scheduled",
        "registration_confirmed",
        "registration_confirmed",
        "registration_waitlisted",
        "registration_waitlisted",
        "registration_cancelled",
        "registration_confirmed",
    ]
    assert events[-1][1]["from_waitlist"] is True and events[-1][1]["participant_id"] == cai
    assert (events[-1][1]["places_taken"], events[-1][1]["waitlisted"]) == (2, 1)
    published = " ".join(json.dumps(data) for _, data in events)
    assert "Personal statements" not in published and "Lecture theatre" not in published


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"kind": "work_experience", "host_kind": "gp_practice", "capacity": 3}, "capacity", 409),
        ({"kind": "work_experience"}, "host_kind", 409),
        ({"host_kind": "gp_practice"}, "host_kind", 409),
        ({"ends_at": (NOW - timedelta(hours=2)).isoformat()}, "ends_at", 409),
        ({"capacity": 0}, "capacity", 422),
        ({"capacity": 501}, "capacity", 422),
        ({"title": "  "}, "title", 422),
        ({"kind": "party"}, "kind", 422),
        ({"starts_at": "2027-02-06T10:00:00"}, "starts_at", 422),
    ],
)
async def test_bad_activities_are_422_or_contradictions_409_naming_the_field_and_change_nothing(
    outreach_app: Outreach, fields: dict[str, object], field: str, code: int
) -> None:
    cycle_id, _ = await cycle_with(outreach_app, 0)
    body = activity_body(cycle_id, **fields)
    response = await outreach_app.client.post("/activities", json=body, headers=outreach_app.coordinator)
    assert response.status_code == code, response.text
    assert field in response.json()["detail"][0]["loc"]
    assert await outreach_app.count(activities) == 0


async def test_a_placement_is_hosted_and_taken_in_pairs(outreach_app: Outreach) -> None:
    cycle_id, _ = await cycle_with(outreach_app, 0)
    placement = await schedule(
        outreach_app, cycle_id, kind="work_experience", host_kind="hospital_department", capacity=4, place="A&E"
    )
    assert (placement["kind"], placement["host_kind"], placement["capacity"]) == (
        "work_experience",
        "hospital_department",
        4,
    )


async def test_only_enrolled_participants_of_known_activities_register(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle_id, (enrolled, offered, withdrawn) = await cycle_with(app, 1, other_states=("offered", "withdrawn"))
    other_cycle, (elsewhere,) = await cycle_with(app, 1, year=1)
    activity = await schedule(app, cycle_id)
    url = f"/activities/{activity['id']}/registrations"
    for participant in (offered, withdrawn, elsewhere):
        response = await app.client.post(url, json={"participant_id": participant}, headers=app.coordinator)
        assert response.status_code == 409 and "enrolled" in response.json()["detail"]
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await app.client.post(url, json={"participant_id": unknown}, headers=app.coordinator)).status_code == 404
    missing = f"/activities/{unknown}/registrations"
    assert (
        await app.client.post(missing, json={"participant_id": enrolled}, headers=app.coordinator)
    ).status_code == 404
    body = activity_body(unknown)
    assert (await app.client.post("/activities", json=body, headers=app.coordinator)).status_code == 404
    assert await app.count(activity_registrations) == 0
    assert other_cycle != cycle_id


async def test_attendance_with_hours_and_the_participants_history(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle_id, (ada, ben, cai) = await cycle_with(app, 3)
    started = await schedule(app, cycle_id, capacity=2)
    future = await schedule(
        app,
        cycle_id,
        starts_at=(NOW + timedelta(days=3)).isoformat(),
        ends_at=(NOW + timedelta(days=3, hours=2)).isoformat(),
    )
    for participant in (ada, ben, cai):
        await register(app, started["id"], participant)
    await register(app, future["id"], ada)

    def put(activity: dict[str, object], participant: str, body: dict[str, object]):  # type: ignore[no-untyped-def]
        return app.client.put(
            f"/activities/{activity['id']}/attendance/{participant}", json=body, headers=app.coordinator
        )

    present = await put(started, ada, {"attendance": "present"})
    assert present.status_code == 200, present.text
    assert (present.json()["attendance"], present.json()["hours"]) == ("present", "5.50")
    assert (await put(started, ben, {"attendance": "late"})).json()["detail"][0]["loc"] == ["body", "hours"]
    assert (await put(started, ben, {"attendance": "late", "hours": 7})).status_code == 409  # longer than the day
    assert (await put(started, ben, {"attendance": "absent", "hours": 2})).status_code == 409
    assert (await put(started, ben, {"attendance": "late", "hours": 0.3})).status_code == 422  # quarter hours
    assert (await put(started, ben, {"attendance": "late", "hours": ""})).status_code == 422  # a number
    assert (await put(started, ben, {"attendance": "late", "hours": "4.75"})).status_code == 422
    assert (await put(started, ben, {"attendance": "late", "hours": 4.75})).status_code == 200
    assert (await put(started, cai, {"attendance": "present"})).status_code == 409  # waitlisted
    assert (await put(future, ada, {"attendance": "present"})).status_code == 409  # not started
    refused = await app.client.post(
        f"/activities/{started['id']}/registrations/{ada}/cancellation", headers=app.coordinator
    )
    assert refused.status_code == 409

    history = (await app.client.get(f"/participants/{ada}/activities", headers=app.coordinator)).json()
    assert [(a["activity_id"], a["status"], a["attendance"]) for a in history["activities"]] == [
        (started["id"], "registered", "present"),
        (future["id"], "registered", None),
    ]
    assert (history["attended"], history["hours"]) == (1, "5.50")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await app.client.get(f"/participants/{unknown}/activities", headers=app.coordinator)).status_code == 404
    types = [t for t, _ in await app.outbox()]
    assert types.count("outreach.activity.attendance_recorded.v1") == 2


async def test_concurrent_registrations_never_exceed_capacity_on_postgresql(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with running_outreach("postgresql", tmp_path) as app:
        cycle_id, participants = await cycle_with(app, 12)
        activity = await schedule(app, cycle_id, capacity=3)
        url = f"/activities/{activity['id']}/registrations"

        async def ask(participant: str) -> str:
            response = await app.client.post(url, json={"participant_id": participant}, headers=app.coordinator)
            assert response.status_code == 201, response.text
            return str(response.json()["status"])

        statuses = await asyncio.gather(*(ask(p) for p in participants))
        assert statuses.count("registered") == 3 and statuses.count("waitlisted") == 9
        firsts = [p for p, s in zip(participants, statuses, strict=True) if s == "registered"]
        cancels = [app.client.post(f"{url}/{p}/cancellation", headers=app.coordinator) for p in firsts]
        assert all(r.status_code == 200 for r in await asyncio.gather(*cancels))
        view = (await app.client.get(f"/activities/{activity['id']}", headers=app.coordinator)).json()
        assert (view["places_taken"], view["waitlisted"]) == (3, 6)


async def test_registrations_cancellations_and_more_places_at_once_keep_the_places_consistent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL: whatever the interleaving, registered rows = places taken <= capacity, and nobody waits
    while a place is free."""
    async with running_outreach("postgresql", tmp_path) as app:
        cycle_id, participants = await cycle_with(app, 14)
        early, late = participants[:6], participants[6:]
        activity = await schedule(app, cycle_id, capacity=4)
        url = f"/activities/{activity['id']}"
        for participant in early:
            await register(app, activity["id"], participant)
        requests = [
            *(
                app.client.post(f"{url}/registrations", json={"participant_id": p}, headers=app.coordinator)
                for p in late
            ),
            *(app.client.post(f"{url}/registrations/{p}/cancellation", headers=app.coordinator) for p in early[:3]),
            app.client.put(f"{url}/capacity", json={"capacity": 6}, headers=app.coordinator),
        ]
        assert all(r.status_code in (200, 201) for r in await asyncio.gather(*requests))
        async with app.service.engine.connect() as connection:
            (capacity, taken) = (
                await connection.execute(
                    select(activities.c.capacity, activities.c.places_taken).where(activities.c.id == activity["id"])
                )
            ).one()
            rows = (
                await connection.execute(
                    select(activity_registrations.c.status, func.count())
                    .where(activity_registrations.c.activity_id == activity["id"])
                    .group_by(activity_registrations.c.status)
                )
            ).all()
        counts = {status: n for status, n in rows}
        assert capacity == 6 and counts["registered"] == taken == 6
        assert (counts["waitlisted"], counts["cancelled"]) == (14 - 3 - 6, 3)


async def test_more_places_go_to_the_waitlist_and_never_fewer_than_are_held(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle_id, (ada, ben, cai) = await cycle_with(app, 3)
    activity = await schedule(app, cycle_id, capacity=1)
    assert [(await register(app, activity["id"], p))["status"] for p in (ada, ben, cai)] == [
        "registered",
        "waitlisted",
        "waitlisted",
    ]
    url = f"/activities/{activity['id']}/capacity"
    raised = await app.client.put(url, json={"capacity": 4}, headers=app.coordinator)
    assert raised.status_code == 200, raised.text
    assert [r["participant_id"] for r in raised.json()["promoted"]] == [ben, cai]  # in the waitlist's order
    assert (raised.json()["activity"]["places_taken"], raised.json()["activity"]["waitlisted"]) == (3, 0)
    lowered = await app.client.put(url, json={"capacity": 2}, headers=app.coordinator)
    assert lowered.status_code == 409 and "hold places" in lowered.json()["detail"]
    assert (await app.client.put(url, json={"capacity": 0}, headers=app.coordinator)).status_code == 422
    assert (await app.client.put(url, json={"capacity": 3}, headers=app.coordinator)).status_code == 200
    unknown = "00000000-0000-4000-8000-000000000000"
    missing = await app.client.put(f"/activities/{unknown}/capacity", json={"capacity": 3}, headers=app.coordinator)
    assert missing.status_code == 404
    placement = await schedule(app, cycle_id, kind="work_experience", host_kind="gp_practice", capacity=2)
    odd = await app.client.put(f"/activities/{placement['id']}/capacity", json={"capacity": 3}, headers=app.coordinator)
    assert odd.status_code == 409 and odd.json()["detail"][0]["loc"] == ["body", "capacity"]
    types = [t for t, _ in await app.outbox() if t.startswith("outreach.activity.")]
    assert types.count("outreach.activity.capacity_changed.v1") == 2
    assert types.count("outreach.activity.registration_confirmed.v1") == 3


async def test_a_cancelled_activity_takes_no_registrations_and_one_that_took_place_is_not_cancelled(
    outreach_app: Outreach,
) -> None:
    app = outreach_app
    cycle_id, (ada, ben) = await cycle_with(app, 2)
    activity = await schedule(app, cycle_id)
    await register(app, activity["id"], ada)
    url = f"/activities/{activity['id']}/cancellation"
    cancelled = await app.client.post(url, headers=app.coordinator)
    assert cancelled.status_code == 200 and cancelled.json()["cancelled_at"] is not None, cancelled.text
    again = await app.client.post(url, headers=app.coordinator)
    assert again.status_code == 200 and again.json()["cancelled_at"] == cancelled.json()["cancelled_at"]
    body = {"participant_id": ben}
    refused = await app.client.post(f"/activities/{activity['id']}/registrations", json=body, headers=app.coordinator)
    assert refused.status_code == 409 and "cancelled" in refused.json()["detail"]
    attendance = await app.client.put(
        f"/activities/{activity['id']}/attendance/{ada}", json={"attendance": "present"}, headers=app.coordinator
    )
    assert attendance.status_code == 409
    history = (await app.client.get(f"/participants/{ada}/activities", headers=app.coordinator)).json()
    assert history["activities"][0]["activity_cancelled"] is True
    took_place = await schedule(app, cycle_id)
    await register(app, took_place["id"], ben)
    await app.client.put(
        f"/activities/{took_place['id']}/attendance/{ben}", json={"attendance": "present"}, headers=app.coordinator
    )
    late = await app.client.post(f"/activities/{took_place['id']}/cancellation", headers=app.coordinator)
    assert late.status_code == 409 and "attendance" in late.json()["detail"]
    types = [t for t, _ in await app.outbox()]
    assert types.count("outreach.activity.cancelled.v1") == 1


async def test_a_placements_participants_are_put_in_pairs(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle_id, (ada, ben, cai, dee, eve) = await cycle_with(app, 5)
    placement = await schedule(app, cycle_id, kind="work_experience", host_kind="gp_practice", capacity=4)
    for participant in (ada, ben, cai, dee, eve):
        await register(app, placement["id"], participant)  # eve waits
    url = f"/activities/{placement['id']}/pairs"
    for pairs, loc in [
        ([[ada, eve]], ["body", "pairs", 0]),  # eve holds no place
        ([[ada, ben], [ben, cai]], ["body", "pairs", 1]),  # ben twice
        ([[ada, ben, cai]], ["body", "pairs", 0]),  # three
    ]:
        refused = await app.client.put(url, json={"pairs": pairs}, headers=app.coordinator)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == loc, refused.text
    paired = await app.client.put(url, json={"pairs": [[ada, cai], [ben, dee]]}, headers=app.coordinator)
    assert paired.status_code == 200, paired.text
    assert {r["participant_id"]: r["pair"] for r in paired.json()} == {ada: 1, cai: 1, ben: 2, dee: 2, eve: None}
    # Ada leaves: her pair is cleared, Eve takes the place unpaired.
    await app.client.post(f"/activities/{placement['id']}/registrations/{ada}/cancellation", headers=app.coordinator)
    listing = (await app.client.get(f"/activities/{placement['id']}/registrations", headers=app.coordinator)).json()
    assert {r["participant_id"]: (r["status"], r["pair"]) for r in listing} == {
        ada: ("cancelled", None),
        cai: ("registered", 1),
        ben: ("registered", 2),
        dee: ("registered", 2),
        eve: ("registered", None),
    }
    workshop = await schedule(app, cycle_id)
    not_a_placement = await app.client.put(
        f"/activities/{workshop['id']}/pairs", json={"pairs": []}, headers=app.coordinator
    )
    assert not_a_placement.status_code == 409
    events = [json.loads(b)["data"] for t, b in await app.outbox() if t == "outreach.activity.pairs_assigned.v1"]
    assert events == [
        {
            "activity_id": placement["id"],
            "cycle_id": cycle_id,
            "kind": "work_experience",
            "pairs": [[ada, cai], [ben, dee]],
        }
    ]
