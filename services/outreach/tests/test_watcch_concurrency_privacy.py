"""WATCCH: capacity holds under concurrent offers, accepts and declines (PostgreSQL); personal details reach no
outbox row and no log line."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from medic.outreach.adapters.orm_watcch import watcch_applications, watcch_cycles
from services.outreach.tests.school_support import running_outreach
from services.outreach.tests.watcch_support import ANSWER, SENTINELS, act, application_body, enter, setup


async def test_capacity_is_never_exceeded_by_concurrent_requests_on_postgresql(tmp_path: Path) -> None:
    async with running_outreach("postgresql", tmp_path) as app:
        cycle = await setup(app, capacity=3)
        apps = [await enter(app, cycle["id"]) for _ in range(9)]
        offered = [a["id"] for a in apps if a["state"] == "offered"]
        waiting = [a["id"] for a in apps if a["state"] == "waitlisted"]
        assert len(offered) == 3 and len(waiting) == 6
        # Declines free places (the waitlist moves), while coordinators offer out of turn and accept at once.
        requests = [act(app, i, "decline") for i in offered[:2]] + [act(app, i, "accept") for i in offered[2:]]
        requests += [act(app, i, "offer") for i in waiting]
        answers = await asyncio.gather(*requests)
        assert {r.status_code for r in answers} <= {200, 409}
        assert all(r.status_code == 200 for r in answers[:3])
        async with app.service.engine.connect() as connection:
            holding = (
                await connection.execute(
                    select(func.count())
                    .select_from(watcch_applications)
                    .where(watcch_applications.c.state.in_(["offered", "accepted", "enrolled", "completed"]))
                )
            ).scalar_one()
            taken = (await connection.execute(select(watcch_cycles.c.places_taken))).scalar_one()
        assert holding == taken == 3


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_personal_details_reach_no_outbox_row_and_no_log_line(
    backend: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    async with running_outreach(backend, tmp_path) as app:
        cycle = await setup(app, capacity=1)
        public = await app.client.post("/watcch/applications", json=application_body(cycle["id"]))
        assert public.status_code == 201
        entered = await enter(app, cycle["id"])
        link = await app.client.post(f"/watcch/applications/{entered['id']}/referee-link", headers=app.coordinator)
        token = link.json()["token"]
        await app.client.post(f"/watcch/referee/{token}", json={"answer": "confirmed"})
        await act(app, entered["id"], "withdraw", reason="Sentinel-reason-Quillfeather")
        bad = await app.client.post("/watcch/applications", json=application_body(cycle["id"], year_group="year_14"))
        assert bad.status_code == 422
        await app.service.offer_expiry.tick()
        outbox = await app.outbox()
    assert any("watcch_application.withdrawn" in t for t, _ in outbox)
    logged = "".join(capfd.readouterr())
    assert "/watcch/applications" in logged  # the request log is there, and it is what is searched
    secrets = [*SENTINELS.values(), ANSWER, "E1 6AN", "Quillfeather", token]
    for _, body in outbox:
        assert not [s for s in secrets if s.lower() in body.lower()], body
    assert not [s for s in secrets if s.lower() in logged.lower()]
