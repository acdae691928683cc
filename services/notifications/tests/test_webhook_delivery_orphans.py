"""A delivery whose message is gone (the retention sweep raced a resend) is dropped when claimed: it cannot be sent,
and it must not hold a place in its endpoint's lane; the endpoint's other deliveries go out."""

from pathlib import Path

from sqlalchemy import delete

from medic.notifications.adapters.orm_webhook_deliveries import webhook_messages
from services.notifications.tests.webhook_delivery_support import harness, receiver, sqlite_url
from tests.support import eventually


async def test_a_delivery_without_its_message_is_dropped_and_the_others_go_out(tmp_path: Path) -> None:
    async with harness(sqlite_url(tmp_path)) as hooks, receiver() as server:
        endpoint = await hooks.register(server.url("/ok"))
        partner = endpoint.endpoint.partner_id
        await hooks.publish(partner)
        await hooks.publish(partner)
        async with hooks.uow() as uow:
            (orphaned,) = (await uow.connection.execute(webhook_messages.select().limit(1))).all()
            await uow.connection.execute(delete(webhook_messages).where(webhook_messages.c.id == orphaned.id))
            await uow.commit()
        hooks.start_dispatcher()

        async def settled() -> bool:
            return await hooks.statuses() == {"succeeded": 1}

        await eventually(settled, timeout_s=10)
        assert len(server.at("/ok")) == 1
        await hooks.publish(partner)  # the lane is free: a later message goes out as well

        async def both() -> bool:
            return len(server.at("/ok")) == 2

        await eventually(both, timeout_s=10)
