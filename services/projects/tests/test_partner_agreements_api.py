"""A partner's agreements over HTTP: recording, editing terms, status changes and their 409s, and their events."""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from medic.projects.adapters.orm_partners import partner_agreements
from medic.shared.auth import Role
from services.projects.tests.test_partner_support import BACKENDS, Projects, running_projects

TODAY = datetime.now(UTC).date()


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


@pytest.fixture(params=BACKENDS)
async def projects(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Projects]:
    async with running_projects(request.param, tmp_path) as running:
        yield running


async def add(projects: Projects, partner_id: str, **fields: Any) -> dict[str, Any]:
    body = {"kind": "partnership_mou", "starts_on": day(-30), "ends_on": day(335), **fields}
    response = await projects.client.post(f"/partners/{partner_id}/agreements", json=body, headers=projects.coordinator)
    assert response.status_code == 201, response.text
    agreement: dict[str, Any] = response.json()
    return agreement


async def test_an_agreement_starts_as_a_draft_is_activated_renewed_and_terminated(projects: Projects) -> None:
    partner = await projects.register()
    agreement = await add(projects, partner["id"])
    assert (agreement["status"], agreement["starts_on"], agreement["ends_on"]) == ("draft", day(-30), day(335))
    url = f"/partners/{partner['id']}/agreements/{agreement['id']}"

    activated = await projects.client.patch(url, json={"status": "active"}, headers=projects.coordinator)
    assert activated.status_code == 200, activated.text
    assert activated.json()["status"] == "active"
    renewed = await projects.client.patch(url, json={"ends_on": day(700)}, headers=projects.coordinator)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["ends_on"] == day(700)
    terminated = await projects.client.patch(url, json={"status": "terminated"}, headers=projects.coordinator)
    assert terminated.json()["status"] == "terminated"
    assert (await projects.detail(partner["id"]))["agreements"] == [terminated.json()]

    staged = await projects.outbox()
    assert [t for t, _ in staged][1:] == [
        "projects.partner_agreement.added.v1",
        "projects.partner_agreement.activated.v1",
        "projects.partner_agreement.updated.v1",
        "projects.partner_agreement.terminated.v1",
    ]
    assert json.loads(staged[-1][1])["data"] == {
        "partner_id": partner["id"],
        "revision": 5,
        "agreement_id": agreement["id"],
        "kind": "partnership_mou",
        "starts_on": day(-30),
        "ends_on": day(700),
        "status": "terminated",
    }


@pytest.mark.parametrize(
    ("setup", "change", "field"),
    [
        ([], {"status": "expired"}, "status"),  # expired is read from the end date, never set
        ([{"status": "active"}], {"status": "draft"}, "status"),
        ([{"status": "active"}], {"kind": "data_sharing"}, "kind"),
        ([{"status": "active"}], {"starts_on": day(-60)}, "starts_on"),
        ([{"status": "terminated"}], {"status": "active"}, "status"),
        ([{"status": "terminated"}], {"ends_on": day(900)}, "ends_on"),
        ([{"ends_on": day(-1)}], {"status": "active"}, "status"),  # its end date has passed
        ([{"status": "active"}, {"ends_on": day(-1)}], {"status": "terminated"}, "status"),  # expired already
    ],
)
async def test_a_change_the_status_does_not_allow_is_a_409_naming_the_field_and_changes_nothing(
    projects: Projects, setup: list[dict[str, str]], change: dict[str, str], field: str
) -> None:
    partner = await projects.register()
    agreement = await add(projects, partner["id"])
    url = f"/partners/{partner['id']}/agreements/{agreement['id']}"
    for step in setup:
        assert (await projects.client.patch(url, json=step, headers=projects.coordinator)).status_code == 200
    before, staged = await projects.detail(partner["id"]), await projects.outbox()

    refused = await projects.client.patch(url, json=change, headers=projects.coordinator)
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", field]
    assert await projects.detail(partner["id"]) == before
    assert await projects.outbox() == staged


async def test_an_active_agreement_past_its_end_date_reads_expired_until_renewed(projects: Projects) -> None:
    partner = await projects.register()
    agreement = await add(projects, partner["id"], starts_on=day(-400), ends_on=day(10))
    url = f"/partners/{partner['id']}/agreements/{agreement['id']}"
    await projects.client.patch(url, json={"status": "active"}, headers=projects.coordinator)
    shortened = await projects.client.patch(url, json={"ends_on": day(-1)}, headers=projects.coordinator)
    assert shortened.json()["status"] == "expired"
    renewed = await projects.client.patch(
        url, json={"ends_on": day(365), "status": "active"}, headers=projects.coordinator
    )
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["status"] == "active"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "lease", "starts_on": day(0), "ends_on": day(1)}, "kind"),
        ({"kind": "data_sharing", "starts_on": day(5), "ends_on": day(5)}, "ends_on"),  # not after the start
        ({"kind": "data_sharing", "starts_on": day(5), "ends_on": day(1)}, "ends_on"),
        ({"kind": "data_sharing", "starts_on": "01/09/2026", "ends_on": day(1)}, "starts_on"),
        ({"kind": "data_sharing", "starts_on": 1767225600, "ends_on": day(1)}, "starts_on"),  # no Unix times
        ({"kind": "data_sharing", "starts_on": "2026-02-30", "ends_on": day(1)}, "starts_on"),
        ({"kind": "data_sharing", "starts_on": day(0)}, "ends_on"),
        ({"kind": "data_sharing", "starts_on": day(0), "ends_on": day(1), "status": "active"}, "status"),
    ],
)
async def test_bad_agreement_input_is_a_422_naming_the_field_and_changes_nothing(
    projects: Projects, body: dict[str, Any], field: str
) -> None:
    partner = await projects.register()
    response = await projects.client.post(
        f"/partners/{partner['id']}/agreements", json=body, headers=projects.coordinator
    )
    assert response.status_code == 422, response.text
    assert any(field in error["loc"] for error in response.json()["detail"])
    assert await projects.count(partner_agreements) == 0
    assert len(await projects.outbox()) == 1


async def test_moving_the_start_past_the_end_is_a_422_naming_the_start(projects: Projects) -> None:
    partner = await projects.register()
    agreement = await add(projects, partner["id"])
    url = f"/partners/{partner['id']}/agreements/{agreement['id']}"
    response = await projects.client.patch(url, json={"starts_on": day(400)}, headers=projects.coordinator)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "starts_on"]
    assert (await projects.detail(partner["id"]))["agreements"] == [agreement]


async def test_only_coordinators_record_or_change_agreements(projects: Projects) -> None:
    partner = await projects.register()
    agreement = await add(projects, partner["id"])
    own = projects.auth(Role.PARTNER, organisation=uuid.UUID(partner["id"]))
    body = {"kind": "data_sharing", "starts_on": day(0), "ends_on": day(30)}
    for headers in (own, projects.auth(Role.SUPERVISOR), projects.auth(Role.STUDENT)):
        added = await projects.client.post(f"/partners/{partner['id']}/agreements", json=body, headers=headers)
        assert added.status_code == 403
        url = f"/partners/{partner['id']}/agreements/{agreement['id']}"
        assert (await projects.client.patch(url, json={"status": "active"}, headers=headers)).status_code == 403
    assert (await projects.detail(partner["id"]))["agreements"] == [agreement]
