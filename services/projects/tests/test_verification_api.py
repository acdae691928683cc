"""Partner verification through a link with no account: once, bound, expiring, asked again after an edit."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from structlog.testing import capture_logs

from medic.projects.adapters import orm
from medic.projects.service_layer.reminders import ReminderScheduler, verification_reminders
from medic.shared.auth import Role
from services.projects.tests.project_support import Year, auth_as, put, submitted_project


async def issue(year: Year, project_id: str, headers: dict[str, str] | None = None, code: int = 201) -> dict[str, Any]:
    response = await year.app.client.post(
        f"/projects/{project_id}/verification-link", headers=headers or year.app.coordinator
    )
    assert response.status_code == code, response.text
    body: dict[str, Any] = response.json()
    return body


def token_of(link: dict[str, Any]) -> str:
    return str(link["link"]).rsplit("/", 1)[-1]


async def test_the_partner_confirms_once_through_the_link_and_no_token_leaks(year: Year) -> None:
    client = year.app.client
    project = await submitted_project(year)
    assert project["verification"] == "pending"
    link = await issue(year, project["id"])
    token = token_of(link)
    assert link["link"].startswith("http://127.0.0.1:8001/verifications/") and len(token) >= 40

    with capture_logs() as logs:
        summary = await client.get(f"/verifications/{token}")  # no bearer token: the link is the credential
    assert summary.status_code == 200, summary.text
    assert summary.json()["title"] == "Cooking on a budget" and summary.json()["status"] == "pending"
    assert summary.json()["delivery_sessions"][0]["reach"] == {"adults": 14}
    assert "@" not in summary.text  # no student's or contact's address

    decided = await client.post(f"/verifications/{token}", json={"decision": "verified"})
    assert decided.status_code == 200, decided.text
    again = await client.post(f"/verifications/{token}", json={"decision": "disputed", "comment": "changed my mind"})
    assert again.status_code == 409
    assert (await client.get(f"/verifications/{token}")).json()["status"] == "verified"

    staff_view = (await client.get(f"/projects/{project['id']}", headers=year.supervisor)).json()
    assert staff_view["verification"] == "verified"
    outbox = await year.app.outbox()
    assert [t for t, _ in outbox if "verif" in t] == [
        "projects.project.verification_requested.v1",
        "projects.project.verification_link_issued.v1",
        "projects.project.verified.v1",
    ]
    assert token not in " ".join(body for _, body in outbox)
    assert token not in repr(logs)
    assert [e["path"] for e in logs if e["event"] == "http.request"] == ["/verifications/{token}"]  # the route only


async def test_a_dispute_needs_a_comment_and_changing_delivery_asks_again(year: Year) -> None:
    client = year.app.client
    project = await submitted_project(year)
    token = token_of(await issue(year, project["id"]))

    no_comment = await client.post(f"/verifications/{token}", json={"decision": "disputed", "comment": "  "})
    assert no_comment.status_code == 422 and no_comment.json()["detail"][0]["loc"] == ["body", "comment"]
    disputed = await client.post(f"/verifications/{token}", json={"decision": "disputed", "comment": "one session"})
    assert disputed.status_code == 200
    view = (await client.get(f"/projects/{project['id']}", headers=year.app.coordinator)).json()
    assert view["verification"] == "disputed"

    session = {"held_on": "2027-01-27", "place": "Library", "format": "talk", "reach": {"adults": 5}}
    response = await client.post(
        f"/projects/{project['id']}/delivery-sessions", json=session, headers=year.app.coordinator
    )
    assert response.status_code == 201, response.text
    assert response.json()["verification"] == "pending"  # what the partner answered about has changed
    second = await issue(year, project["id"])  # a new request: no waiting for the resend interval
    assert (await client.get(f"/verifications/{token_of(second)}")).json()["status"] == "pending"
    assert (await client.get(f"/verifications/{token}")).status_code == 410  # the old link was replaced
    types = await year.app.event_types()
    assert types.count("projects.project.verification_requested.v1") == 2 and "projects.project.disputed.v1" in types


async def test_a_resend_waits_three_days_and_an_expired_link_is_gone(year: Year) -> None:
    client = year.app.client
    project = await submitted_project(year)
    first = await issue(year, project["id"])
    too_soon = await client.post(f"/projects/{project['id']}/verification-link", headers=year.supervisor)
    assert too_soon.status_code == 409 and "can be sent from" in too_soon.json()["detail"]

    async with year.app.service.engine.begin() as connection:  # three days pass, then fourteen
        await connection.execute(
            update(orm.verification_links).values(issued_at=datetime.now(UTC) - timedelta(days=3, minutes=1))
        )
    second = await issue(year, project["id"])
    assert (await client.get(f"/verifications/{token_of(first)}")).status_code == 410
    async with year.app.service.engine.begin() as connection:
        await connection.execute(update(orm.verification_links).values(expires_at=datetime.now(UTC)))
    expired = await client.post(f"/verifications/{token_of(second)}", json={"decision": "verified"})
    assert expired.status_code == 410 and "expired" in expired.json()["detail"]
    view = (await client.get(f"/projects/{project['id']}", headers=year.app.coordinator)).json()
    assert view["verification"] == "pending"


async def test_links_are_only_for_submitted_projects_and_their_teams(year: Year) -> None:
    client = year.app.client
    other_student = auth_as(year.app, "2300003", Role.STUDENT)
    body = {"group_id": str(year.other_group), "title": "Walking football", "topic": "activity", "partner_ids": []}
    draft = (await client.post("/projects", json=body, headers=other_student)).json()
    response = await client.post(f"/projects/{draft['id']}/verification-link", headers=other_student)
    assert response.status_code == 409 and "verification not requested" in response.json()["detail"]
    project = await submitted_project(year)
    outsiders = [auth_as(year.app, "2300003", Role.STUDENT), auth_as(year.app, "dr.brown", Role.SUPERVISOR)]
    for headers in outsiders:
        assert (await client.post(f"/projects/{project['id']}/verification-link", headers=headers)).status_code == 404
    partner = await client.post(f"/projects/{project['id']}/verification-link", headers=year.partner_user)
    assert partner.status_code == 403
    assert (await client.get("/verifications/" + "x" * 43)).status_code == 404
    assert (await client.post("/verifications/" + "x" * 43, json={"decision": "verified"})).status_code == 404
    assert await year.app.count(orm.verification_links) == 0


async def test_an_edit_that_is_not_delivery_data_keeps_the_verification(year: Year) -> None:
    project = await submitted_project(year)
    token = token_of(await issue(year, project["id"]))
    await year.app.client.post(f"/verifications/{token}", json={"decision": "verified"})
    body = {"ihi_score": 4.0, "audit_codes": {"sustainable_impact": True}}
    view = await put(year, project["id"], "progress", body, year.student())
    assert view["verification"] == "verified"


async def test_a_link_unanswered_for_seven_days_is_a_reminder_once(year: Year) -> None:
    project = await submitted_project(year)
    await issue(year, project["id"])
    scheduler = ReminderScheduler(year.app.service.unit_of_work, interval_s=3600, timers=[verification_reminders])
    assert await scheduler.tick() == []  # not yet a week
    async with year.app.service.engine.begin() as connection:
        await connection.execute(update(orm.verification_links).values(issued_at=datetime.now(UTC) - timedelta(days=8)))

    (reminder,) = await scheduler.tick()
    assert reminder.type == "projects.project.verification_pending.v1"
    assert str(reminder.data.project_id) == project["id"]  # type: ignore[attr-defined]
    assert await scheduler.tick() == []  # once per link
    assert (await year.app.event_types()).count("projects.project.verification_pending.v1") == 1


async def test_an_answered_link_is_no_reminder(year: Year) -> None:
    project = await submitted_project(year)
    token = token_of(await issue(year, project["id"]))
    await year.app.client.post(f"/verifications/{token}", json={"decision": "verified"})
    async with year.app.service.engine.begin() as connection:
        await connection.execute(update(orm.verification_links).values(issued_at=datetime.now(UTC) - timedelta(days=8)))
    scheduler = ReminderScheduler(year.app.service.unit_of_work, interval_s=3600, timers=[verification_reminders])
    assert await scheduler.tick() == []


async def test_only_a_coordinator_is_shown_the_link_the_others_have_it_emailed(year: Year) -> None:
    """A student (or their supervisor) who could open the link could verify their own project: they get null, and
    the link goes only to the partner's contact, in the mail request notifications sends."""
    project = await submitted_project(year)
    asked = await issue(year, project["id"], year.student())
    assert asked["link"] is None and asked["verification_id"]
    staged = [body for event_type, body in await year.app.outbox(directory=True) if "mail_requested" in event_type]
    assert len(staged) == 1 and "/verifications/" in staged[0]
