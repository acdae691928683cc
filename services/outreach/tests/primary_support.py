"""What the primary-programme tests share: a term, a school, a session, tokens for named users. No tests here."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from medic.outreach.adapters.orm_partners import known_partners
from medic.shared.auth import Role, issue_token
from medic.shared.contracts.projects import PartnerKind
from services.outreach.tests.safeguarding_support import clear
from services.outreach.tests.school_support import Outreach

TODAY = date.today()
# A term around today, so a session can be delivered (on or after its day) and also lie ahead.
TERM = {
    "name": "This term",
    "academic_year": f"{TODAY.year - (TODAY.month < 8)}/{(TODAY.year - (TODAY.month < 8) + 1) % 100:02d}",
    "starts_on": max(TODAY - timedelta(days=30), date(TODAY.year - (TODAY.month < 8), 8, 1)).isoformat(),
    "ends_on": min(TODAY + timedelta(days=30), date(TODAY.year + (TODAY.month >= 8), 7, 31)).isoformat(),
}
STUDENT, OTHER_STUDENT = "student-ada", "student-bo"
PUPIL_COUNTS = [
    {"question": q, "phase": p, "happy": 10, "not_sure": 8, "sad": 2}
    for q in ("know_topic", "stay_healthy", "ask_for_help")
    for p in ("before", "after")
]
TEACHER_SCORES = {
    "right_level": 4,
    "pupils_engaged": 5,
    "students_prepared": 4,
    "fits_curriculum": 3,
    "welcome_again": 5,
}


def token(
    app: Outreach, role: Role, subject: str | None = None, organisation: uuid.UUID | None = None
) -> dict[str, str]:
    if role is Role.PARTNER and organisation is None:
        organisation = uuid.uuid4()
    issued = issue_token(app.service.settings, roles=[role], subject=subject, organisation_id=organisation)
    return {"Authorization": f"Bearer {issued}"}


async def known_partner(
    app: Outreach, kind: PartnerKind = PartnerKind.SCHOOL, partner_id: uuid.UUID | None = None
) -> uuid.UUID:
    """A partner as projects' events would have told outreach of it."""
    partner_id = partner_id or uuid.uuid4()
    async with app.service.engine.begin() as connection:
        await connection.execute(
            known_partners.insert().values(
                id=partner_id, name="Aldgate School", kind=kind.value, areas_of_work=[], registered_at=datetime.now(UTC)
            )
        )
    return partner_id


async def term(app: Outreach, **fields: Any) -> dict[str, Any]:
    reply = await app.client.post("/primary/terms", json={**TERM, **fields}, headers=app.coordinator)
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


def session_body(term_id_: str, **fields: Any) -> dict[str, Any]:
    return {
        "term_id": term_id_,
        "urn": "100000",
        "date": TODAY.isoformat(),
        "starts_at": "09:30",
        "ends_at": "10:30",
        "year_group": "year_3",
        "topic_id": "healthy_eating",
        "level": "core",
        "student_ids": [STUDENT],
        **fields,
    }


async def plan(app: Outreach, term_id: str, **fields: Any) -> dict[str, Any]:
    reply = await app.client.post("/primary/sessions", json=session_body(term_id, **fields), headers=app.coordinator)
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def act(app: Outreach, session_id: str, action: str, reason: str | None = None) -> dict[str, Any]:
    reply = await app.client.post(
        f"/primary/sessions/{session_id}/actions/{action}", json={"reason": reason}, headers=app.coordinator
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def delivered(app: Outreach, **fields: Any) -> dict[str, Any]:
    """A registered primary school, a term, and a session on it delivered by STUDENT to 28 pupils in 1 class (its
    students cleared for contact with children first)."""
    urn = fields.get("urn", "100000")
    if (await app.client.get(f"/schools/{urn}", headers=app.coordinator)).status_code == 404:
        await app.register(urn=urn, laestab=f"201{urn[-4:]}")
    the_term = await term(app)
    session = await plan(app, the_term["id"], **fields)
    await act(app, session["id"], "review_plan")
    for student in fields.get("student_ids", [STUDENT]):
        await clear(app, student)
    reply = await app.client.post(
        f"/primary/sessions/{session['id']}/delivery",
        json={"pupils": 28, "classes": 1, "teacher_present_throughout": True},
        headers=token(app, Role.STUDENT, STUDENT),
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body
