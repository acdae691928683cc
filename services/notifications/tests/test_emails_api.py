"""The emails API on the running service, its mail sender talking to a real SMTP server (aiosmtpd): who may call
what, the list and attempts, retrying by hand, previews, and RFC 8058 one-click unsubscribe with preferences."""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from medic.notifications.bootstrap import NotificationsService
from medic.notifications.domain.email_catalogue import KINDS
from medic.notifications.domain.emails import EmailKind, EmailRequest, optional_kinds, unsubscribe_key
from medic.notifications.service_layer.emails import EmailLinks
from medic.shared.auth import Role
from services.notifications.tests import emails_routes
from services.notifications.tests.conftest import AuthHeaders, ServiceWith
from services.notifications.tests.email_support import SmtpTestServer, parts, start_smtp_server
from tests.support import eventually

BASE = "http://notifications.test"
OPTIONAL = optional_kinds(KINDS)[0]
OTHER_OPTIONAL = optional_kinds(KINDS)[1]
REQUIRED = next(kind for kind in KINDS.values() if not kind.optional)
ADDRESS = "dr.ahmed@nhs.example"
NAME = "Dr Ahmed"


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    server = start_smtp_server()
    yield server
    server.stop()


@pytest.fixture
async def mail_service(service_with: ServiceWith, smtp: SmtpTestServer, tmp_path: Path) -> NotificationsService:
    return await service_with(
        SMTP_URL=smtp.url,
        NOTIFICATIONS_PUBLIC_BASE_URL=BASE,
        NOTIFICATIONS_MAIL_DIR=str(tmp_path / "mail"),
        MAIL_POLL_INTERVAL_S=30,  # only the commit's wake-up makes it send promptly
    )


@pytest.fixture
async def api(mail_service: NotificationsService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=mail_service.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client


async def enqueue(service: NotificationsService, kind: EmailKind, *, recipient: str = ADDRESS) -> str:
    """What an email rule does; returns the cause id."""
    cause = str(uuid.uuid4())
    async with service.app.state.uow_factory() as uow:
        assert await uow.emails.enqueue(EmailRequest(kind.name, cause, recipient, NAME, dict(kind.sample)))
        await uow.commit()
    return cause


async def settled(api: httpx.AsyncClient, auth: AuthHeaders, cause: str, status: str = "sent") -> dict[str, Any]:
    async def check() -> dict[str, Any]:
        page = (await api.get("/emails", params={"cause_id": cause}, headers=auth(Role.COORDINATOR))).json()
        items = [item for item in page["items"] if item["status"] == status]
        return items[0] if items else {}

    return await eventually(check, timeout_s=10)


def concrete(path: str) -> str:
    return path.replace("{email_id}", str(uuid.uuid4())).replace("{name}", REQUIRED.name)


async def test_the_emails_area_admits_only_its_roles(api: httpx.AsyncClient, auth: AuthHeaders) -> None:
    wrong = []
    for (method, path), roles in emails_routes.ROUTES.items():
        url = concrete(path)
        if (status := (await api.request(method, url)).status_code) != 401:
            wrong.append(f"{method} {path} without a token: {status}")
        for role in Role:
            status = (await api.request(method, url, headers=auth(role))).status_code
            allowed = status not in (401, 403)
            if allowed != (role in roles) or (not allowed and status != 403):
                wrong.append(f"{method} {path} as {role.value}: {status}")
    for method, path in emails_routes.PUBLIC:  # no token needed; a token that is not ours opens nothing
        url = path.replace("{token}", "not-a-token")
        status = (await api.request(method, url, json={"subscribed": {}})).status_code
        if status != 404:
            wrong.append(f"{method} {path} with a bad token: {status}")
    assert wrong == []


async def test_an_email_reaches_the_smtp_server_and_shows_as_sent_with_its_attempts(
    mail_service: NotificationsService, api: httpx.AsyncClient, auth: AuthHeaders, smtp: SmtpTestServer
) -> None:
    with capture_logs() as logs:
        cause = await enqueue(mail_service, REQUIRED)
        item = await settled(api, auth, cause)
    assert (item["kind"], item["recipient"], item["attempts"], item["next_attempt_at"]) == (
        REQUIRED.name,
        ADDRESS,
        1,
        None,
    )
    detail = (await api.get(f"/emails/{item['id']}", headers=auth(Role.OPS))).json()
    assert [(a["number"], a["outcome"]) for a in detail["attempt_log"]] == [(1, "sent")]
    # Ops see delivery, not people: the same email, its recipient left out, in the list and alone
    listed = (await api.get("/emails", params={"cause_id": cause}, headers=auth(Role.OPS))).json()["items"]
    assert (detail["recipient"], detail["recipient_name"]) == (None, None)
    assert [(e["recipient"], e["recipient_name"]) for e in listed] == [(None, None)]

    [message] = smtp.inbox.received_messages()
    assert str(message["To"]) == f"{NAME} <{ADDRESS}>"
    assert message["List-Unsubscribe"] is None  # a required kind
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    assert body["text/plain"].startswith(f"Dear {NAME},")
    assert "<!DOCTYPE html>" in body["text/html"]
    # Logs name the email by id and kind only.
    assert any(log["event"] == "email.sent" and log["email_id"] == item["id"] for log in logs)
    assert not [log for log in logs if ADDRESS in repr(log) or NAME in repr(log)]


async def test_one_click_unsubscribe_stops_that_kind_only(
    mail_service: NotificationsService, api: httpx.AsyncClient, auth: AuthHeaders, smtp: SmtpTestServer
) -> None:
    await settled(api, auth, await enqueue(mail_service, OPTIONAL))
    [message] = smtp.inbox.received_messages()
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    link = str(message["List-Unsubscribe"]).removeprefix("<").removesuffix(">")
    assert link.startswith(f"{BASE}/emails/unsubscribe/")
    assert link in parts(message)["text/plain"]  # and in the footer, for people
    preferences = link.replace("/unsubscribe/", "/preferences/")

    # Opening the link (as a mail scanner does) only asks.
    page = await api.get(link)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form method="post">' in page.text and OPTIONAL.description.split(" (")[0] in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert (await api.get(preferences)).json()["subscribed"][OPTIONAL.name] is True

    # What a mail client posts (RFC 8058); twice changes nothing more.
    for _ in range(2):
        done = await api.post(
            link,
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200 and "You are unsubscribed" in done.text
    subscribed = (await api.get(preferences)).json()["subscribed"]
    assert subscribed == {kind.name: kind.name != OPTIONAL.name for kind in optional_kinds(KINDS)}

    suppressed = await settled(api, auth, await enqueue(mail_service, OPTIONAL), status="suppressed")
    assert suppressed["attempts"] == 0
    await settled(api, auth, await enqueue(mail_service, REQUIRED))  # a required kind still goes
    await settled(api, auth, await enqueue(mail_service, OTHER_OPTIONAL))  # and other optional kinds
    assert len(smtp.inbox.received) == 3


async def test_preferences_change_only_optional_kinds(
    mail_service: NotificationsService, api: httpx.AsyncClient, auth: AuthHeaders, smtp: SmtpTestServer
) -> None:
    await settled(api, auth, await enqueue(mail_service, OPTIONAL))
    [message] = smtp.inbox.received_messages()
    preferences = str(message["List-Unsubscribe"]).strip("<>").replace("/unsubscribe/", "/preferences/")

    changed = await api.put(preferences, json={"subscribed": {OPTIONAL.name: False, OTHER_OPTIONAL.name: False}})
    assert changed.status_code == 200 and changed.headers["cache-control"] == "no-store"
    assert changed.json()["subscribed"][OPTIONAL.name] is False
    assert changed.json()["subscribed"][OTHER_OPTIONAL.name] is False
    again = await api.put(preferences, json={"subscribed": {OPTIONAL.name: True}})
    assert again.json()["subscribed"][OPTIONAL.name] is True

    for refused in ({REQUIRED.name: False}, {"no_such_kind": False}, {OPTIONAL.name: False, REQUIRED.name: False}):
        answer = await api.put(preferences, json={"subscribed": refused})
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"] == ["body", "subscribed"]
    assert (await api.get(preferences)).json()["subscribed"][OPTIONAL.name] is True  # the refusals changed nothing

    # A link signed with another key, or for an email not kept, opens nothing.
    forged = EmailLinks(BASE, unsubscribe_key(b"not the service's key")).unsubscribe_url(uuid.uuid4())
    assert (await api.get(forged.replace("/unsubscribe/", "/preferences/"))).status_code == 404
    assert (await api.post(forged)).status_code == 404
    links: EmailLinks = mail_service.app.state.email_links
    unknown = links.unsubscribe_url(uuid.uuid4())
    assert (await api.get(unknown)).status_code == 404


async def test_a_bounced_email_is_visible_and_can_be_retried_by_a_coordinator(
    mail_service: NotificationsService, api: httpx.AsyncClient, auth: AuthHeaders, smtp: SmtpTestServer
) -> None:
    smtp.inbox.rcpt_replies[ADDRESS] = [f"550 5.1.1 <{ADDRESS}>: Recipient address rejected"]
    with capture_logs() as logs:
        bounced = await settled(api, auth, await enqueue(mail_service, REQUIRED), status="bounced")
    assert (bounced["last_code"], bounced["last_error"]) == (550, "550 5.1.1 <<recipient>>: Recipient address rejected")
    assert not [log for log in logs if ADDRESS in repr(log)]

    assert (await api.post(f"/emails/{bounced['id']}/retry", headers=auth(Role.OPS))).status_code == 403
    retried = await api.post(f"/emails/{bounced['id']}/retry", headers=auth(Role.COORDINATOR))
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) in {("queued", 0), ("sent", 1)}
    sent = await settled(api, auth, bounced["cause_id"])
    assert sent["id"] == bounced["id"] and len(smtp.inbox.received) == 1

    detail = (await api.get(f"/emails/{sent['id']}", headers=auth(Role.COORDINATOR))).json()
    assert [(a["number"], a["outcome"], a["code"]) for a in detail["attempt_log"]] == [
        (1, "permanent", 550),
        (1, "sent", None),  # counting restarts after a retry by hand
    ]
    conflict = await api.post(f"/emails/{sent['id']}/retry", headers=auth(Role.COORDINATOR))
    assert conflict.status_code == 409
    assert conflict.json()["detail"][0]["msg"].startswith("an email that is sent cannot be retried")
    missing = await api.post(f"/emails/{uuid.uuid4()}/retry", headers=auth(Role.COORDINATOR))
    assert missing.status_code == 404


async def test_the_list_pages_newest_first_and_filters(
    mail_service: NotificationsService, api: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    causes = [await enqueue(mail_service, REQUIRED, recipient=f"s{n}@student.example") for n in range(4)]
    causes.append(await enqueue(mail_service, OPTIONAL))
    for cause in causes:
        await settled(api, auth, cause)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/emails", params=params, headers=auth(Role.OPS))).json()
        seen += [item["cause_id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == list(reversed(causes))
    only = (await api.get("/emails", params={"kind": OPTIONAL.name}, headers=auth(Role.OPS))).json()
    assert [item["cause_id"] for item in only["items"]] == [causes[-1]]
    sent = (await api.get("/emails", params={"status": "sent"}, headers=auth(Role.OPS))).json()
    assert len(sent["items"]) == 5

    for params, field in (({"cursor": "bm9wZQ"}, "cursor"), ({"status": "lost"}, "status"), ({"kind": "A B"}, "kind")):
        answer = await api.get("/emails", params=params, headers=auth(Role.OPS))
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["query", field]


async def test_kinds_and_previews(api: httpx.AsyncClient, auth: AuthHeaders) -> None:
    kinds = (await api.get("/emails/kinds", headers=auth(Role.COORDINATOR))).json()
    assert {(kind["name"], kind["optional"]) for kind in kinds} == {(k.name, k.optional) for k in KINDS.values()}

    preview = (await api.get(f"/emails/kinds/{OPTIONAL.name}/preview", headers=auth(Role.COORDINATOR))).json()
    assert preview["kind"] == OPTIONAL.name and preview["subject"]
    assert f"{BASE}/emails/unsubscribe/" in preview["text"] and "<html" in preview["html"]
    required = (await api.get(f"/emails/kinds/{REQUIRED.name}/preview", headers=auth(Role.COORDINATOR))).json()
    assert "/emails/unsubscribe/" not in required["text"]

    assert (await api.get("/emails/kinds/no_such_kind/preview", headers=auth(Role.COORDINATOR))).status_code == 404
    bad = await api.get("/emails/kinds/Not%20A%20Kind/preview", headers=auth(Role.COORDINATOR))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["path", "name"]


async def test_without_smtp_url_emails_land_as_eml_files(
    service_with: ServiceWith, tmp_path: Path, auth: AuthHeaders
) -> None:
    mail_dir = tmp_path / "var-mail"
    service = await service_with(NOTIFICATIONS_MAIL_DIR=str(mail_dir))
    await enqueue(service, REQUIRED)

    async def written() -> list[Path]:
        return list(mail_dir.glob("*.eml")) if mail_dir.exists() else []

    [eml] = await eventually(written, timeout_s=10)
    text = eml.read_text()
    assert f"To: {NAME} <{ADDRESS}>" in text and "Content-Type: text/html" in text
