"""An endpoint whose signing secret no configured key opens (WEBHOOK_SECRETS_KEY changed too soon, a row altered)
holds its own deliveries, and only those: every other endpoint's still go out."""

from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import update

from medic.notifications.adapters.orm_webhook_endpoints import webhook_endpoint_secrets
from services.notifications.tests.webhook_delivery_support import harness, receiver, sqlite_url
from tests.support import eventually


async def test_an_unreadable_secret_holds_only_its_own_endpoints_deliveries(tmp_path: Path) -> None:
    async with harness(sqlite_url(tmp_path)) as hooks, receiver() as server:
        server.behaviours["/unreadable"] = server.behaviours["/readable"] = server.behaviours["/ok"]
        unreadable = await hooks.register(server.url("/unreadable"))
        readable = await hooks.register(server.url("/readable"))
        sealed_elsewhere = Fernet(Fernet.generate_key()).encrypt(b"a key we do not hold").decode()
        secrets = webhook_endpoint_secrets.c
        async with hooks.uow() as uow:
            await uow.connection.execute(
                update(webhook_endpoint_secrets)
                .where(secrets.endpoint_id == unreadable.endpoint.id)
                .values(sealed=sealed_elsewhere)
            )
            await uow.commit()
        await hooks.publish(unreadable.endpoint.partner_id)
        await hooks.publish(readable.endpoint.partner_id)
        hooks.start_dispatcher()

        async def arrived() -> bool:
            return len(server.at("/readable")) == 1

        await eventually(arrived, timeout_s=10)
        assert server.at("/unreadable") == []
        assert await hooks.statuses() == {"succeeded": 1, "pending": 1}  # held, not failed: a key fix sends it
