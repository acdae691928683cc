"""Partner verification of what a project delivered, as community-engagement platforms do it.

When a project is submitted its lead partner's contact is asked, through a link that needs no account, to
confirm what was delivered: verified, or disputed with a comment. Editing delivery data afterwards sends it
back to pending and asks again. A link is single-purpose (one project, one contact), expires, decides once,
and a new one is sent at most once every few days. No I/O here: tokens are made and hashed by the caller.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class VerificationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    DISPUTED = "disputed"


class Decision(StrEnum):
    VERIFIED = "verified"
    DISPUTED = "disputed"


class LinkRefused(Exception):
    """A link that cannot take a decision now; `gone` when it expired or was replaced (410), else 409."""

    def __init__(self, message: str, *, gone: bool) -> None:
        super().__init__(message)
        self.gone = gone


class TooSoon(Exception):
    def __init__(self, next_allowed_at: datetime) -> None:
        super().__init__(f"a new link can be sent from {next_allowed_at.isoformat(timespec='minutes')}")
        self.next_allowed_at = next_allowed_at


class CommentRequired(ValueError):
    field = "comment"


@dataclass
class VerificationLink:
    id: uuid.UUID
    project_id: uuid.UUID
    partner_id: uuid.UUID
    contact_id: uuid.UUID
    token_hash: str
    issued_at: datetime
    expires_at: datetime
    superseded: bool = False
    decision: Decision | None = None
    comment: str = ""
    decided_at: datetime | None = None

    @classmethod
    def issue(
        cls,
        *,
        project_id: uuid.UUID,
        partner_id: uuid.UUID,
        contact_id: uuid.UUID,
        token_hash: str,
        now: datetime,
        lifetime: timedelta,
        last_issued_at: datetime | None,
        resend_after: timedelta,
    ) -> "VerificationLink":
        """A new link for the project's current request; refused if the last one went out too recently."""
        if last_issued_at is not None and now < last_issued_at + resend_after:
            raise TooSoon(last_issued_at + resend_after)
        return cls(uuid.uuid4(), project_id, partner_id, contact_id, token_hash, now, now + lifetime)

    def usable(self, now: datetime) -> None:
        """Raises LinkRefused unless the link may still take a decision."""
        if self.superseded:
            raise LinkRefused("this link has been replaced by a newer one", gone=True)
        if self.decision is not None:
            raise LinkRefused(f"this link has been used: delivery was {self.decision.value}", gone=False)
        if now >= self.expires_at:
            raise LinkRefused("this link has expired; ask the project team for a new one", gone=True)

    def decide(self, decision: Decision, comment: str, now: datetime) -> None:
        self.usable(now)
        comment = comment.strip()
        if decision is Decision.DISPUTED and not comment:
            raise CommentRequired("say what was not delivered as described")
        self.decision, self.comment, self.decided_at = decision, comment, now
