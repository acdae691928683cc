"""Webhook messages, deliveries, attempts and endpoint health: the SQL, on SQLite and PostgreSQL alike.

Claims are safe with several dispatchers on one PostgreSQL database: a claim is one `UPDATE ... WHERE id IN (SELECT
... FOR UPDATE SKIP LOCKED) RETURNING` that moves the rows past a lease and stamps them with the claimer's token,
and a result is written only `WHERE claim = <that token>`. (SQLite has one writer at a time, which is as safe.)
"""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.notifications.adapters.orm_webhook_deliveries import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoint_health,
    webhook_messages,
)
from medic.notifications.domain.webhook_delivery import DeliveryStatus, Outcome

PENDING, SUCCEEDED, FAILED = DeliveryStatus.PENDING.value, DeliveryStatus.SUCCEEDED.value, DeliveryStatus.FAILED.value
CHUNK = 500  # rows per multi-row statement
# A literal, not a bound parameter: only then may PostgreSQL's generic plans and SQLite use the partial index.
IS_PENDING = webhook_deliveries.c.status == literal_column(f"'{PENDING}'")


@dataclass(frozen=True)
class StoredMessage:
    id: uuid.UUID
    partner_id: uuid.UUID
    event_type: str
    event_id: uuid.UUID
    occurred_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class Claimed:
    delivery_id: uuid.UUID
    message_id: uuid.UUID
    endpoint_id: uuid.UUID
    attempts: int
    free_throttles: int


@dataclass(frozen=True)
class AttemptRecord:
    delivery_id: uuid.UUID
    message_id: uuid.UUID
    endpoint_id: uuid.UUID
    attempted_at: datetime
    outcome: Outcome
    status_code: int | None
    duration_ms: float
    response_excerpt: str | None
    error: str | None


@dataclass(frozen=True)
class DeliveryUpdate:
    delivery_id: uuid.UUID
    claim: uuid.UUID
    status: DeliveryStatus
    attempts: int
    free_throttles: int
    available_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredAttempt:
    id: int
    message_id: uuid.UUID
    endpoint_id: uuid.UUID
    attempted_at: datetime
    outcome: str
    status_code: int | None
    duration_ms: float
    response_excerpt: str | None
    error: str | None


@dataclass(frozen=True)
class Health:
    failing_since: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None


@dataclass(frozen=True)
class AttemptStats:
    attempts: int
    succeeded: int
    durations_ms: list[float]  # ascending
    last_failure: StoredAttempt | None


class WebhookDeliveriesRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._postgresql = connection.dialect.name == "postgresql"

    def _insert(self, table: Any) -> Any:
        return (pg_insert if self._postgresql else sqlite_insert)(table)

    # --- messages ---------------------------------------------------------------------------------------------------

    async def add_message(self, message: StoredMessage, body: str) -> bool:
        """Store a message; False if one for the same (partner, event type, event) is there already."""
        statement = (
            self._insert(webhook_messages)
            .values(
                id=message.id,
                partner_id=message.partner_id,
                event_type=message.event_type,
                event_id=message.event_id,
                body=body,
                occurred_at=message.occurred_at,
                created_at=message.created_at,
            )
            .on_conflict_do_nothing()
        )
        return bool((await self._connection.execute(statement)).rowcount == 1)

    async def message(self, message_id: uuid.UUID) -> StoredMessage | None:
        m = webhook_messages.c
        row = (
            await self._connection.execute(
                select(m.id, m.partner_id, m.event_type, m.event_id, m.occurred_at, m.created_at).where(
                    m.id == message_id
                )
            )
        ).first()
        return StoredMessage(**row._mapping) if row else None

    async def bodies(self, message_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
        """message id -> (event type, raw body)."""
        m = webhook_messages.c
        found: dict[uuid.UUID, tuple[str, str]] = {}
        ids = list(message_ids)
        for start in range(0, len(ids), CHUNK):
            rows = await self._connection.execute(
                select(m.id, m.event_type, m.body).where(m.id.in_(ids[start : start + CHUNK]))
            )
            found.update((row.id, (row.event_type, row.body)) for row in rows)
        return found

    async def message_ids_since(
        self, partner_id: uuid.UUID, event_types: Collection[str], since: datetime, *, after: uuid.UUID | None = None
    ) -> list[uuid.UUID]:
        m = webhook_messages.c
        query = (
            select(m.id)
            .where(m.partner_id == partner_id, m.event_type.in_(list(event_types)), m.created_at >= since)
            .order_by(m.id)
            .limit(CHUNK)
        )
        if after is not None:
            query = query.where(m.id > after)
        return list((await self._connection.execute(query)).scalars())

    # --- deliveries -------------------------------------------------------------------------------------------------

    async def add_deliveries(self, message_id: uuid.UUID, endpoint_ids: Collection[uuid.UUID], now: datetime) -> int:
        if not endpoint_ids:
            return 0
        rows = [_new_delivery(message_id, endpoint_id, now) for endpoint_id in endpoint_ids]
        result = await self._connection.execute(self._insert(webhook_deliveries).values(rows).on_conflict_do_nothing())
        return int(result.rowcount)

    async def requeue(self, message_ids: Sequence[uuid.UUID], endpoint_id: uuid.UUID, now: datetime) -> int:
        """Send these messages to the endpoint again from the first attempt: a new delivery, or a finished or waiting
        one reset. One in flight (claimed, lease running) is left alone. Returns how many were queued."""
        d = webhook_deliveries.c
        queued = 0
        for start in range(0, len(message_ids), CHUNK):
            rows = [_new_delivery(message_id, endpoint_id, now) for message_id in message_ids[start : start + CHUNK]]
            statement = self._insert(webhook_deliveries).values(rows)
            statement = statement.on_conflict_do_update(
                index_elements=["message_id", "endpoint_id"],
                set_={
                    "status": PENDING,
                    "attempts": 0,
                    "free_throttles": 0,
                    "available_at": now,
                    "claim": None,
                    "updated_at": now,
                },
                where=~_in_flight(d, now),
            )
            queued += int((await self._connection.execute(statement)).rowcount)
        return queued

    async def in_flight(self, message_id: uuid.UUID, endpoint_id: uuid.UUID, now: datetime) -> bool:
        d = webhook_deliveries.c
        query = select(d.id).where(d.message_id == message_id, d.endpoint_id == endpoint_id, _in_flight(d, now))
        return (await self._connection.execute(query)).first() is not None

    async def recover(self, endpoint_id: uuid.UUID, since: datetime, now: datetime) -> int:
        """Queue again every delivery to the endpoint that failed at or after `since`."""
        d = webhook_deliveries.c
        statement = (
            update(webhook_deliveries)
            .where(d.endpoint_id == endpoint_id, d.status == FAILED, d.updated_at >= since)
            .values(status=PENDING, attempts=0, free_throttles=0, available_at=now, claim=None, updated_at=now)
        )
        return int((await self._connection.execute(statement)).rowcount)

    async def fail_pending(self, endpoint_id: uuid.UUID, now: datetime) -> int:
        """The endpoint is disabled or gone: what waited for it has failed (`recover` sends it once re-enabled).
        Deliveries in flight finish, and their results are still written."""
        d = webhook_deliveries.c
        statement = (
            update(webhook_deliveries)
            .where(d.endpoint_id == endpoint_id, IS_PENDING, ~_in_flight(d, now))
            .values(status=FAILED, claim=None, updated_at=now)
        )
        return int((await self._connection.execute(statement)).rowcount)

    async def due_endpoints(self, now: datetime, *, skip: Collection[uuid.UUID], limit: int) -> list[uuid.UUID]:
        """Endpoints with a delivery due, except those in `skip` (their lanes are full here).

        A loose index scan over the pending deliveries' partial index: one step per endpoint with something pending,
        however long its backlog (a plain DISTINCT would read every due row, on every round)."""
        d = webhook_deliveries.c
        pending = IS_PENDING
        first = select(d.endpoint_id).where(pending).order_by(d.endpoint_id).limit(1)
        lanes = select(first.scalar_subquery().label("endpoint_id")).cte("lanes", recursive=True)
        following = select(d.endpoint_id).where(pending, d.endpoint_id > lanes.c.endpoint_id)
        lanes = lanes.union_all(
            select(following.order_by(d.endpoint_id).limit(1).scalar_subquery()).where(lanes.c.endpoint_id.is_not(None))
        )
        due = select(d.id).where(d.endpoint_id == lanes.c.endpoint_id, pending, d.available_at <= now).exists()
        query = select(lanes.c.endpoint_id).where(lanes.c.endpoint_id.is_not(None), due).limit(limit)
        if skip:
            query = query.where(lanes.c.endpoint_id.not_in(list(skip)))
        return list((await self._connection.execute(query)).scalars())

    async def claim(
        self, endpoint_id: uuid.UUID, now: datetime, *, limit: int, lease_until: datetime, token: uuid.UUID
    ) -> list[Claimed]:
        """Lease up to `limit` of the endpoint's due deliveries, the longest waiting first."""
        d = webhook_deliveries.c
        due = (
            select(d.id)
            .where(d.endpoint_id == endpoint_id, IS_PENDING, d.available_at <= now)
            .order_by(d.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(webhook_deliveries)
            .where(d.id.in_(due.scalar_subquery()))
            .values(available_at=lease_until, claim=token, updated_at=now)
            .returning(d.id, d.message_id, d.endpoint_id, d.attempts, d.free_throttles)
        )
        return [
            Claimed(row.id, row.message_id, row.endpoint_id, row.attempts, row.free_throttles)
            for row in await self._connection.execute(statement)
        ]

    async def record(self, attempts: Sequence[AttemptRecord], updates: Sequence[DeliveryUpdate]) -> None:
        """Write a batch of attempts and the deliveries' next states (each only while its claim still holds)."""
        if attempts:
            await self._connection.execute(
                insert(webhook_attempts),
                [
                    {
                        "delivery_id": a.delivery_id,
                        "message_id": a.message_id,
                        "endpoint_id": a.endpoint_id,
                        "attempted_at": a.attempted_at,
                        "outcome": a.outcome.value,
                        "status_code": a.status_code,
                        "duration_ms": a.duration_ms,
                        "response_excerpt": a.response_excerpt,
                        "error": a.error,
                    }
                    for a in attempts
                ],
            )
        if updates:
            d = webhook_deliveries.c
            statement = (
                update(webhook_deliveries)
                .where(and_(d.id == bindparam("b_id"), d.claim == bindparam("b_claim")))
                .values(
                    status=bindparam("b_status"),
                    attempts=bindparam("b_attempts"),
                    free_throttles=bindparam("b_free_throttles"),
                    available_at=bindparam("b_available_at"),
                    updated_at=bindparam("b_updated_at"),
                    claim=None,
                )
            )
            await self._connection.execute(
                statement,
                [
                    {
                        "b_id": u.delivery_id,
                        "b_claim": u.claim,
                        "b_status": u.status.value,
                        "b_attempts": u.attempts,
                        "b_free_throttles": u.free_throttles,
                        "b_available_at": u.available_at,
                        "b_updated_at": u.updated_at,
                    }
                    for u in updates
                ],
            )

    async def backlog(self, endpoint_id: uuid.UUID) -> int:
        d = webhook_deliveries.c
        query = select(func.count()).where(d.endpoint_id == endpoint_id, IS_PENDING)
        return int((await self._connection.execute(query)).scalar_one())

    async def delivery_status(self, message_id: uuid.UUID, endpoint_id: uuid.UUID) -> str | None:
        d = webhook_deliveries.c
        query = select(d.status).where(d.message_id == message_id, d.endpoint_id == endpoint_id)
        return (await self._connection.execute(query)).scalar_one_or_none()

    async def forget_deliveries(self, delivery_ids: Collection[uuid.UUID]) -> None:
        """Delete these deliveries and their attempts (deliveries whose message no longer exists)."""
        ids = list(delivery_ids)
        await self._connection.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(ids)))
        await self._connection.execute(delete(webhook_deliveries).where(webhook_deliveries.c.id.in_(ids)))

    async def purge(self, before: datetime, *, limit: int) -> int:
        """Delete up to `limit` each of: attempts made before `before`, finished deliveries last changed before it,
        and messages stored before it that nothing waits for. Returns how many rows went."""
        a, d, m = webhook_attempts.c, webhook_deliveries.c, webhook_messages.c
        gone = 0
        old_attempts = select(a.id).where(a.attempted_at < before).limit(limit)
        gone += (await self._connection.execute(delete(webhook_attempts).where(a.id.in_(old_attempts)))).rowcount
        finished = select(d.id).where(d.status != PENDING, d.updated_at < before).limit(limit)
        gone += (await self._connection.execute(delete(webhook_deliveries).where(d.id.in_(finished)))).rowcount
        waited_for = select(d.id).where(d.message_id == m.id).exists()
        unwanted = select(m.id).where(m.created_at < before, ~waited_for).limit(limit)
        gone += (await self._connection.execute(delete(webhook_messages).where(m.id.in_(unwanted)))).rowcount
        return int(gone)

    # --- endpoint health ---------------------------------------------------------------------------------------------

    async def note_health(
        self, endpoint_id: uuid.UUID, *, last_success: datetime | None, first_failure_after: datetime | None
    ) -> Health:
        """Fold a batch of results in: `last_success` the latest success in it, `first_failure_after` its first
        failure after that (or after the stored state, without a success). Returns the health after."""
        h = webhook_endpoint_health.c
        last_failure = first_failure_after
        values: dict[str, Any] = {"endpoint_id": endpoint_id}
        set_: dict[str, Any] = {}
        if last_success is not None:
            values |= {"failing_since": first_failure_after, "last_success_at": last_success}
            set_ |= {"failing_since": first_failure_after, "last_success_at": last_success}
        else:
            values |= {"failing_since": first_failure_after}
            set_["failing_since"] = func.coalesce(h.failing_since, first_failure_after)
        if last_failure is not None:
            values["last_failure_at"] = last_failure
            set_["last_failure_at"] = last_failure
        statement = (
            self._insert(webhook_endpoint_health)
            .values(**values)
            .on_conflict_do_update(index_elements=["endpoint_id"], set_=set_)
            .returning(h.failing_since, h.last_success_at, h.last_failure_at)
        )
        row = (await self._connection.execute(statement)).one()
        return Health(row.failing_since, row.last_success_at, row.last_failure_at)

    async def end_failing_streak(self, endpoint_id: uuid.UUID, success_at: datetime) -> None:
        """A success at `success_at` ends a failing streak that began no later (and changes nothing otherwise)."""
        h = webhook_endpoint_health.c
        await self._connection.execute(
            update(webhook_endpoint_health)
            .where(h.endpoint_id == endpoint_id, h.failing_since.is_not(None), h.failing_since <= success_at)
            .values(
                failing_since=None,
                last_success_at=case(
                    (h.last_success_at.is_(None) | (h.last_success_at < success_at), success_at),
                    else_=h.last_success_at,
                ),
            )
        )

    async def health(self, endpoint_id: uuid.UUID) -> Health:
        h = webhook_endpoint_health.c
        query = select(h.failing_since, h.last_success_at, h.last_failure_at).where(h.endpoint_id == endpoint_id)
        row = (await self._connection.execute(query)).first()
        return Health(row.failing_since, row.last_success_at, row.last_failure_at) if row else Health(None, None, None)

    # --- attempts ----------------------------------------------------------------------------------------------------

    async def attempts(
        self,
        endpoint_id: uuid.UUID,
        *,
        message_id: uuid.UUID | None = None,
        before: int | None = None,
        limit: int,
    ) -> list[StoredAttempt]:
        """The endpoint's attempts (of one message, if given), newest first, older than attempt id `before`."""
        a = webhook_attempts.c
        query = select(webhook_attempts).where(a.endpoint_id == endpoint_id).order_by(a.id.desc()).limit(limit)
        if message_id is not None:
            query = query.where(a.message_id == message_id)
        if before is not None:
            query = query.where(a.id < before)
        return [_attempt(row._mapping) for row in await self._connection.execute(query)]

    async def attempt_stats(self, endpoint_id: uuid.UUID, since: datetime, *, max_samples: int) -> AttemptStats:
        a = webhook_attempts.c
        recent = (a.endpoint_id == endpoint_id) & (a.attempted_at >= since)
        counts = (
            await self._connection.execute(
                select(func.count(), func.count().filter(a.outcome == Outcome.SUCCEEDED.value)).where(recent)
            )
        ).one()
        durations = (
            await self._connection.execute(select(a.duration_ms).where(recent).order_by(a.id.desc()).limit(max_samples))
        ).scalars()
        last_failure = (
            await self._connection.execute(
                select(webhook_attempts)
                .where(a.endpoint_id == endpoint_id, a.outcome != Outcome.SUCCEEDED.value)
                .order_by(a.id.desc())
                .limit(1)
            )
        ).first()
        return AttemptStats(
            attempts=int(counts[0]),
            succeeded=int(counts[1]),
            durations_ms=sorted(durations),
            last_failure=_attempt(last_failure._mapping) if last_failure else None,
        )


def _in_flight(d: Any, now: datetime) -> Any:
    return (d.status == PENDING) & d.claim.is_not(None) & (d.available_at > now)


def _new_delivery(message_id: uuid.UUID, endpoint_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "message_id": message_id,
        "endpoint_id": endpoint_id,
        "status": PENDING,
        "attempts": 0,
        "free_throttles": 0,
        "available_at": now,
        "claim": None,
        "created_at": now,
        "updated_at": now,
    }


def _attempt(row: Any) -> StoredAttempt:
    return StoredAttempt(
        id=row["id"],
        message_id=row["message_id"],
        endpoint_id=row["endpoint_id"],
        attempted_at=row["attempted_at"],
        outcome=row["outcome"],
        status_code=row["status_code"],
        duration_ms=row["duration_ms"],
        response_excerpt=row["response_excerpt"],
        error=row["error"],
    )
