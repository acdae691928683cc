"""Partner verification of what a project delivered, as community-engagement platforms do it.

When a project is submitted its lead partner's contact is asked, through a link that needs no account, to
confirm what was delivered: verified, or disputed with a comment. Editing delivery data afterwards sends it
back to pending and asks again. A link is single-purpose (one project, one contact), expires, decides once,
and a new one is sent at most once every few days: the rules of medic.shared.signed_links. No I/O here.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from medic.shared.signed_links import SignedLink


class VerificationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    DISPUTED = "disputed"


class Decision(StrEnum):
    VERIFIED = "verified"
    DISPUTED = "disputed"


class CommentRequired(ValueError):
    field = "comment"


@dataclass(kw_only=True)
class VerificationLink(SignedLink[Decision]):
    """A partner contact's link to confirm one project's delivery (the link's life: medic.shared.signed_links)."""

    id: uuid.UUID
    project_id: uuid.UUID
    partner_id: uuid.UUID
    contact_id: uuid.UUID
    comment: str = ""

    used_reason: ClassVar[str] = "this link has been used: delivery was {decision}"
    expired_reason: ClassVar[str] = "this link has expired; ask the project team for a new one"

    def answer(self, decision: Decision, comment: str, now: datetime) -> None:
        """Decide once; a dispute says what was not delivered as described."""
        self.check_usable(now)
        comment = comment.strip()
        if decision is Decision.DISPUTED and not comment:
            raise CommentRequired("say what was not delivered as described")
        self.decide(decision, now)
        self.comment = comment
