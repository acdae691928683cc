"""Emails: what was sent and how each attempt went, retrying by hand, previews of each kind, and the recipients'
one-click unsubscribe (RFC 8058) and preferences, reached through the link in each optional email."""

import html
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from medic.notifications.adapters.emails_repository import InvalidCursor
from medic.notifications.adapters.mail_renderer import MailRenderer, RenderError
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain.emails import (
    KIND_NAME,
    AttemptOutcome,
    Email,
    EmailKind,
    EmailStatus,
    RetryNotAllowed,
    optional_kinds,
)
from medic.notifications.entrypoints.http.dependencies import unit_of_work
from medic.notifications.service_layer import emails as service
from medic.notifications.service_layer.emails import EmailLinks
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http_fields import NO_CONTROL_CHARACTERS
from medic.shared.openapi import FieldErrorsOut

router = APIRouter(tags=["emails"])

Staff = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.OPS))]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
Uow = Annotated[NotificationsUnitOfWork, Depends(unit_of_work)]
KindName = Annotated[str, Path(pattern=KIND_NAME.pattern, description="An email kind's name")]
Token = Annotated[str, Path(max_length=200, description="The token from an email's unsubscribe link")]
EMAIL_CURSOR_FORMAT = "email-list-cursor"
MAX_PAGE = 200

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such email"}}
LINK_NOT_VALID = "this link does not work: it is not one of ours, or the email it came in is no longer kept"


def _renderer(request: Request) -> MailRenderer:
    renderer: MailRenderer = request.app.state.mail_renderer
    return renderer


def _links(request: Request) -> EmailLinks:
    links: EmailLinks = request.app.state.email_links
    return links


Renderer = Annotated[MailRenderer, Depends(_renderer)]
Links = Annotated[EmailLinks, Depends(_links)]


class EmailOut(BaseModel):
    id: uuid.UUID
    kind: str
    cause_id: str = Field(description="What caused it (usually an event id): one email per cause, recipient and kind")
    recipient: str | None = Field(description="The address; null for ops, who see delivery, not people")
    recipient_name: str | None = Field(description="null for ops, as `recipient`")
    status: EmailStatus = Field(
        description=(
            "`queued` (waiting for an attempt), `sent` (the mail server took it), `bounced` (refused for good, 5xx), "
            "`failed` (attempts exhausted, or it cannot be rendered), `suppressed` (unsubscribed; never sent)"
        )
    )
    attempts: int = Field(description="Attempts since it was queued (or last retried by hand)")
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="While queued: when it is tried next")
    sent_at: datetime | None
    last_error: str | None = Field(description="The last failed attempt's answer, the address left out")
    last_code: int | None = Field(description="The last SMTP reply code")

    @classmethod
    def of(cls, email: Email, *, with_recipient: bool = True) -> "EmailOut":
        return cls(
            id=email.id,
            kind=email.kind,
            cause_id=email.cause_id,
            recipient=email.recipient if with_recipient else None,
            recipient_name=email.recipient_name if with_recipient else None,
            status=email.status,
            attempts=email.attempts,
            created_at=email.created_at,
            next_attempt_at=email.next_attempt_at if email.status is EmailStatus.QUEUED else None,
            sent_at=email.sent_at,
            last_error=email.last_error,
            last_code=email.last_code,
        )


class AttemptOut(BaseModel):
    number: int
    at: datetime
    outcome: AttemptOutcome
    code: int | None
    detail: str | None
    duration_ms: int


class EmailDetailOut(EmailOut):
    attempt_log: list[AttemptOut] = Field(description="Every attempt, oldest first")


class EmailPageOut(BaseModel):
    items: list[EmailOut]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next (older) page; null on the last")


class EmailKindOut(BaseModel):
    name: str
    description: str
    optional: bool = Field(description="Recipients may unsubscribe from it")

    @classmethod
    def of(cls, kind: EmailKind) -> "EmailKindOut":
        return cls(name=kind.name, description=kind.description, optional=kind.optional)


class PreviewOut(BaseModel):
    kind: str
    subject: str
    text: str
    html: str


class PreferencesOut(BaseModel):
    subscribed: dict[str, bool] = Field(description="Each optional kind: whether this recipient gets it")


class PreferencesIn(BaseModel):
    subscribed: dict[str, bool] = Field(
        description="Kinds to change (optional kinds only); others stay as they are",
        examples=[{"milestone_approaching": False}],
    )


def _not_found(what: str = "no such email") -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, what)


# Routes with a literal second segment come before `/emails/{email_id}`, which would take `kinds` as an id.


@router.get("/emails/kinds", summary="The kinds of email this service sends")
async def list_kinds(_: Staff, renderer: Renderer) -> list[EmailKindOut]:
    return [EmailKindOut.of(kind) for kind in sorted(renderer.kinds.values(), key=lambda kind: kind.name)]


@router.get(
    "/emails/kinds/{name}/preview",
    summary="A kind rendered with its sample context: subject, text and HTML",
    responses={404: {"description": "No such kind"}},
)
async def preview_kind(name: KindName, _: Coordinator, renderer: Renderer, links: Links) -> PreviewOut:
    try:
        rendered = service.preview(renderer, links, name)
    except service.EmailNotFound:
        raise _not_found("no such email kind") from None
    except RenderError as error:  # a broken template shows as such, not as a 500
        raise HTTPException(status.HTTP_409_CONFLICT, f"this kind does not render: {error}") from None
    return PreviewOut(kind=name, subject=rendered.subject, text=rendered.text, html=rendered.html)


@router.get(
    "/emails",
    summary="Emails, newest first, with their status",
    description="Filters are exact matches. Pass `next_cursor` back as `cursor` for the next page.",
)
async def list_emails(
    uow: Uow,
    principal: Staff,
    status_: Annotated[EmailStatus | None, Query(alias="status")] = None,
    kind: Annotated[str | None, Query(pattern=KIND_NAME.pattern)] = None,
    cause_id: Annotated[str | None, Query(max_length=200, pattern=NO_CONTROL_CHARACTERS)] = None,
    cursor: Annotated[
        str | None,
        Query(
            max_length=200,
            description="The previous page's `next_cursor`",
            json_schema_extra={"format": EMAIL_CURSOR_FORMAT},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> EmailPageOut:
    try:
        page = await service.list_emails(uow, status=status_, kind=kind, cause_id=cause_id, cursor=cursor, limit=limit)
    except InvalidCursor as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["query", "cursor"], "msg": str(error), "type": "value_error"}],
        ) from None
    with_recipient = principal.has(Role.COORDINATOR)
    return EmailPageOut(
        items=[EmailOut.of(email, with_recipient=with_recipient) for email in page.items], next_cursor=page.next_cursor
    )


@router.get("/emails/{email_id}", summary="One email and every attempt to send it", responses=NOT_FOUND)
async def get_email(email_id: uuid.UUID, uow: Uow, principal: Staff) -> EmailDetailOut:
    try:
        email, attempts = await service.email_with_attempts(uow, email_id)
    except service.EmailNotFound:
        raise _not_found() from None
    return EmailDetailOut(
        **EmailOut.of(email, with_recipient=principal.has(Role.COORDINATOR)).model_dump(),
        attempt_log=[
            AttemptOut(
                number=attempt.number,
                at=attempt.at,
                outcome=attempt.outcome,
                code=attempt.code,
                detail=attempt.detail,
                duration_ms=attempt.duration_ms,
            )
            for attempt in attempts
        ],
    )


@router.post(
    "/emails/{email_id}/retry",
    summary="Queue a bounced or failed email again",
    description="After fixing what made it fail (the address, the mail server, a template). Attempts count afresh.",
    responses={**NOT_FOUND, 409: {"description": "It is not bounced or failed", "model": FieldErrorsOut}},
)
async def retry_email(email_id: uuid.UUID, uow: Uow, _: Coordinator, request: Request) -> EmailOut:
    try:
        email = await service.retry(uow, email_id, wake=request.app.state.wake_mail_sender)
    except service.EmailNotFound:
        raise _not_found() from None
    except RetryNotAllowed as error:
        raise HTTPException(
            status.HTTP_409_CONFLICT, [{"loc": ["path", "email_id"], "msg": str(error), "type": "conflict"}]
        ) from None
    return EmailOut.of(email)


# --- Recipients: no account, the link's token is the credential --------------------------------------------------

HTML_PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}
# The URL holds the credential: not cached, not indexed, not passed on as a referrer.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def _page(title: str, body: str, *, status_code: int = 200) -> HTMLResponse:
    """A minimal page; `body` is HTML already escaped by the caller."""
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;">'
        f'<h1 style="font-size:1.4em;">{html.escape(title)}</h1>{body}</body></html>'
    )
    return HTMLResponse(document, status_code=status_code, headers=PRIVATE)


def _link_not_valid_page() -> HTMLResponse:
    return _page("This link does not work", f"<p>{html.escape(LINK_NOT_VALID)}.</p>", status_code=404)


@router.get(
    "/emails/unsubscribe/{token}",
    summary="The unsubscribe page an email's link opens",
    description=(
        "Asks before doing anything: link checkers and mail scanners open links, and must not unsubscribe anyone. "
        "The page's button posts to the same URL."
    ),
    response_class=HTMLResponse,
    responses={200: HTML_PAGE, 404: {"description": "Not a valid link", **HTML_PAGE}},
)
async def unsubscribe_page(token: Token, uow: Uow, renderer: Renderer, links: Links) -> HTMLResponse:
    try:
        kind = await service.kind_of_link(uow, links, renderer.kinds, token)
    except service.LinkNotValid:
        return _link_not_valid_page()
    return _page(
        "Unsubscribe",
        f"<p>Stop receiving &ldquo;{html.escape(kind.description)}&rdquo; emails?</p>"
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>',
    )


@router.post(
    "/emails/unsubscribe/{token}",
    summary="One-click unsubscribe (RFC 8058)",
    description=(
        "What a mail client posts (`List-Unsubscribe=One-Click`, as the `List-Unsubscribe-Post` header says) and "
        "what the unsubscribe page's button posts. The body is not needed: the token says who and from what. "
        "Doing it twice changes nothing more."
    ),
    response_class=HTMLResponse,
    responses={200: HTML_PAGE, 404: {"description": "Not a valid link", **HTML_PAGE}},
)
async def unsubscribe(token: Token, uow: Uow, renderer: Renderer, links: Links) -> HTMLResponse:
    try:
        kind = await service.unsubscribe(uow, links, renderer.kinds, token)
    except service.LinkNotValid:
        return _link_not_valid_page()
    return _page(
        "You are unsubscribed",
        f"<p>You will no longer receive &ldquo;{html.escape(kind.description)}&rdquo; emails.</p>",
    )


@router.get(
    "/emails/preferences/{token}",
    summary="A recipient's preferences for the optional kinds",
    responses={404: {"description": "Not a valid link"}},
)
async def get_preferences(
    token: Token, uow: Uow, renderer: Renderer, links: Links, response: Response
) -> PreferencesOut:
    response.headers.update(PRIVATE)
    try:
        found = await service.preferences(uow, links, renderer.kinds, token)
    except service.LinkNotValid:
        raise _not_found(LINK_NOT_VALID) from None
    return PreferencesOut(subscribed=found.subscribed)


def _only_optional(renderer: MailRenderer) -> str:
    names = ", ".join(kind.name for kind in optional_kinds(renderer.kinds)) or "none"
    return f"only the optional kinds can be changed: {names}"


@router.put(
    "/emails/preferences/{token}",
    summary="Subscribe to or unsubscribe from optional kinds",
    responses={404: {"description": "Not a valid link"}},
)
async def set_preferences(
    token: Token,
    uow: Uow,
    renderer: Renderer,
    links: Links,
    changes: Annotated[PreferencesIn, Body()],
    response: Response,
) -> PreferencesOut:
    response.headers.update(PRIVATE)
    try:
        found = await service.set_preferences(uow, links, renderer.kinds, token, changes.subscribed)
    except service.LinkNotValid:
        raise _not_found(LINK_NOT_VALID) from None
    except service.UnknownPreference:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", "subscribed"], "msg": _only_optional(renderer), "type": "value_error"}],
        ) from None
    return PreferencesOut(subscribed=found.subscribed)
