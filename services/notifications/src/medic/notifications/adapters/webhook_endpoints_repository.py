"""Webhook endpoints and their signing secrets, on `uow.webhook_endpoints`.

Secrets are stored sealed (`SecretBox`) and leave this class only decrypted for signing (`signing_secrets`) or
once, to their owner, when made (`add`, `rotate_secret` take them from the caller). Every change to one endpoint
starts by updating its row, which serialises concurrent changes to it (a row lock on PostgreSQL, the write lock on
SQLite), so two rotations at once leave one current secret.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.notifications.adapters.orm_webhook_endpoints import webhook_endpoint_secrets, webhook_endpoints
from medic.notifications.adapters.secret_box import SecretBox, SecretUnreadable
from medic.notifications.domain.webhook_endpoints import (
    DISABLED_BY_OWNER,
    KEEP,
    EndpointChanges,
    SecretPeriod,
    WebhookEndpoint,
    rotation,
    signing_order,
)

E = webhook_endpoints.c
S = webhook_endpoint_secrets.c


@dataclass(frozen=True)
class ResealBatch:
    resealed: int
    unreadable: int
    last_id: int | None  # where the next batch starts; None when every secret has been looked at


class WebhookEndpointsRepository:
    def __init__(self, connection: AsyncConnection, secret_box: SecretBox | None) -> None:
        self._connection = connection
        self._box = secret_box

    def _secret_box(self) -> SecretBox:
        if self._box is None:
            raise RuntimeError("this unit of work has no secret box: pass `secret_box` to NotificationsUnitOfWork")
        return self._box

    # What H2's delivery and operations read and change

    async def get(self, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
        row = (await self._connection.execute(select(webhook_endpoints).where(E.id == endpoint_id))).first()
        return _endpoint(row._mapping) if row is not None else None

    async def for_partner(self, partner_id: uuid.UUID) -> list[WebhookEndpoint]:
        """The partner's endpoints, oldest first (there are at most MAX_ENDPOINTS_PER_PARTNER)."""
        query = select(webhook_endpoints).where(E.partner_id == partner_id).order_by(E.created_at, E.id)
        return [_endpoint(row._mapping) for row in await self._connection.execute(query)]

    async def subscribed(self, partner_id: uuid.UUID, event_type: str) -> list[uuid.UUID]:
        """The partner's enabled endpoints (paused ones included) that subscribe to `event_type`, oldest first."""
        query = (
            select(E.id, E.event_types)
            .where((E.partner_id == partner_id) & E.enabled.is_(True))
            .order_by(E.created_at, E.id)
        )
        return [row.id for row in await self._connection.execute(query) if event_type in row.event_types]

    async def signing_secrets(self, endpoint_id: uuid.UUID, now: datetime) -> list[str]:
        """The `whsec_` secrets that sign a message sent at `now`: the current one first, then the rotated-out ones
        still inside their overlap, newest first. Empty for an endpoint that does not exist."""
        query = select(S.id, S.sealed, S.created_at, S.expires_at).where(
            (S.endpoint_id == endpoint_id) & (S.expires_at.is_(None) | (S.expires_at > now))
        )
        rows = {row.id: row for row in await self._connection.execute(query)}
        order = signing_order([SecretPeriod(r.id, r.created_at, r.expires_at) for r in rows.values()], now=now)
        box = self._secret_box()
        return [box.open(rows[secret_id].sealed, bound_to=str(endpoint_id)) for secret_id in order]

    async def disable(self, endpoint_id: uuid.UUID, reason: str, at: datetime) -> bool:
        """Disable an enabled endpoint, saying why (e.g. `410 Gone`); False if it is disabled already (or missing)."""
        statement = (
            update(webhook_endpoints)
            .where((E.id == endpoint_id) & E.enabled.is_(True))
            .values(enabled=False, disabled_reason=reason, disabled_at=at, updated_at=at)
        )
        return (await self._connection.execute(statement)).rowcount == 1

    async def set_paused(self, endpoint_id: uuid.UUID, paused: bool) -> bool:
        """Pause or resume; False if it already was (or is missing)."""
        statement = update(webhook_endpoints).where((E.id == endpoint_id) & (E.paused != paused)).values(paused=paused)
        return (await self._connection.execute(statement)).rowcount == 1

    # What the endpoints API does

    async def add(self, endpoint: WebhookEndpoint, secret: str) -> None:
        await self._connection.execute(insert(webhook_endpoints).values(**_row(endpoint)))
        await self._connection.execute(
            insert(webhook_endpoint_secrets).values(
                endpoint_id=endpoint.id,
                sealed=self._secret_box().seal(secret, bound_to=str(endpoint.id)),
                created_at=endpoint.created_at,
                expires_at=None,
            )
        )

    async def count_for_partner(self, partner_id: uuid.UUID) -> int:
        query = select(func.count()).select_from(webhook_endpoints).where(E.partner_id == partner_id)
        return int((await self._connection.execute(query)).scalar_one())

    async def find(self, *, partner_id: uuid.UUID | None, limit: int, offset: int) -> list[WebhookEndpoint]:
        """Endpoints, oldest first, of one partner or (None) of all."""
        query = select(webhook_endpoints).order_by(E.created_at, E.id).limit(limit).offset(offset)
        if partner_id is not None:
            query = query.where(E.partner_id == partner_id)
        return [_endpoint(row._mapping) for row in await self._connection.execute(query)]

    async def update(self, endpoint_id: uuid.UUID, changes: EndpointChanges, at: datetime) -> WebhookEndpoint | None:
        """Apply `changes` in one statement (so concurrent updates of different fields both hold); None if missing.

        Enabling clears why it was disabled and restarts `enabled_at`; disabling by its owner says so. Enabling an
        enabled endpoint or disabling a disabled one changes nothing about it.
        """
        values: dict[str, Any] = {"updated_at": at}
        if changes.url is not None:
            values["url"] = changes.url
        if changes.description is not None:
            values["description"] = changes.description
        if changes.event_types is not None:
            values["event_types"] = list(changes.event_types)
        if changes.rate_limit_per_s is not KEEP:
            values["rate_limit_per_s"] = changes.rate_limit_per_s
        result = await self._connection.execute(update(webhook_endpoints).where(E.id == endpoint_id).values(**values))
        if result.rowcount != 1:
            return None
        if changes.enabled is not None:  # only a real change of state moves its dates and reason
            flip = update(webhook_endpoints).where((E.id == endpoint_id) & (E.enabled != changes.enabled))
            if changes.enabled:
                flip = flip.values(enabled=True, disabled_reason=None, disabled_at=None, enabled_at=at)
            else:
                flip = flip.values(enabled=False, disabled_reason=DISABLED_BY_OWNER, disabled_at=at)
            await self._connection.execute(flip)
        return await self.get(endpoint_id)

    async def delete(self, endpoint_id: uuid.UUID) -> bool:
        """Delete the endpoint and its secrets; False if there is none."""
        await self._connection.execute(delete(webhook_endpoint_secrets).where(S.endpoint_id == endpoint_id))
        result = await self._connection.execute(delete(webhook_endpoints).where(E.id == endpoint_id))
        return result.rowcount == 1

    async def rotate_secret(
        self, endpoint_id: uuid.UUID, secret: str, *, now: datetime, overlap_s: float
    ) -> WebhookEndpoint | None:
        """Make `secret` the current one; the old one keeps signing for `overlap_s`. None if the endpoint is missing."""
        touched = await self._connection.execute(
            update(webhook_endpoints).where(E.id == endpoint_id).values(secret_rotated_at=now, updated_at=now)
        )
        if touched.rowcount != 1:
            return None
        periods = [
            SecretPeriod(row.id, row.created_at, row.expires_at)
            for row in await self._connection.execute(
                select(S.id, S.created_at, S.expires_at).where(S.endpoint_id == endpoint_id)
            )
        ]
        change = rotation(periods, now=now, overlap_s=overlap_s)
        if change.delete:
            await self._connection.execute(delete(webhook_endpoint_secrets).where(S.id.in_(list(change.delete))))
        for secret_id, expires_at in change.expire.items():
            await self._connection.execute(
                update(webhook_endpoint_secrets).where(S.id == secret_id).values(expires_at=expires_at)
            )
        await self._connection.execute(
            insert(webhook_endpoint_secrets).values(
                endpoint_id=endpoint_id,
                sealed=self._secret_box().seal(secret, bound_to=str(endpoint_id)),
                created_at=now,
                expires_at=None,
            )
        )
        await self._connection.execute(
            update(webhook_endpoints).where(E.id == endpoint_id).values(rotation_ends_at=change.rotation_ends_at)
        )
        return await self.get(endpoint_id)

    async def reseal_secrets(self, *, after_id: int = 0, limit: int = 200) -> ResealBatch:
        """Re-encrypt with the first key those of the next `limit` stored secrets (by id, after `after_id`) that were
        sealed with another key (after a key change)."""
        box = self._secret_box()
        query = select(S.id, S.sealed).where(S.id > after_id).order_by(S.id).limit(limit)
        rows = list(await self._connection.execute(query))
        resealed = unreadable = 0
        for row in rows:
            if not box.needs_resealing(row.sealed):
                continue
            try:
                sealed = box.reseal(row.sealed)
            except SecretUnreadable:
                unreadable += 1  # no configured key opens it: left as it is, for an operator to see
                continue
            await self._connection.execute(update(webhook_endpoint_secrets).where(S.id == row.id).values(sealed=sealed))
            resealed += 1
        last = rows[-1].id if len(rows) == limit else None
        return ResealBatch(resealed=resealed, unreadable=unreadable, last_id=last)


def _row(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "partner_id": endpoint.partner_id,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "enabled": endpoint.enabled,
        "paused": endpoint.paused,
        "rate_limit_per_s": endpoint.rate_limit_per_s,
        "disabled_reason": endpoint.disabled_reason,
        "disabled_at": endpoint.disabled_at,
        "enabled_at": endpoint.enabled_at,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
        "secret_rotated_at": endpoint.secret_rotated_at,
        "rotation_ends_at": endpoint.rotation_ends_at,
    }


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row["id"],
        partner_id=row["partner_id"],
        url=row["url"],
        description=row["description"],
        event_types=tuple(row["event_types"]),
        enabled=row["enabled"],
        paused=row["paused"],
        rate_limit_per_s=row["rate_limit_per_s"],
        disabled_reason=row["disabled_reason"],
        disabled_at=row["disabled_at"],
        enabled_at=row["enabled_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        secret_rotated_at=row["secret_rotated_at"],
        rotation_ends_at=row["rotation_ends_at"],
    )
