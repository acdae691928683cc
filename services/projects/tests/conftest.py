"""Fixtures of the projects service's tests."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.projects.tests.project_support import Year, seed_year
from services.projects.tests.test_partner_support import BACKENDS, running_projects


@pytest.fixture(params=BACKENDS)
async def year(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Year]:
    async with running_projects(request.param, tmp_path) as app:
        yield await seed_year(app)
