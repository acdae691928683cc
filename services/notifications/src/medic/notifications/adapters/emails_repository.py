"""Emails as stored: queueing once per (cause, recipient, kind), claims safe with several senders, attempts,
unsubscriptions."""

import base64
import binascii
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Text, and_, cast, delete, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.notifications.adapters.orm_emails import email_attempts, email_unsubscriptions, emails
from medic.notifications.adapters.repository import names
from medic.notifications.domain.emails import (
    AttemptOutcome,
    Email,
    EmailAttempt,
    EmailRequest,
    EmailStatus,
    NextStep,
    normalise_address,
)


@dataclass(frozen=True)
class EmailPage:
    items: list[Email]
    next_cursor: str | None


@dataclass(frozen=True)
class AttemptResult:
    """One attempt's result, written under the claim the email was sent under."""

    email_id: uuid.UUID
    claim: uuid.UUID
    at: datetime
    outcome: AttemptOutcome
    code: int | None
    detail: str | None
    duration_ms: int
    next: NextStep  # for a sent email: status SENT


class InvalidCursor(ValueError):
    pass


def encode_cursor(created_at: datetime, email_id: uuid.UUID) -> str:
    """Opaque to clients: the position after the email created at `created_at` with id `email_id`."""
    raw = f"{created_at.astimezone(UTC).isoformat()}|{email_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        moment, email_id = raw.split("|")
        at = datetime.fromisoformat(moment)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at, uuid.UUID(email_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor("malformed cursor: use the `next_cursor` of a previous page") from None


def _email(row: Row[Any]) -> Email:
    return Email(
        id=row.id,
        kind=row.kind,
        cause_id=row.cause_id,
        recipient=row.recipient,
        recipient_name=row.recipient_name,
        context=row.context,
        status=EmailStatus(row.status),
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
        last_code=row.last_code,
    )


class EmailsRepository:
    def __init__(self, connection: AsyncConnection, *, on_queued: Callable[[], None] = lambda: None) -> None:
        self._connection = connection
        self._on_queued = on_queued  # e.g. wake the mail sender once this transaction commits

    async def enqueue(self, request: EmailRequest, *, now: datetime | None = None) -> bool:
        """Queue one email; False (and nothing changes) if this (cause, recipient, kind) was queued before."""
        now = now or datetime.now(UTC)
        insert = pg_insert if self._connection.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(emails)
            .values(
                id=uuid.uuid4(),
                kind=request.kind,
                cause_id=request.cause_id,
                recipient=request.recipient,
                recipient_name=request.recipient_name,
                context=request.context,
                status=EmailStatus.QUEUED.value,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
            .on_conflict_do_nothing(index_elements=["cause_id", "recipient", "kind"])
            .returning(emails.c.id)
        )
        queued = (await self._connection.execute(statement)).first() is not None
        if queued:
            self._on_queued()
        return queued

    async def get(self, email_id: uuid.UUID) -> Email | None:
        row = (await self._connection.execute(select(emails).where(emails.c.id == email_id))).first()
        return _email(row) if row is not None else None

    async def attempts(self, email_id: uuid.UUID) -> list[EmailAttempt]:
        rows = await self._connection.execute(
            select(email_attempts).where(email_attempts.c.email_id == email_id).order_by(email_attempts.c.id)
        )
        return [
            EmailAttempt(
                number=row.number,
                at=row.at,
                outcome=AttemptOutcome(row.outcome),
                code=row.code,
                detail=row.detail,
                duration_ms=row.duration_ms,
            )
            for row in rows
        ]

    async def page(
        self,
        *,
        status: EmailStatus | None = None,
        kind: str | None = None,
        cause_id: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> EmailPage:
        """Newest first. Raises InvalidCursor."""
        query = select(emails)
        if status is not None:
            query = query.where(emails.c.status == status.value)
        if kind is not None:
            query = query.where(emails.c.kind == kind)
        if cause_id is not None:
            query = query.where(emails.c.cause_id == cause_id)
        if cursor is not None:
            at, email_id = _decode_cursor(cursor)
            query = query.where(tuple_(emails.c.created_at, emails.c.id) < tuple_(at, email_id))
        query = query.order_by(emails.c.created_at.desc(), emails.c.id.desc()).limit(limit + 1)
        items = [_email(row) for row in await self._connection.execute(query)]
        more = len(items) > limit
        items = items[:limit]
        return EmailPage(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)

    async def claim_due(self, *, now: datetime, lease_until: datetime, limit: int) -> tuple[uuid.UUID, list[Email]]:
        """Take up to `limit` queued emails that are due, for this sender alone until `lease_until`: one statement
        that moves their `next_attempt_at` to the lease's end under a new claim (PostgreSQL: `FOR UPDATE SKIP
        LOCKED`, so two senders never take the same email; SQLite has one writer). An email whose sender died is
        due again when the lease runs out."""
        claim = uuid.uuid4()
        due = (
            select(emails.c.id)
            .where(emails.c.status == EmailStatus.QUEUED.value, emails.c.next_attempt_at <= now)
            .order_by(emails.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(emails)
            .where(emails.c.id.in_(due))
            .values(next_attempt_at=lease_until, claim=claim)
            .returning(*emails.c)
        )
        rows = (await self._connection.execute(statement)).all()
        return claim, sorted((_email(row) for row in rows), key=lambda email: email.created_at)

    async def record(self, results: Iterable[AttemptResult]) -> int:
        """Write attempts and their emails' next state; a result whose claim has been taken over (its lease ran out
        and another sender claimed the email) is dropped. Returns how many were written."""
        written = 0
        for result in results:
            sent = result.next.status is EmailStatus.SENT
            values: dict[str, Any] = {
                "status": result.next.status.value,
                "attempts": emails.c.attempts + 1,
                "next_attempt_at": result.next.next_attempt_at,
                "claim": None,
                "last_error": None if sent else result.detail,
                "last_code": result.code,
            }
            if sent:
                values |= {"sent_at": result.at, "context": None}  # nothing of the message is kept once sent
            changed = await self._connection.execute(
                update(emails)
                .where(emails.c.id == result.email_id, emails.c.claim == result.claim)
                .values(**values)
                .returning(emails.c.attempts)
            )
            number = changed.scalar_one_or_none()
            if number is None:
                continue
            await self._connection.execute(
                email_attempts.insert().values(
                    email_id=result.email_id,
                    number=number,
                    at=result.at,
                    outcome=result.outcome.value,
                    code=result.code,
                    detail=result.detail,
                    duration_ms=result.duration_ms,
                )
            )
            written += 1
        return written

    async def suppress(self, email_id: uuid.UUID, claim: uuid.UUID) -> bool:
        """An optional email the recipient unsubscribed from: never sent, its context dropped."""
        changed = await self._connection.execute(
            update(emails)
            .where(emails.c.id == email_id, emails.c.claim == claim)
            .values(status=EmailStatus.SUPPRESSED.value, next_attempt_at=None, claim=None, context=None)
        )
        return changed.rowcount == 1

    async def requeue(self, email_id: uuid.UUID, *, now: datetime) -> bool:
        """A bounced or failed email queued again by hand, its attempts counted afresh; False if it was not in
        one of those states (a concurrent retry won)."""
        retryable = [status.value for status in EmailStatus if status.retryable_by_hand]
        changed = await self._connection.execute(
            update(emails)
            .where(emails.c.id == email_id, emails.c.status.in_(retryable))
            .values(status=EmailStatus.QUEUED.value, attempts=0, next_attempt_at=now, claim=None)
        )
        return changed.rowcount == 1

    # --- Preferences -------------------------------------------------------------------------------------------

    async def unsubscribed(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (recipient, kind) pairs are unsubscribed."""
        if not pairs:
            return set()
        rows = await self._connection.execute(
            select(email_unsubscriptions.c.recipient, email_unsubscriptions.c.kind).where(
                or_(
                    *(
                        and_(email_unsubscriptions.c.recipient == recipient, email_unsubscriptions.c.kind == kind)
                        for recipient, kind in set(pairs)
                    )
                )
            )
        )
        return {(row.recipient, row.kind) for row in rows}

    async def unsubscribed_kinds(self, recipient: str) -> set[str]:
        rows = await self._connection.execute(
            select(email_unsubscriptions.c.kind).where(
                email_unsubscriptions.c.recipient == normalise_address(recipient)
            )
        )
        return set(rows.scalars())

    async def unsubscribe(self, recipient: str, kind: str, *, now: datetime) -> None:
        """Idempotent: unsubscribing twice keeps the first time."""
        insert = pg_insert if self._connection.dialect.name == "postgresql" else sqlite_insert
        await self._connection.execute(
            insert(email_unsubscriptions)
            .values(recipient=normalise_address(recipient), kind=kind, at=now)
            .on_conflict_do_nothing(index_elements=["recipient", "kind"])
        )

    async def resubscribe(self, recipient: str, kind: str) -> None:
        await self._connection.execute(
            delete(email_unsubscriptions).where(
                email_unsubscriptions.c.recipient == normalise_address(recipient),
                email_unsubscriptions.c.kind == kind,
            )
        )

    async def forget_recipient(self, recipient: str) -> int:
        """Erasure: delete every email to this address (with its attempts) and its preferences. Returns how many
        emails went. Its unsubscribe links stop working (they name an email)."""
        address = normalise_address(recipient)
        await self._connection.execute(
            delete(email_unsubscriptions).where(email_unsubscriptions.c.recipient == address)
        )
        ids = select(emails.c.id).where(emails.c.recipient == address).scalar_subquery()
        # Attempts first: SQLite only cascades with its foreign keys on, which a connection may not have.
        await self._connection.execute(delete(email_attempts).where(email_attempts.c.email_id.in_(ids)))
        deleted = await self._connection.execute(delete(emails).where(emails.c.recipient == address))
        return deleted.rowcount

    async def forget_about(self, subject_id: str) -> int:
        """Erasure of a person the emails are about (not to): delete every email whose context still names
        `subject_id` (those not sent yet, or bounced or failed: a sent email's context is gone already), with its
        attempts. Returns how many went. Text search finds the candidates, an exact match decides."""
        candidates = select(emails.c.id, emails.c.context).where(
            emails.c.context.is_not(None) & cast(emails.c.context, Text).contains(subject_id, autoescape=True)
        )
        doomed = [row.id for row in await self._connection.execute(candidates) if names(None, row.context, subject_id)]
        if doomed:
            await self._connection.execute(delete(email_attempts).where(email_attempts.c.email_id.in_(doomed)))
            await self._connection.execute(delete(emails).where(emails.c.id.in_(doomed)))
        return len(doomed)
