"""The directory of adult contacts, groups, projects and WATCCH offer reminders (see domain.directory).

Every write is one conditional upsert: it applies only if the event it comes from is no older than what is stored
(`as_of`), so out-of-order or concurrent deliveries leave the newest state, on SQLite and PostgreSQL alike.
"""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.notifications.adapters.orm_directory import (
    directory_contacts,
    directory_group_members,
    directory_groups,
    directory_projects,
    watcch_offer_reminders,
)
from medic.notifications.adapters.orm_emails import emails
from medic.notifications.domain.directory import (
    Contact,
    ContactKind,
    GroupMembers,
    OfferState,
    ProjectCard,
    Recipient,
    WatcchOffer,
)
from medic.notifications.domain.emails import Email, EmailStatus, normalise_address
from medic.notifications.domain.model import as_utc


class DirectoryRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    def _insert(self, table: Any) -> Any:
        return (pg_insert if self._connection.dialect.name == "postgresql" else sqlite_insert)(table)

    # Contacts

    async def set_contact(self, contact: Contact) -> bool:
        """Store a contact's address as of `contact.as_of`; False if a newer record (or tombstone) is stored."""
        values = {
            "kind": contact.kind.value,
            "contact_id": contact.contact_id,
            "partner_id": contact.partner_id,
            "is_primary": contact.primary,
            "email": contact.email,
            "display_name": contact.display_name,
            "as_of": as_utc(contact.as_of),
            "removed_at": contact.removed_at and as_utc(contact.removed_at),
        }
        return await self._upsert_contact(values)

    async def remove_contact(self, kind: ContactKind, contact_id: uuid.UUID, at: datetime) -> bool:
        """Delete the address and name, keeping a tombstone as of `at` (a late `set` cannot revive them)."""
        stored = await self.contact(kind, contact_id)
        values = {
            "kind": kind.value,
            "contact_id": contact_id,
            "partner_id": stored.partner_id if stored else None,
            "is_primary": False,
            "email": None,
            "display_name": None,
            "as_of": as_utc(at),
            "removed_at": as_utc(at),
        }
        return await self._upsert_contact(values)

    async def _upsert_contact(self, values: dict[str, Any]) -> bool:
        c = directory_contacts.c
        statement = self._insert(directory_contacts).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[c.kind, c.contact_id],
            set_={k: statement.excluded[k] for k in values if k not in ("kind", "contact_id")},
            where=c.as_of <= statement.excluded.as_of,
        )
        result = await self._connection.execute(statement)
        return bool(result.rowcount)

    async def contact(self, kind: ContactKind, contact_id: uuid.UUID) -> Contact | None:
        c = directory_contacts.c
        query = select(directory_contacts).where((c.kind == kind.value) & (c.contact_id == contact_id))
        row = (await self._connection.execute(query)).mappings().first()
        return _contact(row) if row else None

    async def recipients(self, kind: ContactKind, contact_ids: Collection[uuid.UUID]) -> list[Recipient]:
        """The known, not removed addresses of these contacts, by address (ids without one are left out)."""
        if not contact_ids:
            return []
        c = directory_contacts.c
        query = (
            select(c.email, c.display_name)
            .where((c.kind == kind.value) & c.contact_id.in_(list(contact_ids)) & c.email.is_not(None))
            .order_by(c.email)
        )
        return [Recipient(row.email, row.display_name) for row in await self._connection.execute(query)]

    async def in_use(self, email: str) -> bool:
        """Whether a contact still in the directory has this address."""
        c = directory_contacts.c
        query = select(c.contact_id).where(c.email == email.strip().lower()).limit(1)
        return (await self._connection.execute(query)).first() is not None

    async def emails_to(self, email: str, *, limit: int) -> list[Email]:
        """The newest emails queued for this address (what a coordinator checks when someone says "I got nothing")."""
        query = (
            select(emails)
            .where(emails.c.recipient == normalise_address(email))
            .order_by(emails.c.created_at.desc(), emails.c.id.desc())
            .limit(limit)
        )
        return [_email(row) for row in (await self._connection.execute(query)).mappings()]

    async def primary_contact(self, partner_id: uuid.UUID) -> Recipient | None:
        """The partner's primary contact's address (the newest, while a change of primary is half applied)."""
        c = directory_contacts.c
        query = (
            select(c.email, c.display_name)
            .where(
                (c.kind == ContactKind.PARTNER_CONTACT.value)
                & (c.partner_id == partner_id)
                & c.is_primary
                & c.email.is_not(None)
            )
            .order_by(c.as_of.desc(), c.contact_id)
            .limit(1)
        )
        row = (await self._connection.execute(query)).first()
        return Recipient(row.email, row.display_name) if row else None

    async def count_contacts(self) -> dict[str, int]:
        """How many contacts with an address each kind has (counts only: for operators)."""
        c = directory_contacts.c
        query = select(c.kind, func.count()).where(c.email.is_not(None)).group_by(c.kind)
        return {row[0]: row[1] for row in await self._connection.execute(query)}

    # Groups and projects

    async def set_group(self, group: GroupMembers) -> bool:
        """Store a group's members as of `group.as_of`; False (nothing changed) if a newer state is stored."""
        c = directory_groups.c
        statement = self._insert(directory_groups).values(group_id=group.group_id, name=group.name, as_of=group.as_of)
        statement = statement.on_conflict_do_update(
            index_elements=[c.group_id],
            set_={"name": statement.excluded.name, "as_of": statement.excluded.as_of},
            where=c.as_of <= statement.excluded.as_of,
        )
        if not (await self._connection.execute(statement)).rowcount:
            return False
        m = directory_group_members.c
        await self._connection.execute(delete(directory_group_members).where(m.group_id == group.group_id))
        members = [
            {"group_id": group.group_id, "kind": kind.value, "contact_id": member}
            for kind, ids in ((ContactKind.STUDENT, group.student_ids), (ContactKind.SUPERVISOR, group.supervisor_ids))
            for member in sorted(ids)
        ]
        if members:
            await self._connection.execute(directory_group_members.insert(), members)
        return True

    async def group(self, group_id: uuid.UUID) -> GroupMembers | None:
        row = (
            await self._connection.execute(select(directory_groups).where(directory_groups.c.group_id == group_id))
        ).first()
        if row is None:
            return None
        m = directory_group_members.c
        members = (await self._connection.execute(select(m.kind, m.contact_id).where(m.group_id == group_id))).all()
        return GroupMembers(
            group_id=group_id,
            name=row.name,
            student_ids=frozenset(i for k, i in members if k == ContactKind.STUDENT.value),
            supervisor_ids=frozenset(i for k, i in members if k == ContactKind.SUPERVISOR.value),
            as_of=as_utc(row.as_of),
        )

    async def set_project(
        self,
        project_id: uuid.UUID,
        *,
        group_id: uuid.UUID,
        lead_partner_id: uuid.UUID | None,
        title: str | None,
        as_of: datetime,
    ) -> None:
        """Record a project's group and lead partner (from any project event) and, when given, its title."""
        c = directory_projects.c
        statement = self._insert(directory_projects).values(
            project_id=project_id, group_id=group_id, lead_partner_id=lead_partner_id, title=title, as_of=as_utc(as_of)
        )
        statement = statement.on_conflict_do_update(
            index_elements=[c.project_id],
            set_={
                "group_id": statement.excluded.group_id,
                "lead_partner_id": statement.excluded.lead_partner_id,
                "title": func.coalesce(statement.excluded.title, c.title),
                "as_of": statement.excluded.as_of,
            },
            where=c.as_of <= statement.excluded.as_of,
        )
        await self._connection.execute(statement)
        if title is not None:  # the title comes only from `created`: keep it even if a later event got here first
            await self._connection.execute(
                update(directory_projects).where(c.project_id == project_id).values(title=title)
            )

    async def project(self, project_id: uuid.UUID) -> ProjectCard | None:
        query = select(directory_projects).where(directory_projects.c.project_id == project_id)
        row = (await self._connection.execute(query)).first()
        if row is None:
            return None
        return ProjectCard(
            project_id=row.project_id,
            group_id=row.group_id,
            title=row.title,
            lead_partner_id=row.lead_partner_id,
            as_of=as_utc(row.as_of),
        )

    # WATCCH offer reminders

    async def offer_made(self, offer: WatcchOffer) -> bool:
        return await self._upsert_offer(offer)

    async def offer_closed(
        self, application_id: uuid.UUID, *, cycle_id: uuid.UUID, participant_id: uuid.UUID, at: datetime
    ) -> bool:
        """No reminder for this offer (a tombstone if the offer itself is not here yet: a late `offered` of the
        same or an older time then changes nothing)."""
        offer = WatcchOffer(application_id, cycle_id, participant_id, at, at, OfferState.CLOSED, at)
        return await self._upsert_offer(offer)

    async def _upsert_offer(self, offer: WatcchOffer) -> bool:
        c = watcch_offer_reminders.c
        values = {
            "application_id": offer.application_id,
            "cycle_id": offer.cycle_id,
            "participant_id": offer.participant_id,
            "expires_at": as_utc(offer.expires_at),
            "remind_at": as_utc(offer.remind_at),
            "state": offer.state.value,
            "as_of": as_utc(offer.as_of),
        }
        statement = self._insert(watcch_offer_reminders).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[c.application_id],
            set_={k: statement.excluded[k] for k in values if k != "application_id"},
            where=c.as_of <= statement.excluded.as_of,
        )
        return bool((await self._connection.execute(statement)).rowcount)

    async def due_offers(self, now: datetime, *, limit: int) -> Sequence[WatcchOffer]:
        """Pending reminders due by `now` for offers not yet lapsed, oldest first."""
        c = watcch_offer_reminders.c
        query = (
            select(watcch_offer_reminders)
            .where((c.state == OfferState.PENDING.value) & (c.remind_at <= as_utc(now)) & (c.expires_at > as_utc(now)))
            .order_by(c.remind_at, c.application_id)
            .limit(limit)
        )
        return [_offer(row) for row in (await self._connection.execute(query)).mappings()]

    async def mark_reminded(self, offer: WatcchOffer) -> bool:
        """Claim the reminder: True for exactly one caller, however many replicas try (a conditional UPDATE)."""
        c = watcch_offer_reminders.c
        statement = (
            update(watcch_offer_reminders)
            .where(
                (c.application_id == offer.application_id)
                & (c.state == OfferState.PENDING.value)
                & (c.as_of == as_utc(offer.as_of))
            )
            .values(state=OfferState.REMINDED.value)
        )
        return bool((await self._connection.execute(statement)).rowcount)

    async def offer(self, application_id: uuid.UUID) -> WatcchOffer | None:
        query = select(watcch_offer_reminders).where(watcch_offer_reminders.c.application_id == application_id)
        row = (await self._connection.execute(query)).mappings().first()
        return _offer(row) if row else None

    async def prune_offers(self, lapsed_before: datetime) -> int:
        """Drop the rows of offers that lapsed before `lapsed_before`: nothing is left to remind anyone of."""
        c = watcch_offer_reminders.c
        result = await self._connection.execute(
            delete(watcch_offer_reminders).where(c.expires_at < as_utc(lapsed_before))
        )
        return result.rowcount

    async def forget_participant(self, participant_id: uuid.UUID) -> int:
        """An erased participant: their offers' rows go (reminders included)."""
        c = watcch_offer_reminders.c
        result = await self._connection.execute(
            delete(watcch_offer_reminders).where(c.participant_id == participant_id)
        )
        return result.rowcount


def _contact(row: Any) -> Contact:
    return Contact(
        kind=ContactKind(row["kind"]),
        contact_id=row["contact_id"],
        email=row["email"],
        display_name=row["display_name"],
        partner_id=row["partner_id"],
        primary=row["is_primary"],
        as_of=as_utc(row["as_of"]),
        removed_at=as_utc(row["removed_at"]) if row["removed_at"] is not None else None,
    )


def _offer(row: Any) -> WatcchOffer:
    return WatcchOffer(
        application_id=row["application_id"],
        cycle_id=row["cycle_id"],
        participant_id=row["participant_id"],
        expires_at=as_utc(row["expires_at"]),
        remind_at=as_utc(row["remind_at"]),
        state=OfferState(row["state"]),
        as_of=as_utc(row["as_of"]),
    )


def _email(row: Any) -> Email:
    def at(value: datetime | None) -> datetime | None:
        return as_utc(value) if value is not None else None

    return Email(
        id=row["id"],
        kind=row["kind"],
        cause_id=row["cause_id"],
        recipient=row["recipient"],
        recipient_name=row["recipient_name"],
        context=None,  # never shown here
        status=EmailStatus(row["status"]),
        attempts=row["attempts"],
        created_at=as_utc(row["created_at"]),
        next_attempt_at=at(row["next_attempt_at"]),
        sent_at=at(row["sent_at"]),
        last_error=row["last_error"],
        last_code=row["last_code"],
    )
