"""Signed links: a link that needs no account, asks one person for one answer, and works once for a while.

Used by CAP partner verification (projects) and meant for any other "confirm this through a link" need
(e.g. a referee confirming a WATCCH application). The rules, all here, with no I/O:

- The token is 256 random bits, URL-safe. The caller puts it in the link it sends and shows it once; only
  `hash_token(token)` (SHA-256, 64 hex characters) is stored, so the table alone opens nothing.
- Single purpose: a link names one subject (a project, an application) and one recipient, in fields the purpose
  adds by subclassing `SignedLink`. The token alone identifies the link.
- It expires `policy.lifetime` after it was issued (410 Gone).
- A newer link for the same subject supersedes the older ones (410 Gone).
- It decides once (409 Conflict); once decided it still shows its answer until it is superseded.
- A new link for a request still awaiting its answer (a resend) may go at most once per `policy.resend_after`
  (`TooSoon`, 409); after a decision, a new request may go at once.

Usage, for a purpose with its own table (columns: the purpose's fields plus `token_hash` unique, `issued_at`,
`expires_at`, `superseded`, `decision` nullable, `decided_at` nullable):

    @dataclass(kw_only=True)
    class RefereeLink(SignedLink[RefereeAnswer]):   # RefereeAnswer: a StrEnum of the answers
        id: uuid.UUID
        application_id: uuid.UUID
        expired_reason: ClassVar[str] = "this link has expired; ask the applicant for a new one"

    policy = LinkPolicy(lifetime=timedelta(days=14), resend_after=timedelta(days=3))   # from settings

    # Issuing (service layer). `last_issued_at`: when the subject's last link still awaiting a decision went out.
    token, link = RefereeLink.issue(
        policy, now=now, last_issued_at=last, id=uuid.uuid4(), application_id=application.id
    )  # TooSoon -> 409 naming when a new one may go
    # store it: mark the subject's earlier links superseded, insert this one; send base_url + token, log neither

    # Opening and answering (no bearer token: the token is the credential; look the link up by its hash).
    link = await repository.by_token_hash(hash_token(token))   # None -> 404
    link.check_viewable(now)                 # before showing the summary
    link.decide(RefereeAnswer.CONFIRMED, now)  # before recording an answer
    # store the decision only where none is stored yet (UPDATE ... WHERE decision IS NULL); if no row changed,
    # two answers raced: raise LinkRefused("this link has been used", gone=False)

`LinkRefused` carries `gone`: answer 410 when true, else 409, with the message as the detail. A purpose that
validates more than the answer (a dispute needs a comment) calls `check_usable(now)` first, then validates, then
`decide`, so a used or expired link is refused before its input is judged. The projects service's partner
verification (domain/verification.py, adapters/verification_repository.py) is a complete example.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, Self, TypeVar

TOKEN_BYTES = 32  # 256 bits; 43 URL-safe characters

Answer = TypeVar("Answer")


class LinkRefused(Exception):
    """A link that cannot do this now; `gone` when it expired or was replaced (410), else 409."""

    def __init__(self, message: str, *, gone: bool) -> None:
        super().__init__(message)
        self.gone = gone


class TooSoon(Exception):
    """A resend before the interval is over (409)."""

    def __init__(self, next_allowed_at: datetime) -> None:
        super().__init__(f"a new link can be sent from {next_allowed_at.isoformat(timespec='minutes')}")
        self.next_allowed_at = next_allowed_at


@dataclass(frozen=True)
class LinkPolicy:
    lifetime: timedelta  # how long a link works
    resend_after: timedelta  # the least time between two links for the same unanswered request


def hash_token(token: str) -> str:
    """What is stored of a token, and what an incoming token is looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(kw_only=True)
class SignedLink(Generic[Answer]):
    """One link's life. Subclass it (as a kw_only dataclass) with the purpose's fields and answer type."""

    token_hash: str
    issued_at: datetime
    expires_at: datetime
    superseded: bool = False
    decision: Answer | None = None
    decided_at: datetime | None = None

    # What the holder is told; a purpose may word these for its audience ({decision} is the answer given).
    used_reason: ClassVar[str] = "this link has been used: the answer was {decision}"
    expired_reason: ClassVar[str] = "this link has expired; ask for a new one"
    replaced_reason: ClassVar[str] = "this link has been replaced by a newer one"

    @classmethod
    def issue(
        cls, policy: LinkPolicy, *, now: datetime, last_issued_at: datetime | None, **purpose: Any
    ) -> tuple[str, Self]:
        """A new link and its token (to send, never to store or log); `purpose`: the subclass's own fields.
        Raises TooSoon if the subject's last link still awaiting a decision went out under `resend_after` ago."""
        if last_issued_at is not None and now < last_issued_at + policy.resend_after:
            raise TooSoon(last_issued_at + policy.resend_after)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        link = cls(token_hash=hash_token(token), issued_at=now, expires_at=now + policy.lifetime, **purpose)
        return token, link

    def check_usable(self, now: datetime) -> None:
        """Raises LinkRefused unless the link may still take a decision."""
        if self.superseded:
            raise LinkRefused(self.replaced_reason, gone=True)
        if self.decision is not None:
            raise LinkRefused(self.used_reason.format(decision=self.decision), gone=False)
        if now >= self.expires_at:
            raise LinkRefused(self.expired_reason, gone=True)

    def check_viewable(self, now: datetime) -> None:
        """Raises LinkRefused (gone) unless the link may be opened: usable, or decided and not replaced since."""
        if self.superseded or self.decision is None:
            self.check_usable(now)

    def decide(self, decision: Answer, now: datetime) -> None:
        """Record the one decision this link takes; LinkRefused if it cannot take one now."""
        self.check_usable(now)
        self.decision, self.decided_at = decision, now
