"""The receiver docs/webhooks.md shows partners, run as written against a real server on loopback: it accepts what we
sign (with either secret during a rotation), refuses a tampered body, a wrong secret and a stale timestamp, and
answers a retry (the same `webhook-id`) without handling it twice."""

import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from medic.notifications.domain import webhook_signing

DOC = Path(__file__).parents[3] / "docs" / "webhooks.md"
EXAMPLE = DOC.parent / "examples" / "webhook_receiver.py"
BODY = b'{"type":"project.approved.v1","timestamp":"2026-12-07T10:00:00Z","data":{"sequence":42}}'


def documented_receiver(secret: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The example receiver the doc shows (the same text), executed with `secret` as its environment gives it."""
    code = EXAMPLE.read_text()
    (shown,) = [block for block in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL) if "verify" in block]
    assert shown == code, "docs/webhooks.md shows docs/examples/webhook_receiver.py as it is"
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    namespace: dict[str, Any] = {"__name__": "documented_receiver"}
    exec(compile(code, str(EXAMPLE), "exec"), namespace)
    return namespace


@pytest.fixture
async def receiver(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, str, set[str]]]:
    """(url, secret, ids it has handled)."""
    secret = webhook_signing.new_secret()
    namespace = documented_receiver(secret, monkeypatch)
    runner = web.AppRunner(namespace["app"])
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/medic", secret, namespace["seen"]
    finally:
        await runner.cleanup()


async def send(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status


def signed(
    body: bytes, secrets: list[str], *, at: float | None = None, message_id: str | None = None
) -> dict[str, str]:
    moment = int(time.time() if at is None else at)
    return webhook_signing.headers(message_id or f"msg_{uuid.uuid4().hex}", moment, body, secrets)


async def test_it_accepts_a_signed_delivery_once(receiver: tuple[str, str, set[str]]) -> None:
    url, secret, seen = receiver
    headers = signed(BODY, [secret])
    assert await send(url, BODY, headers) == 204
    assert await send(url, BODY, headers) == 204  # a retry: acknowledged, not handled again
    assert seen == {headers["webhook-id"]}


async def test_during_a_rotation_it_accepts_with_the_secret_it_holds(receiver: tuple[str, str, set[str]]) -> None:
    url, secret, _ = receiver
    assert await send(url, BODY, signed(BODY, [webhook_signing.new_secret(), secret])) == 204
    assert await send(url, BODY, signed(BODY, [secret, webhook_signing.new_secret()])) == 204


async def test_it_refuses_tampered_wrongly_signed_and_stale_deliveries(receiver: tuple[str, str, set[str]]) -> None:
    url, secret, seen = receiver
    assert await send(url, BODY.replace(b"42", b"43"), signed(BODY, [secret])) == 400
    assert await send(url, BODY, signed(BODY, [webhook_signing.new_secret()])) == 400
    assert await send(url, BODY, signed(BODY, [secret], at=time.time() - 600)) == 400
    assert seen == set()
