"""Emails: which kinds exist, what is asked to be sent, their statuses and the retry policy. No I/O here.

A kind's templates live in `templates/emails/<name>.txt.j2` and `<name>.html.j2`; each extends the shared layout
(`{% extends "_layout.txt.j2" %}` / `{% extends "_layout.html.j2" %}`) and fills `{% block body %}`. Templates see
the request's `context`, plus `recipient_name` (may be None), `kind` (the EmailKind), `subject` (rendered) and
`unsubscribe_url` (a URL for optional kinds, else None; the layout prints the footer). Undefined names are errors
(StrictUndefined).
"""

import base64
import enum
import hashlib
import hmac
import json
import random
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from medic.shared.http_fields import EMAIL_PATTERN

KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
MAX_CAUSE_ID = 200
MAX_ADDRESS = 254  # RFC 5321's limit on a forward-path, less the angle brackets
MAX_NAME = 200
# The address syntax the HTTP APIs accept: a dot-atom at LDH labels, so no header can be smuggled in with it.
_ADDRESS = re.compile(EMAIL_PATTERN)


@dataclass(frozen=True)
class EmailKind:
    """One kind of message. `subject` is a Jinja2 string rendered with the same context as the body.

    `optional` kinds can be unsubscribed from (and carry `List-Unsubscribe`); the others are what a person must get.
    `sample` is a context that renders the kind, for previews and tests."""

    name: str
    subject: str
    optional: bool
    description: str
    sample: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not KIND_NAME.match(self.name):
            raise ValueError(f"email kind name {self.name!r}: lower-case letters, digits and `_`, a letter first")


class InvalidEmailRequest(ValueError):
    """A request that cannot become an email; `field` names the offending attribute."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normalise_address(address: str) -> str:
    """The address as stored and compared: surrounding space removed, lower-cased (mailboxes are case-insensitive
    in practice, and one person must not get the same email twice for a difference in case)."""
    return address.strip().lower()


def is_address(address: str) -> bool:
    return len(address) <= MAX_ADDRESS and _ADDRESS.match(address) is not None


@dataclass(frozen=True)
class EmailRequest:
    """Ask for one email: `kind` is an EmailKind's name; `cause_id` identifies what caused it (usually the event
    id), so that (cause_id, recipient, kind) is sent at most once however often the cause is redelivered.

    `context` is what the templates need, JSON values only (format dates beforehand): titles, dates, links; never
    a child's data. It is kept until the email is sent and then dropped."""

    kind: str
    cause_id: str
    recipient: str
    recipient_name: str | None
    context: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not KIND_NAME.match(self.kind):
            raise InvalidEmailRequest("kind", "not an email kind name")
        if not 1 <= len(self.cause_id) <= MAX_CAUSE_ID or "\n" in self.cause_id:
            raise InvalidEmailRequest("cause_id", f"a cause id is 1 to {MAX_CAUSE_ID} characters on one line")
        recipient = normalise_address(self.recipient)
        if not is_address(recipient):
            raise InvalidEmailRequest("recipient", "not an email address")
        object.__setattr__(self, "recipient", recipient)
        if self.recipient_name is not None:
            name = " ".join(self.recipient_name.split())  # no line breaks into a header
            object.__setattr__(self, "recipient_name", name[:MAX_NAME] or None)
        try:
            json.dumps(self.context, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise InvalidEmailRequest("context", f"context must be JSON values: {error}") from None


class EmailStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its first or next attempt (see next_attempt_at)
    SENT = "sent"  # the mail server accepted it
    BOUNCED = "bounced"  # the mail server refused it permanently (5xx): retrying will not help
    FAILED = "failed"  # given up: attempts exhausted, or it cannot be rendered
    SUPPRESSED = "suppressed"  # an optional kind the recipient unsubscribed from: never sent

    @property
    def retryable_by_hand(self) -> bool:
        """A coordinator may queue it again (after fixing the address, the server or the template)."""
        return self in (EmailStatus.BOUNCED, EmailStatus.FAILED)


class AttemptOutcome(enum.StrEnum):
    SENT = "sent"
    TRANSIENT = "transient"  # 4xx, connection refused, timeout: tried again later
    PERMANENT = "permanent"  # 5xx
    RENDER_ERROR = "render_error"


class RetryNotAllowed(ValueError):
    def __init__(self, status: EmailStatus) -> None:
        super().__init__(f"an email that is {status.value} cannot be retried; only bounced or failed ones can")
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again after a transient failure: the n-th retry waits `delays[n-1]` ±`jitter`; when the delays
    run out the email has failed. About 15 h in all: long enough for a mail server's maintenance window."""

    delays: tuple[timedelta, ...] = (
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(hours=4),
        timedelta(hours=8),
    )
    jitter: float = 0.2

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def delay_after(self, attempts: int, rng: random.Random | None = None) -> timedelta | None:
        """The wait before the next attempt, `attempts` having been made and failed; None: give up."""
        if attempts < 1 or attempts > len(self.delays):
            return None
        base = self.delays[attempts - 1]
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return base * (1 + spread)


MAX_DETAIL = 300


class DeliveryFailed(Exception):
    """An attempt that did not hand the email over. `detail` is the server's answer or the error's kind, never the
    message; `code` the SMTP reply code when there was one."""

    def __init__(self, outcome: AttemptOutcome, detail: str, code: int | None = None) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail
        self.code = code


def scrub_detail(detail: str, recipient: str) -> str:
    """A server's answer as kept beside the attempt: one line, short, with the address itself left out (servers
    quote it: `550 5.1.1 <bob@example.org>: Recipient address rejected`), so the attempt log holds no address."""
    one_line = " ".join(detail.split())
    scrubbed = re.sub(re.escape(recipient), "<recipient>", one_line, flags=re.IGNORECASE)
    return scrubbed[:MAX_DETAIL]


@dataclass(frozen=True)
class OutgoingEmail:
    """A rendered email, ready for a transport. `unsubscribe_url` is set for optional kinds (RFC 8058 headers)."""

    id: uuid.UUID
    recipient: str
    recipient_name: str | None
    subject: str
    text: str
    html: str
    unsubscribe_url: str | None = None


@dataclass(frozen=True)
class Email:
    """One email as stored: `context` is None once sent (nothing of the message is kept after that)."""

    id: uuid.UUID
    kind: str
    cause_id: str
    recipient: str
    recipient_name: str | None
    context: dict[str, Any] | None
    status: EmailStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    last_code: int | None


@dataclass(frozen=True)
class EmailAttempt:
    number: int  # 1 for the first attempt; counting restarts at 1 after a retry by hand
    at: datetime
    outcome: AttemptOutcome
    code: int | None
    detail: str | None
    duration_ms: int


@dataclass(frozen=True)
class NextStep:
    """What becomes of an email after a failed attempt."""

    status: EmailStatus
    next_attempt_at: datetime | None


def after_failure(
    outcome: AttemptOutcome, attempts: int, now: datetime, policy: RetryPolicy, rng: random.Random | None = None
) -> NextStep:
    """`attempts`: how many have been made, this failed one included."""
    if outcome is AttemptOutcome.PERMANENT:
        return NextStep(EmailStatus.BOUNCED, None)
    if outcome is AttemptOutcome.RENDER_ERROR:
        return NextStep(EmailStatus.FAILED, None)
    delay = policy.delay_after(attempts, rng)
    if delay is None:
        return NextStep(EmailStatus.FAILED, None)
    return NextStep(EmailStatus.QUEUED, now + delay)


# --- Unsubscribe links -------------------------------------------------------------------------------------------
# A link names the email it came in (not the address: addresses stay out of URLs, and so out of access logs and
# browser histories); the email names the recipient and kind. It is an HMAC so that nobody can unsubscribe others.

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$")
_UNSUBSCRIBE_LABEL = b"medic.notifications.email-unsubscribe.v1"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsubscribe_key(master_key: bytes) -> bytes:
    """A key for unsubscribe links only, derived from a service secret (another use of it cannot forge links)."""
    return hmac.new(master_key, _UNSUBSCRIBE_LABEL, hashlib.sha256).digest()


def unsubscribe_keys(master_keys: str) -> tuple[bytes, ...]:
    """One unsubscribe key per key of a comma-separated key list (WEBHOOK_SECRETS_KEY: the newest first). Links
    are made with the first and read with any, so putting a new key first breaks no link already emailed."""
    return tuple(unsubscribe_key(part.strip().encode()) for part in master_keys.split(",") if part.strip())


def unsubscribe_token(key: bytes, email_id: uuid.UUID) -> str:
    mac = hmac.new(key, email_id.bytes, hashlib.sha256).digest()
    return f"{_b64(email_id.bytes)}.{_b64(mac)}"


def email_id_from_token(key: bytes, token: str) -> uuid.UUID | None:
    """The email a token was made for; None if it is malformed or not ours."""
    if not _TOKEN.match(token):
        return None
    try:
        email_id = uuid.UUID(bytes=_unb64(token.split(".")[0]))
    except ValueError:
        return None
    return email_id if hmac.compare_digest(token, unsubscribe_token(key, email_id)) else None


def optional_kinds(kinds: Mapping[str, EmailKind]) -> list[EmailKind]:
    return sorted((kind for kind in kinds.values() if kind.optional), key=lambda kind: kind.name)
