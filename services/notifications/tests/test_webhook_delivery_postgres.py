"""Two dispatchers (two replicas) on one PostgreSQL database send every delivery once."""

import asyncio
import random
from collections import Counter
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select

from medic.notifications.adapters.orm_webhook_deliveries import webhook_attempts
from services.notifications.tests.webhook_delivery_support import Received, harness, receiver
from tests import infra
from tests.support import eventually

ENDPOINTS = 4
MESSAGES = 60


async def test_two_dispatchers_never_send_a_delivery_twice(tmp_path: Path) -> None:
    async def jittery(request: web.Request, received: Received) -> web.StreamResponse:
        await asyncio.sleep(random.uniform(0, 0.005))  # so the two replicas' claims interleave
        return web.Response(text="ok")

    async with (
        infra.fresh_database_url("postgresql", tmp_path, "notifications") as url,
        harness(url) as hooks,
        receiver() as server,
    ):
        server.behaviours |= {f"/r{n}": jittery for n in range(ENDPOINTS)}
        endpoints = [await hooks.register(server.url(f"/r{n}")) for n in range(ENDPOINTS)]
        for endpoint in endpoints:
            for _ in range(MESSAGES):
                await hooks.publish(endpoint.endpoint.partner_id)
        first = hooks.start_dispatcher(max_in_flight=8)
        second = hooks.start_dispatcher(max_in_flight=8)

        async def all_written() -> bool:
            return await hooks.statuses() == {"succeeded": ENDPOINTS * MESSAGES}

        await eventually(all_written, timeout_s=60)
        await asyncio.sleep(0.3)
        received = Counter((r.path, r.webhook_id) for r in server.requests)
        assert len(received) == ENDPOINTS * MESSAGES
        assert set(received.values()) == {1}, "a delivery was sent twice"
        assert first.stats.sent > 0 and second.stats.sent > 0, "both replicas took part"
        assert first.stats.sent + second.stats.sent == ENDPOINTS * MESSAGES
        async with hooks.uow() as uow:
            attempts = (await uow.connection.execute(select(func.count()).select_from(webhook_attempts))).scalar()
        assert attempts == ENDPOINTS * MESSAGES
