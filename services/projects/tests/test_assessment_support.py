"""What the assessment tests share: a rubric, a showcased project, and the people around it. It holds no tests."""

from typing import Any

from medic.shared.auth import Role
from services.projects.tests.project_support import Year, act, auth_as, put, submitted_project

RUBRIC: dict[str, Any] = {
    "criteria": [
        {"key": "need", "title": "Needs analysis", "descriptor": "Evidence of the local need", "max_mark": 10},
        {"key": "impact", "title": "Impact", "max_mark": 20, "weight": 2},
    ]
}
FULL_MARKS = {"need": 7, "impact": 15}
REFLECTION = "I learnt that a local need looks different from the practice than from the community hall."


def peer(year: Year) -> dict[str, str]:
    """The other group's supervisor: a supervisor of the same cohort, so an assessor of its showcase."""
    return auth_as(year.app, "dr.brown", Role.SUPERVISOR)


def other_student(year: Year) -> dict[str, str]:
    """The other student of the same group."""
    return year.student("2300002")


def outsider_student(year: Year) -> dict[str, str]:
    """A student of the other group."""
    return year.student("2300003")


async def set_rubric(year: Year, rubric: dict[str, Any] = RUBRIC) -> dict[str, Any]:
    response = await year.app.client.put(f"/cohorts/{year.cohort}/rubric", json=rubric, headers=year.app.coordinator)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def showcased_project(year: Year) -> str:
    """A project of the year's first group, showcased; its cohort has the rubric above."""
    await set_rubric(year)
    pid: str = (await submitted_project(year))["id"]
    await put(
        year, pid, "showcase", {"format": "poster", "title": "Fresh food", "abstract": "We cooked."}, year.student()
    )
    await act(year, pid, "showcase", year.supervisor)
    return pid


async def record_marks(
    year: Year, pid: str, marks: dict[str, int], headers: dict[str, str], comment: str = ""
) -> dict[str, Any]:
    response = await year.app.client.put(
        f"/projects/{pid}/marks", json={"marks": marks, "comment": comment}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
