"""Fixtures of the outreach service's tests."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.outreach.tests.school_support import BACKENDS, Outreach, running_outreach


@pytest.fixture(params=BACKENDS)
async def outreach_app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Outreach]:
    async with running_outreach(request.param, tmp_path) as app:
        yield app
