"""Emails as people and coordinators see them: the list and each email's attempts, retrying by hand, previews,
one-click unsubscribe (RFC 8058) and preferences for the optional kinds.

An unsubscribe link names one email (an HMAC of its id, see domain.emails): it unsubscribes that email's recipient
from that email's kind, and opens that recipient's preferences. Links never expire (an unsubscribe link must work
whenever the email is read) and using one twice changes nothing more.
"""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from medic.notifications.adapters.emails_repository import EmailPage
from medic.notifications.adapters.mail_renderer import MailRenderer, RenderedEmail
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain.emails import (
    Email,
    EmailAttempt,
    EmailKind,
    EmailStatus,
    RetryNotAllowed,
    email_id_from_token,
    optional_kinds,
    unsubscribe_token,
)
from medic.shared.logging import get_logger

log = get_logger(__name__)

UNSUBSCRIBE_PATH = "/emails/unsubscribe/"


class EmailNotFound(LookupError):
    pass


class LinkNotValid(LookupError):
    """A token that is malformed, not ours, or names an email that is no longer kept (404)."""


class UnknownPreference(ValueError):
    """A preference for a kind that is not an optional one; `kind` names it."""

    def __init__(self, kind: str) -> None:
        super().__init__("not an email kind one can unsubscribe from")
        self.kind = kind


@dataclass(frozen=True)
class EmailLinks:
    """Makes and reads unsubscribe links. `key`: `domain.emails.unsubscribe_key(...)` of a service secret, which
    makes them; `older_keys` still read the links made before a key change."""

    base_url: str
    key: bytes
    older_keys: tuple[bytes, ...] = ()

    def unsubscribe_url(self, email_id: uuid.UUID) -> str:
        return f"{self.base_url.rstrip('/')}{UNSUBSCRIBE_PATH}{unsubscribe_token(self.key, email_id)}"

    def email_id(self, token: str) -> uuid.UUID | None:
        for key in (self.key, *self.older_keys):
            if (email_id := email_id_from_token(key, token)) is not None:
                return email_id
        return None


@dataclass(frozen=True)
class Preferences:
    """A recipient's subscription to each optional kind."""

    subscribed: dict[str, bool]


async def list_emails(
    uow: NotificationsUnitOfWork,
    *,
    status: EmailStatus | None,
    kind: str | None,
    cause_id: str | None,
    cursor: str | None,
    limit: int,
) -> EmailPage:
    """Raises adapters' InvalidCursor."""
    async with uow:
        return await uow.emails.page(status=status, kind=kind, cause_id=cause_id, cursor=cursor, limit=limit)


async def email_with_attempts(uow: NotificationsUnitOfWork, email_id: uuid.UUID) -> tuple[Email, list[EmailAttempt]]:
    async with uow:
        email = await uow.emails.get(email_id)
        if email is None:
            raise EmailNotFound(email_id)
        return email, await uow.emails.attempts(email_id)


async def retry(
    uow: NotificationsUnitOfWork, email_id: uuid.UUID, *, wake: Callable[[], None], now: datetime | None = None
) -> Email:
    """Queue a bounced or failed email again (after the address, server or template was fixed)."""
    async with uow:
        email = await uow.emails.get(email_id)
        if email is None:
            raise EmailNotFound(email_id)
        if not email.status.retryable_by_hand or not await uow.emails.requeue(email_id, now=now or datetime.now(UTC)):
            raise RetryNotAllowed(email.status)
        uow.after_commit(wake)
        await uow.commit()
    log.info("email.retry_requested", email_id=str(email_id), kind=email.kind)
    queued = await _reread(uow, email_id)
    return queued


async def _reread(uow: NotificationsUnitOfWork, email_id: uuid.UUID) -> Email:
    async with uow:
        email = await uow.emails.get(email_id)
    if email is None:  # erased in between
        raise EmailNotFound(email_id)
    return email


def preview(renderer: MailRenderer, links: EmailLinks, kind_name: str) -> RenderedEmail:
    """Raises EmailNotFound for an unknown kind; RenderError for a kind whose sample does not render."""
    if kind_name not in renderer.kinds:
        raise EmailNotFound(kind_name)
    return renderer.preview(kind_name, unsubscribe_url=links.unsubscribe_url(uuid.UUID(int=0)))


async def _email_of_link(uow: NotificationsUnitOfWork, links: EmailLinks, token: str) -> Email:
    email_id = links.email_id(token)
    email = await uow.emails.get(email_id) if email_id is not None else None
    if email is None:
        raise LinkNotValid()
    return email


async def unsubscribe(
    uow: NotificationsUnitOfWork,
    links: EmailLinks,
    kinds: Mapping[str, EmailKind],
    token: str,
    *,
    now: datetime | None = None,
) -> EmailKind:
    """Unsubscribe the link's recipient from the link's kind; returns the kind. Idempotent."""
    async with uow:
        email = await _email_of_link(uow, links, token)
        kind = kinds.get(email.kind)
        if kind is None or not kind.optional:  # links are only made for optional kinds
            raise LinkNotValid()
        await uow.emails.unsubscribe(email.recipient, kind.name, now=now or datetime.now(UTC))
        await uow.commit()
    log.info("email.unsubscribed", email_id=str(email.id), kind=kind.name)
    return kind


async def kind_of_link(
    uow: NotificationsUnitOfWork, links: EmailLinks, kinds: Mapping[str, EmailKind], token: str
) -> EmailKind:
    """What a link would unsubscribe from (to ask before doing it)."""
    async with uow:
        email = await _email_of_link(uow, links, token)
    kind = kinds.get(email.kind)
    if kind is None or not kind.optional:
        raise LinkNotValid()
    return kind


async def preferences(
    uow: NotificationsUnitOfWork, links: EmailLinks, kinds: Mapping[str, EmailKind], token: str
) -> Preferences:
    async with uow:
        email = await _email_of_link(uow, links, token)
        off = await uow.emails.unsubscribed_kinds(email.recipient)
    return Preferences({kind.name: kind.name not in off for kind in optional_kinds(kinds)})


async def set_preferences(
    uow: NotificationsUnitOfWork,
    links: EmailLinks,
    kinds: Mapping[str, EmailKind],
    token: str,
    subscribed: Mapping[str, bool],
    *,
    now: datetime | None = None,
) -> Preferences:
    """Raises LinkNotValid, then UnknownPreference (before changing anything)."""
    optional = {kind.name for kind in optional_kinds(kinds)}
    async with uow:
        email = await _email_of_link(uow, links, token)
        for name in subscribed:
            if name not in optional:
                raise UnknownPreference(name)
        for name, on in subscribed.items():
            if on:
                await uow.emails.resubscribe(email.recipient, name)
            else:
                await uow.emails.unsubscribe(email.recipient, name, now=now or datetime.now(UTC))
        await uow.commit()
    log.info("email.preferences_changed", email_id=str(email.id), kinds=sorted(subscribed))
    return await preferences(uow, links, kinds, token)
