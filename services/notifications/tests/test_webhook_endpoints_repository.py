"""`uow.webhook_endpoints`, what delivery reads and changes, on SQLite and PostgreSQL: which endpoints a partner event
goes to, the secrets that sign it (a receiver verifies with the stock `standardwebhooks` library, with either secret
during a rotation), disabling and pausing; secrets encrypted at rest, bound to their endpoint, readable after a key
change; concurrent rotations leave one current secret."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from asgi_lifespan import LifespanManager
from sqlalchemy import func, inspect, select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from medic.notifications.adapters.orm_webhook_endpoints import webhook_endpoint_secrets
from medic.notifications.adapters.secret_box import InvalidSecretsKey, SecretBox, SecretUnreadable
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.bootstrap import MIGRATIONS, NotificationsService, build
from medic.notifications.domain import webhook_signing
from medic.notifications.domain.webhook_endpoints import MAX_PREVIOUS_SECRETS, EndpointChanges, WebhookEndpoint
from medic.notifications.service_layer import webhook_endpoints
from medic.notifications.service_layer.webhook_endpoints import EndpointPolicy, NewEndpoint
from medic.notifications.settings import NotificationsSettings
from medic.shared.db import alembic_config, create_engine
from tests import infra
from tests.support import eventually

APPROVED, DELIVERED = "project.approved.v1", "session.delivered.v1"
POLICY = EndpointPolicy(allow_http=False, allow_loopback=False, secret_overlap_s=3600)
OTHER_KEY = "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMDA="
THIRD_KEY = "dGhpcmQta2V5LXRoaXJkLWtleS10aGlyZC1rZXktMDA="


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with infra.fresh_database_url(request.param, tmp_path, "notifications") as url:
        yield url


def settings_for(url: str, **overrides: object) -> NotificationsSettings:
    return NotificationsSettings.model_validate(
        {"NOTIFICATIONS_DATABASE_URL": url, "BROKER_NAMESPACE": f"test-{uuid.uuid4().hex[:8]}", **overrides}
    )


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[NotificationsService]:
    service = build(settings_for(database_url), start_consumer=False)
    async with LifespanManager(service.app):
        yield service


def uow_of(service: NotificationsService) -> NotificationsUnitOfWork:
    factory: Callable[[], NotificationsUnitOfWork] = service.app.state.uow_factory
    return factory()


async def register(
    service: NotificationsService, partner_id: uuid.UUID, event_types: list[str], *, enabled: bool = True
) -> tuple[WebhookEndpoint, str]:
    new = NewEndpoint(
        partner_id=partner_id,
        url="https://93.184.215.14/hook",
        description="",
        event_types=event_types,
        enabled=enabled,
        rate_limit_per_s=None,
    )
    created = await webhook_endpoints.register(uow_of(service), new, POLICY)
    return created.endpoint, created.secret


async def rotate(service: NotificationsService, endpoint_id: uuid.UUID, at: datetime, overlap_s: float) -> str:
    secret = webhook_signing.new_secret()
    async with uow_of(service) as uow:
        assert await uow.webhook_endpoints.rotate_secret(endpoint_id, secret, now=at, overlap_s=overlap_s)
        await uow.commit()
    return secret


async def signing_secrets(service: NotificationsService, endpoint_id: uuid.UUID, at: datetime) -> list[str]:
    async with uow_of(service) as uow:
        return await uow.webhook_endpoints.signing_secrets(endpoint_id, at)


def verifies(secret: str, secrets: list[str]) -> bool:
    """Whether a receiver holding `secret` accepts a message signed now with `secrets` (the stock library)."""
    body = b'{"type":"project.approved.v1","timestamp":"2026-12-07T10:00:00Z","data":{}}'
    headers = webhook_signing.headers(f"msg_{uuid.uuid4()}", int(datetime.now(UTC).timestamp()), body, secrets)
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


async def test_subscribed_names_the_partners_enabled_endpoints_for_the_type(service: NotificationsService) -> None:
    partner, other = uuid.uuid4(), uuid.uuid4()
    both, _ = await register(service, partner, [APPROVED, DELIVERED])
    only_delivered, _ = await register(service, partner, [DELIVERED])
    paused, _ = await register(service, partner, [APPROVED])
    off, _ = await register(service, partner, [APPROVED], enabled=False)
    await register(service, other, [APPROVED])
    async with uow_of(service) as uow:
        assert await uow.webhook_endpoints.set_paused(paused.id, True) is True
        await uow.commit()

    async with uow_of(service) as uow:
        assert await uow.webhook_endpoints.subscribed(partner, APPROVED) == [both.id, paused.id]  # paused included
        assert await uow.webhook_endpoints.subscribed(partner, DELIVERED) == [both.id, only_delivered.id]
        assert await uow.webhook_endpoints.subscribed(partner, "project.created.v1") == []
        assert await uow.webhook_endpoints.subscribed(uuid.uuid4(), APPROVED) == []
        assert [e.id for e in await uow.webhook_endpoints.for_partner(partner)] == [
            both.id,
            only_delivered.id,
            paused.id,
            off.id,
        ]
        read = await uow.webhook_endpoints.get(paused.id)
        assert read is not None and read.paused and read.enabled and read.event_types == (APPROVED,)
        assert await uow.webhook_endpoints.get(uuid.uuid4()) is None


async def test_disable_and_pause_say_whether_they_changed_anything(service: NotificationsService) -> None:
    endpoint, _ = await register(service, uuid.uuid4(), [APPROVED])
    at = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    async with uow_of(service) as uow:
        assert await uow.webhook_endpoints.disable(endpoint.id, "410 Gone", at) is True
        assert await uow.webhook_endpoints.disable(endpoint.id, "failing since 2026-12-02", at) is False
        assert await uow.webhook_endpoints.disable(uuid.uuid4(), "410 Gone", at) is False
        assert await uow.webhook_endpoints.set_paused(endpoint.id, True) is True
        assert await uow.webhook_endpoints.set_paused(endpoint.id, True) is False
        assert await uow.webhook_endpoints.set_paused(endpoint.id, False) is True
        assert await uow.webhook_endpoints.set_paused(uuid.uuid4(), True) is False
        await uow.commit()
    async with uow_of(service) as uow:
        read = await uow.webhook_endpoints.get(endpoint.id)
        assert read is not None
        assert (read.enabled, read.paused, read.disabled_reason, read.disabled_at) == (False, False, "410 Gone", at)
        assert await uow.webhook_endpoints.subscribed(endpoint.partner_id, APPROVED) == []


async def test_during_a_rotation_both_secrets_sign_and_a_receiver_verifies_with_either(
    service: NotificationsService,
) -> None:
    endpoint, first = await register(service, uuid.uuid4(), [APPROVED])
    now = datetime.now(UTC)
    assert await signing_secrets(service, endpoint.id, now) == [first]

    second = await rotate(service, endpoint.id, now, overlap_s=3600)
    during = await signing_secrets(service, endpoint.id, now + timedelta(minutes=59))
    assert during == [second, first]  # the current one first
    assert verifies(first, during) and verifies(second, during)
    assert not verifies(webhook_signing.new_secret(), during)

    after = await signing_secrets(service, endpoint.id, now + timedelta(hours=1))
    assert after == [second]
    assert verifies(second, after) and not verifies(first, after)

    async with uow_of(service) as uow:
        read = await uow.webhook_endpoints.get(endpoint.id)
    assert read is not None and read.rotation_ends_at == now + timedelta(hours=1)
    assert read.previous_secrets_sign_until(now) == now + timedelta(hours=1)
    assert read.previous_secrets_sign_until(now + timedelta(hours=1)) is None


async def test_rotating_often_keeps_a_bounded_number_of_old_secrets(service: NotificationsService) -> None:
    endpoint, first = await register(service, uuid.uuid4(), [APPROVED])
    now = datetime.now(UTC)
    made = [first]
    for minute in range(MAX_PREVIOUS_SECRETS + 3):
        made.append(await rotate(service, endpoint.id, now + timedelta(minutes=minute), overlap_s=86400))
    signing = await signing_secrets(service, endpoint.id, now + timedelta(minutes=30))
    assert signing == list(reversed(made))[: MAX_PREVIOUS_SECRETS + 1]
    async with service.engine.connect() as connection:
        stored = (await connection.execute(select(webhook_endpoint_secrets.c.id))).all()
    assert len(stored) == MAX_PREVIOUS_SECRETS + 1  # the retired ones are deleted, not just ignored


async def test_concurrent_rotations_leave_one_current_secret(service: NotificationsService) -> None:
    endpoint, _ = await register(service, uuid.uuid4(), [APPROVED])
    now = datetime.now(UTC)
    made = await asyncio.gather(*(rotate(service, endpoint.id, now, overlap_s=3600) for _ in range(5)))
    async with service.engine.connect() as connection:
        current = (
            await connection.execute(
                select(webhook_endpoint_secrets.c.id).where(webhook_endpoint_secrets.c.expires_at.is_(None))
            )
        ).all()
    assert len(current) == 1
    signing = await signing_secrets(service, endpoint.id, now)
    assert signing[0] in made and len(signing) == 6  # the current one, then the other four and the first


async def test_concurrent_updates_of_different_fields_both_hold(service: NotificationsService) -> None:
    endpoint, _ = await register(service, uuid.uuid4(), [APPROVED])
    changes = [
        EndpointChanges(description="renamed"),
        EndpointChanges(rate_limit_per_s=7),
        EndpointChanges(event_types=(APPROVED, DELIVERED)),
        EndpointChanges(enabled=False),
    ]

    async def apply(change: EndpointChanges) -> None:
        async with uow_of(service) as uow:
            assert await uow.webhook_endpoints.update(endpoint.id, change, datetime.now(UTC)) is not None
            await uow.commit()

    await asyncio.gather(*(apply(change) for change in changes))
    async with uow_of(service) as uow:
        read = await uow.webhook_endpoints.get(endpoint.id)
    assert read is not None
    assert (read.description, read.rate_limit_per_s, read.event_types, read.enabled) == (
        "renamed",
        7,
        (APPROVED, DELIVERED),
        False,
    )


async def test_secrets_are_sealed_and_bound_to_their_endpoint(service: NotificationsService) -> None:
    one, one_secret = await register(service, uuid.uuid4(), [APPROVED])
    two, _ = await register(service, uuid.uuid4(), [APPROVED])
    s = webhook_endpoint_secrets.c
    async with service.engine.begin() as connection:
        sealed = (await connection.execute(select(s.sealed).where(s.endpoint_id == one.id))).scalar_one()
        assert one_secret not in sealed and one_secret.removeprefix("whsec_") not in sealed
        # A row copied onto another endpoint does not open there.
        await connection.execute(update(webhook_endpoint_secrets).where(s.endpoint_id == two.id).values(sealed=sealed))
    with pytest.raises(SecretUnreadable):
        await signing_secrets(service, two.id, datetime.now(UTC))


async def sealed_rows(service: NotificationsService) -> list[str]:
    async with service.engine.connect() as connection:
        query = select(webhook_endpoint_secrets.c.sealed).order_by(webhook_endpoint_secrets.c.id)
        return list((await connection.execute(query)).scalars())


async def test_a_new_key_in_front_reads_old_secrets_and_the_service_reseals_them_on_start(database_url: str) -> None:
    first = build(settings_for(database_url), start_consumer=False)
    async with LifespanManager(first.app):
        endpoint, secret = await register(first, uuid.uuid4(), [APPROVED])
        before = await sealed_rows(first)
    old_key = first.settings.webhook_secrets_key.get_secret_value()

    wrong = build(settings_for(database_url, WEBHOOK_SECRETS_KEY=OTHER_KEY), start_consumer=False)
    async with LifespanManager(wrong.app):
        with pytest.raises(SecretUnreadable):
            await signing_secrets(wrong, endpoint.id, datetime.now(UTC))
        assert await sealed_rows(wrong) == before  # what no key opens is left as it is

    changed = build(settings_for(database_url, WEBHOOK_SECRETS_KEY=f"{OTHER_KEY},{old_key}"), start_consumer=False)
    async with LifespanManager(changed.app):
        assert await signing_secrets(changed, endpoint.id, datetime.now(UTC)) == [secret]

        async def resealed() -> bool:
            return await sealed_rows(changed) != before

        await eventually(resealed, timeout_s=10)

    only_new = build(settings_for(database_url, WEBHOOK_SECRETS_KEY=OTHER_KEY), start_consumer=False)
    async with LifespanManager(only_new.app):
        assert await signing_secrets(only_new, endpoint.id, datetime.now(UTC)) == [secret]


async def test_resealing_goes_in_batches_and_leaves_what_it_cannot_read(database_url: str) -> None:
    old = build(settings_for(database_url), start_consumer=False)
    async with LifespanManager(old.app):
        for _ in range(5):
            await register(old, uuid.uuid4(), [APPROVED])
    old_key = old.settings.webhook_secrets_key.get_secret_value()
    changed = build(settings_for(database_url, WEBHOOK_SECRETS_KEY=f"{OTHER_KEY},{old_key}"), start_consumer=False)
    # Not started: its resealer would do the work this test does by hand. Migrated already by the first service.
    async with changed.engine.begin() as connection:
        # One secret no configured key opens (sealed under a key since lost).
        lost = SecretBox(THIRD_KEY).seal(webhook_signing.new_secret(), bound_to=str(uuid.uuid4()))
        first_id = (await connection.execute(select(func.min(webhook_endpoint_secrets.c.id)))).scalar_one()
        await connection.execute(
            update(webhook_endpoint_secrets).where(webhook_endpoint_secrets.c.id == first_id).values(sealed=lost)
        )
    batches = []
    after_id: int | None = 0
    while after_id is not None:
        async with uow_of(changed) as uow:
            batch = await uow.webhook_endpoints.reseal_secrets(after_id=after_id, limit=2)
            await uow.commit()
        batches.append((batch.resealed, batch.unreadable))
        after_id = batch.last_id
    assert batches == [(1, 1), (2, 0), (1, 0)]
    async with uow_of(changed) as uow:
        again = await uow.webhook_endpoints.reseal_secrets()
    assert (again.resealed, again.unreadable, again.last_id) == (0, 1, None)
    await changed.engine.dispose()


@pytest.mark.parametrize("key", ["", "not-a-key", "c2hvcnQ=", f"{OTHER_KEY},short"])
def test_a_bad_secrets_key_is_refused_without_repeating_it(key: str) -> None:
    with pytest.raises(InvalidSecretsKey) as refused:
        SecretBox(key)
    assert key == "" or key not in str(refused.value)


async def test_an_endpoint_deleted_takes_its_secrets_along(service: NotificationsService) -> None:
    endpoint, _ = await register(service, uuid.uuid4(), [APPROVED])
    await rotate(service, endpoint.id, datetime.now(UTC), overlap_s=3600)
    async with uow_of(service) as uow:
        assert await uow.webhook_endpoints.delete(endpoint.id) is True
        assert await uow.webhook_endpoints.delete(endpoint.id) is False
        await uow.commit()
    assert await signing_secrets(service, endpoint.id, datetime.now(UTC)) == []
    async with service.engine.connect() as connection:
        assert (await connection.execute(select(webhook_endpoint_secrets))).all() == []


async def test_the_migration_goes_down_and_up_again(database_url: str) -> None:
    config = alembic_config(MIGRATIONS, database_url)
    for step, revision in [(command.upgrade, "0003"), (command.downgrade, "0002"), (command.upgrade, "0003")]:
        await asyncio.to_thread(step, config, revision)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
    assert {"webhook_endpoints", "webhook_endpoint_secrets"} <= names
