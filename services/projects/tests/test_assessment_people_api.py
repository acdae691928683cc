"""Prize nominations and students' reflections over HTTP, on SQLite and PostgreSQL: one nomination per supervisor
per project and a shortlist that counts them; a reflection seen by its student, the group's supervisors and
coordinators only, editable until the project is assessed; no reason or reflection text on the bus."""

from typing import Any

from medic.shared.auth import Role
from services.projects.tests.project_support import Year, act, auth_as
from services.projects.tests.test_assessment_support import (
    FULL_MARKS,
    REFLECTION,
    other_student,
    outsider_student,
    peer,
    record_marks,
    showcased_project,
)


async def test_supervisors_nominate_once_each_and_coordinators_see_the_shortlist(year: Year) -> None:
    client = year.app.client
    pid = await showcased_project(year)

    async def nominate(headers: dict[str, str], reason: str = "The partner now runs it monthly") -> Any:
        return await client.post(f"/projects/{pid}/nominations", json={"reason": reason}, headers=headers)

    first = await nominate(year.supervisor)
    assert first.status_code == 201 and first.json()["reason"] == "The partner now runs it monthly"
    twice = await nominate(year.supervisor, "Again")
    assert twice.status_code == 409 and "already" in twice.json()["detail"]
    assert (await nominate(peer(year), "Best poster of the day")).status_code == 201
    assert (await nominate(auth_as(year.app, "dr.nobody", Role.SUPERVISOR))).status_code == 404
    for headers in (year.student(), year.partner_user):
        assert (await nominate(headers)).status_code == 403
    assert (await nominate(year.app.coordinator, "Module lead's pick")).status_code == 201
    blank = await nominate(auth_as(year.app, "dr.brown", Role.SUPERVISOR), "   ")
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "reason"]

    shortlist = await client.get(f"/cohorts/{year.cohort}/nominations", headers=year.app.coordinator)
    assert shortlist.status_code == 200
    assert [(e["project_id"], e["nominations"]) for e in shortlist.json()] == [(pid, 3)]
    assert sorted(shortlist.json()[0]["reasons"]) == [
        "Best poster of the day",
        "Module lead's pick",
        "The partner now runs it monthly",
    ]
    assert (await client.get(f"/cohorts/{year.cohort}/nominations", headers=year.supervisor)).status_code == 403

    nominated = [body for t, body in await year.app.outbox() if t == "projects.project.nominated_for_prize.v1"]
    assert len(nominated) == 3 and '"nominations":3' in nominated[2].replace(" ", "")
    assert not any("monthly" in body or "poster of the day" in body for body in nominated)


async def test_a_project_is_nominated_only_once_showcased(year: Year) -> None:
    pid = (await year.start())["id"]
    response = await year.app.client.post(
        f"/projects/{pid}/nominations", json={"reason": "Great"}, headers=year.supervisor
    )
    assert response.status_code == 409 and "showcased" in response.json()["detail"]


async def test_a_reflection_is_private_to_its_student_the_groups_supervisors_and_coordinators(year: Year) -> None:
    client = year.app.client
    pid = (await year.start())["id"]
    written = await client.put(f"/projects/{pid}/reflection", json={"text": REFLECTION}, headers=year.student())
    assert written.status_code == 200, written.text
    mine = written.json()
    assert mine["text"] == REFLECTION and mine["university_id"] == "2300001"
    student_id = mine["student_id"]

    for reader in (year.student(), year.supervisor, year.app.coordinator):
        one = await client.get(f"/projects/{pid}/reflections/{student_id}", headers=reader)
        assert one.status_code == 200 and one.json()["text"] == REFLECTION
        listed = await client.get(f"/projects/{pid}/reflections", headers=reader)
        assert [r["text"] for r in listed.json()] == [REFLECTION]
    # The other student of the same group: not theirs to read, and their own list holds only their own.
    assert (
        await client.get(f"/projects/{pid}/reflections/{student_id}", headers=other_student(year))
    ).status_code == 404
    assert (await client.get(f"/projects/{pid}/reflections", headers=other_student(year))).json() == []
    outsiders = (outsider_student(year), peer(year), year.partner_user, auth_as(year.app, "nobody", Role.STUDENT))
    for headers in outsiders:
        assert (await client.get(f"/projects/{pid}/reflections/{student_id}", headers=headers)).status_code == 404
        assert (await client.get(f"/projects/{pid}/reflections", headers=headers)).status_code == 404
    # A reflection is a student's own: supervisors may not write one, and a coordinator has none to write.
    for headers, code in ((year.supervisor, 403), (outsider_student(year), 404), (year.app.coordinator, 404)):
        response = await client.put(f"/projects/{pid}/reflection", json={"text": "mine"}, headers=headers)
        assert response.status_code == code

    assert (await client.get(f"/projects/{pid}/reflection", headers=year.student())).json()["text"] == REFLECTION
    assert (await client.get(f"/projects/{pid}/reflection", headers=other_student(year))).status_code == 404
    theirs = await client.put(f"/projects/{pid}/reflection", json={"text": "My own view"}, headers=other_student(year))
    assert theirs.status_code == 200 and theirs.json()["student_id"] != student_id
    everyone = (await client.get(f"/projects/{pid}/reflections", headers=year.supervisor)).json()
    assert [r["university_id"] for r in everyone] == ["2300001", "2300002"]

    rows = await year.app.outbox()
    assert [t for t, _ in rows].count("projects.project.reflection_written.v1") == 2
    assert not any(REFLECTION[:20] in body or "My own view" in body for _, body in rows)


async def test_a_reflection_is_edited_until_the_project_is_assessed(year: Year) -> None:
    client = year.app.client
    pid = await showcased_project(year)

    async def write(text: str) -> Any:
        return await client.put(f"/projects/{pid}/reflection", json={"text": text}, headers=year.student())

    assert (await write("First thoughts.")).status_code == 200
    edited = await write("Second thoughts,\n\nin two paragraphs.")
    assert edited.status_code == 200 and edited.json()["text"] == "Second thoughts,\n\nin two paragraphs."
    assert len((await client.get(f"/projects/{pid}/reflections", headers=year.supervisor)).json()) == 1

    too_long = await write(" ".join(["word"] * 1001))
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["body", "text"]
    assert (await write("   ")).status_code == 422
    assert (await write(" ".join(["word"] * 1000))).status_code == 200

    await record_marks(year, pid, FULL_MARKS, year.supervisor)
    await act(year, pid, "assess", year.supervisor)
    late = await write("Third thoughts.")
    assert late.status_code == 409 and "assessed" in late.json()["detail"]
    kept = (await client.get(f"/projects/{pid}/reflections", headers=year.student())).json()
    assert kept[0]["text"] == " ".join(["word"] * 1000)
