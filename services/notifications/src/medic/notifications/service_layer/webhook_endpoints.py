"""Registering, changing and deleting partner webhook endpoints, and rotating their signing secrets.

`only` is the one partner the caller acts for (a partner user's organisation), or None for a coordinator: an
endpoint of another partner is EndpointNotFound, the same as one that does not exist. A URL is checked for SSRF
(`adapters.guarded_resolver.check_url`) before any transaction opens, so a slow DNS answer holds no database lock.
A new secret is returned once, to the caller, and never logged.
"""

import asyncio
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from medic.notifications.adapters.guarded_resolver import UnsafeUrl, check_url, normalised_url
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain import webhook_signing
from medic.notifications.domain.partner_events import CATALOGUE
from medic.notifications.domain.webhook_endpoints import (
    KEEP,
    EndpointChanges,
    EndpointNotFound,
    InvalidEndpoint,
    WebhookEndpoint,
    check_room_for_another,
    checked_description,
    checked_event_types,
    checked_rate_limit,
)
from medic.shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class EndpointPolicy:
    """The settings the endpoints area obeys (WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOW_LOOPBACK, WEBHOOK_SECRET_OVERLAP_S)."""

    allow_http: bool
    allow_loopback: bool
    secret_overlap_s: float
    event_types: Collection[str] = tuple(CATALOGUE)


@dataclass(frozen=True)
class NewEndpoint:
    partner_id: uuid.UUID
    url: str
    description: str
    event_types: Sequence[str]
    enabled: bool
    rate_limit_per_s: int | None


@dataclass(frozen=True)
class WithSecret:
    """An endpoint and the secret just made for it: the only time the secret is shown."""

    endpoint: WebhookEndpoint
    secret: str


def now() -> datetime:
    return datetime.now(UTC)


async def _checked_url(url: str, policy: EndpointPolicy) -> str:
    try:
        checked = normalised_url(url, allow_http=policy.allow_http)
        await check_url(checked, allow_http=policy.allow_http, allow_loopback=policy.allow_loopback)
    except UnsafeUrl as refused:
        raise InvalidEndpoint("url", str(refused)) from None
    return checked


def _visible(endpoint: WebhookEndpoint | None, only: uuid.UUID | None) -> WebhookEndpoint:
    if endpoint is None or (only is not None and endpoint.partner_id != only):
        raise EndpointNotFound("no such endpoint")
    return endpoint


async def register(uow: NotificationsUnitOfWork, new: NewEndpoint, policy: EndpointPolicy) -> WithSecret:
    event_types = checked_event_types(new.event_types, policy.event_types)
    description = checked_description(new.description)
    rate_limit = checked_rate_limit(new.rate_limit_per_s)
    url = await _checked_url(new.url, policy)
    at = now()
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        partner_id=new.partner_id,
        url=url,
        description=description,
        event_types=event_types,
        enabled=new.enabled,
        paused=False,
        rate_limit_per_s=rate_limit,
        disabled_reason=None if new.enabled else "registered disabled",
        disabled_at=None if new.enabled else at,
        enabled_at=at,
        created_at=at,
        updated_at=at,
        secret_rotated_at=None,
        rotation_ends_at=None,
    )
    secret = webhook_signing.new_secret()
    async with uow:
        # A soft cap: two registrations at the very same moment may pass it together, which harms nothing.
        check_room_for_another(await uow.webhook_endpoints.count_for_partner(new.partner_id))
        await uow.webhook_endpoints.add(endpoint, secret)
        await uow.commit()
    log.info("webhook_endpoint.registered", endpoint_id=str(endpoint.id), partner_id=str(endpoint.partner_id))
    return WithSecret(endpoint, secret)


async def get(uow: NotificationsUnitOfWork, endpoint_id: uuid.UUID, *, only: uuid.UUID | None) -> WebhookEndpoint:
    async with uow:
        return _visible(await uow.webhook_endpoints.get(endpoint_id), only)


async def find(
    uow: NotificationsUnitOfWork, *, partner_id: uuid.UUID | None, limit: int, offset: int
) -> list[WebhookEndpoint]:
    async with uow:
        return await uow.webhook_endpoints.find(partner_id=partner_id, limit=limit, offset=offset)


async def update(
    uow: NotificationsUnitOfWork,
    endpoint_id: uuid.UUID,
    changes: EndpointChanges,
    *,
    only: uuid.UUID | None,
    policy: EndpointPolicy,
) -> WebhookEndpoint:
    if changes.event_types is not None:
        changes = replace(changes, event_types=checked_event_types(changes.event_types, policy.event_types))
    if changes.description is not None:
        checked_description(changes.description)
    if changes.rate_limit_per_s is not KEEP:
        checked_rate_limit(changes.rate_limit_per_s)
    async with uow:  # refuse another's endpoint before resolving anything for it
        _visible(await uow.webhook_endpoints.get(endpoint_id), only)
    if changes.url is not None:
        changes = replace(changes, url=await _checked_url(changes.url, policy))
    async with uow:
        # Checked again in this transaction: the owner cannot change, but the endpoint may have been deleted.
        _visible(await uow.webhook_endpoints.get(endpoint_id), only)
        updated = await uow.webhook_endpoints.update(endpoint_id, changes, now())
        await uow.commit()
    endpoint = _visible(updated, only)
    log.info("webhook_endpoint.updated", endpoint_id=str(endpoint_id), enabled=endpoint.enabled)
    return endpoint


async def delete(uow: NotificationsUnitOfWork, endpoint_id: uuid.UUID, *, only: uuid.UUID | None) -> None:
    async with uow:
        _visible(await uow.webhook_endpoints.get(endpoint_id), only)
        await uow.webhook_endpoints.delete(endpoint_id)
        await uow.commit()
    log.info("webhook_endpoint.deleted", endpoint_id=str(endpoint_id))


async def rotate_secret(
    uow: NotificationsUnitOfWork, endpoint_id: uuid.UUID, *, only: uuid.UUID | None, policy: EndpointPolicy
) -> WithSecret:
    """A new current secret; the old one keeps signing beside it for the overlap (WEBHOOK_SECRET_OVERLAP_S)."""
    secret = webhook_signing.new_secret()
    async with uow:
        _visible(await uow.webhook_endpoints.get(endpoint_id), only)
        rotated = await uow.webhook_endpoints.rotate_secret(
            endpoint_id, secret, now=now(), overlap_s=policy.secret_overlap_s
        )
        await uow.commit()
    log.info("webhook_endpoint.secret_rotated", endpoint_id=str(endpoint_id))
    return WithSecret(_visible(rotated, only), secret)


class SecretsResealer:
    """On start, re-encrypts every signing secret sealed with an older key (WEBHOOK_SECRETS_KEY lists the new key
    first, then the old ones), in small transactions, then ends. Two replicas doing it at once only do it twice."""

    def __init__(self, unit_of_work: Callable[[], NotificationsUnitOfWork]) -> None:
        self._unit_of_work = unit_of_work
        self._stopping = False

    async def run(self) -> None:
        after_id, resealed, unreadable = 0, 0, 0
        try:
            while not self._stopping:
                async with self._unit_of_work() as uow:
                    batch = await uow.webhook_endpoints.reseal_secrets(after_id=after_id)
                    await uow.commit()
                resealed, unreadable = resealed + batch.resealed, unreadable + batch.unreadable
                if batch.last_id is None:
                    break
                after_id = batch.last_id
                await asyncio.sleep(0)  # let requests in between batches
        except Exception as error:  # a database away: the next start tries again; the old key still reads them
            log.warning("webhook_secrets.reseal_failed", error=type(error).__name__)
        if resealed:
            log.info("webhook_secrets.resealed", secrets=resealed)
        if unreadable:
            log.error("webhook_secrets.unreadable", secrets=unreadable)

    def stop(self) -> None:
        self._stopping = True
