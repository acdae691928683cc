"""Reading and writing partner verification links, and the contact a project's link goes to."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.projects.adapters.orm_partners import partner_contacts
from medic.projects.adapters.orm_verification import verification_links
from medic.projects.domain.verification import Decision, VerificationLink


class VerificationRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def primary_contact_of(self, partner_id: uuid.UUID) -> uuid.UUID | None:
        query = select(partner_contacts.c.id).where(
            partner_contacts.c.partner_id == partner_id, partner_contacts.c.is_primary.is_(True)
        )
        row = (await self._connection.execute(query)).first()
        return row.id if row else None

    async def last_undecided_issued_at(self, project_id: uuid.UUID) -> datetime | None:
        """When the last link still awaiting a decision went out: a new one is a resend of the same request.
        (After a decision, a new request, e.g. after delivery data changed, may go at once.)"""
        query = select(func.max(verification_links.c.issued_at)).where(
            verification_links.c.project_id == project_id, verification_links.c.decision.is_(None)
        )
        issued_at: datetime | None = (await self._connection.execute(query)).scalar_one_or_none()
        return issued_at

    async def add(self, link: VerificationLink) -> None:
        """Store a new link; every earlier link of the project stops working."""
        await self._connection.execute(
            update(verification_links)
            .where(verification_links.c.project_id == link.project_id, verification_links.c.superseded.is_(False))
            .values(superseded=True)
        )
        await self._connection.execute(insert(verification_links).values(_row(link)))

    async def unanswered_since(self, issued_before: datetime) -> list[VerificationLink]:
        """Links still awaiting an answer (not replaced, not expired) that went out before `issued_before`."""
        query = select(verification_links).where(
            verification_links.c.decision.is_(None),
            verification_links.c.superseded.is_(False),
            verification_links.c.issued_at <= issued_before,
            verification_links.c.expires_at > issued_before,
        )
        return [_link(row._mapping) for row in await self._connection.execute(query)]

    async def by_token_hash(self, token_hash: str) -> VerificationLink | None:
        query = select(verification_links).where(verification_links.c.token_hash == token_hash)
        row = (await self._connection.execute(query)).first()
        return _link(row._mapping) if row else None

    async def save_decision(self, link: VerificationLink) -> bool:
        """Record the decision unless one was recorded meanwhile (two clicks at once): True if this one won."""
        assert link.decision is not None
        result = await self._connection.execute(
            update(verification_links)
            .where(verification_links.c.id == link.id, verification_links.c.decision.is_(None))
            .values(decision=link.decision.value, comment=link.comment, decided_at=link.decided_at)
        )
        return result.rowcount == 1


def _row(link: VerificationLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "project_id": link.project_id,
        "partner_id": link.partner_id,
        "contact_id": link.contact_id,
        "token_hash": link.token_hash,
        "issued_at": link.issued_at,
        "expires_at": link.expires_at,
        "superseded": link.superseded,
        "decision": link.decision.value if link.decision else None,
        "comment": link.comment,
        "decided_at": link.decided_at,
    }


def _link(row: Any) -> VerificationLink:
    return VerificationLink(
        id=row["id"],
        project_id=row["project_id"],
        partner_id=row["partner_id"],
        contact_id=row["contact_id"],
        token_hash=row["token_hash"],
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        superseded=row["superseded"],
        decision=Decision(row["decision"]) if row["decision"] else None,
        comment=row["comment"],
        decided_at=row["decided_at"],
    )
