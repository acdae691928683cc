"""Sends one signed webhook request and says what came of it; never raises for what the receiver did.

One aiohttp session for all endpoints: its connector resolves through `GuardedResolver` and opens sockets only to
addresses it allows (checked again at every connection: DNS rebinding), keeps connections alive per host, and is
not limited in total (each endpoint's lane limits its own concurrency). Redirects are not followed. At most
`EXCERPT_BYTES` of a response are read: a receiver cannot make us download a large body.
"""

import time
from dataclasses import dataclass

import aiohttp

from medic.notifications.adapters.guarded_resolver import GuardedResolver, UnsafeAddress
from medic.notifications.domain.webhook_delivery import ERROR_CHARS, EXCERPT_BYTES, Outcome, classify

USER_AGENT = "medic-webhooks/1.0"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    status_code: int | None
    duration_ms: float
    response_excerpt: str | None
    error: str | None  # what went wrong, short and without personal data (the exception's type, or the status)
    retry_after: str | None  # the response's Retry-After header, as sent


class WebhookSender:
    def __init__(self, *, timeout_s: float, allow_loopback: bool) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._allow_loopback = allow_loopback
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        """Within the running loop (aiohttp binds its session to it)."""
        if self._session is None:
            resolver = GuardedResolver(allow_loopback=self._allow_loopback)
            connector = aiohttp.TCPConnector(
                resolver=resolver, socket_factory=resolver.socket_factory, limit=0, ttl_dns_cache=10
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT, "Content-Type": "application/json"},
                auto_decompress=False,  # the excerpt is what came over the wire, and no decompression bomb
                skip_auto_headers=("Accept-Encoding",),
            )

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def send(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        if self._session is None:
            raise RuntimeError("the sender is not open")
        started = time.perf_counter()

        def took() -> float:
            return round((time.perf_counter() - started) * 1000, 3)

        try:
            async with self._session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                excerpt = await _excerpt(response)
                status = response.status
                result = SendResult(
                    outcome=classify(status),
                    status_code=status,
                    duration_ms=took(),
                    response_excerpt=excerpt,
                    error=None if 200 <= status < 300 else f"HTTP {status}",
                    retry_after=response.headers.get("Retry-After"),
                )
                if not response.content.at_eof():
                    response.close()  # the rest is not read: this connection cannot serve another request
                return result
        except TimeoutError:
            return SendResult(classify(None, timed_out=True), None, took(), None, "timed out", None)
        except aiohttp.ClientConnectorError as error:
            refused = isinstance(error.os_error, UnsafeAddress)
            return SendResult(classify(None, refused=refused), None, took(), None, _error(error), None)
        except UnsafeAddress as error:
            return SendResult(classify(None, refused=True), None, took(), None, _error(error), None)
        except (aiohttp.ClientError, OSError, ValueError) as error:
            return SendResult(classify(None), None, took(), None, _error(error), None)


async def _excerpt(response: aiohttp.ClientResponse) -> str | None:
    chunks: list[bytes] = []
    size = 0
    while size < EXCERPT_BYTES:
        chunk = await response.content.read(EXCERPT_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if not chunks:
        return None
    return b"".join(chunks).decode("utf-8", errors="replace")


def _error(error: BaseException) -> str:
    """The kind of failure, and for ours (the address refused) why; never a URL or a body."""
    if isinstance(error, aiohttp.ClientConnectorError) and isinstance(error.os_error, UnsafeAddress):
        return f"refused: {error.os_error}"[:ERROR_CHARS]
    if isinstance(error, UnsafeAddress):
        return f"refused: {error}"[:ERROR_CHARS]
    return type(error).__name__[:ERROR_CHARS]
