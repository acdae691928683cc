"""SSRF guard for webhook URLs: a check when an endpoint is registered, and a resolver that checks again at send time.

A partner's URL is untrusted. At registration (`check_url`) its host is resolved and refused if ANY address it
resolves to is not allowed (`domain.addresses`). That alone is not enough: DNS can answer differently a minute later
(rebinding). So the sender's connector uses `GuardedResolver`, which resolves at send time, drops every address not
allowed, and hands aiohttp only the addresses it checked, so the socket connects to a checked address and nothing
else. aiohttp does not resolve a host that is already an IP address; `GuardedResolver.socket_factory` covers that
path: it refuses to open a socket to an address not allowed. Wire both:

    resolver = GuardedResolver(allow_loopback=settings.webhook_allow_loopback)
    connector = aiohttp.TCPConnector(resolver=resolver, socket_factory=resolver.socket_factory)

Redirects must not be followed (the sender's `allow_redirects=False`): a redirect's target is checked by nobody.
"""

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence

from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from medic.notifications.domain import addresses

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_S = 5.0

# (host, port) -> the addresses it resolves to: the system resolver by default; tests may stand in their own DNS.
Lookup = Callable[[str, int], Awaitable[Sequence[str]]]


class UnsafeAddress(OSError):
    """Every address the host resolved to is one a webhook may not go to (aiohttp reports it as a connection error)."""


class UnsafeUrl(ValueError):
    """A URL an endpoint may not have; the message says why, for the caller (it never repeats the URL)."""


async def system_lookup(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`, TCP only, in its order (numeric forms resolve too)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that returns only allowed addresses, and raises `UnsafeAddress` when none is left."""

    def __init__(
        self, allow_loopback: bool, *, lookup: Lookup = system_lookup, timeout_s: float = RESOLVE_TIMEOUT_S
    ) -> None:
        self._allow_loopback = allow_loopback
        self._lookup = lookup
        self._timeout_s = timeout_s

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        async with asyncio.timeout(self._timeout_s):
            found = await self._lookup(host, port)
        results: list[ResolveResult] = []
        for text in dict.fromkeys(found):  # each address once, in the resolver's order
            address = addresses.parse(text)
            if address is None or not addresses.allowed(address, allow_loopback=self._allow_loopback):
                continue
            if family not in (socket.AF_UNSPEC, _family(address)):
                continue
            results.append(
                ResolveResult(
                    hostname=host,
                    host=str(address),
                    port=port,
                    family=_family(address),
                    proto=socket.IPPROTO_TCP,
                    flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                )
            )
        if not results:
            raise UnsafeAddress("the host resolves to no address a webhook may be sent to")
        return results

    async def close(self) -> None:
        pass

    def socket_factory(self, addr_info: AddrInfoType) -> socket.socket:
        """For `TCPConnector(socket_factory=...)`: the last check before connecting, whatever path led here."""
        family, type_, proto, _, sockaddr = addr_info
        address = addresses.parse(str(sockaddr[0]))
        if address is None or not addresses.allowed(address, allow_loopback=self._allow_loopback):
            raise UnsafeAddress("a webhook may not be sent to this address")
        return socket.socket(family=family, type=type_, proto=proto)


def _family(address: addresses.IPAddress) -> socket.AddressFamily:
    return socket.AF_INET6 if address.version == 6 else socket.AF_INET


async def check_url(
    url: str,
    *,
    allow_http: bool,
    allow_loopback: bool,
    lookup: Lookup = system_lookup,
    timeout_s: float = RESOLVE_TIMEOUT_S,
) -> None:
    """Refuse (`UnsafeUrl`) a URL an endpoint may not have: not https (or http when allowed), credentials or a
    fragment in it, a host that does not resolve, or one resolving to ANY address not allowed."""
    parsed = _parse(url, allow_http=allow_http)
    host = parsed.raw_host or ""
    port = parsed.port or 0
    literal = addresses.parse(host)
    if literal is not None:
        found: Sequence[str] = [str(literal)]
    else:
        try:
            async with asyncio.timeout(timeout_s):
                found = await lookup(host, port)
        except (OSError, UnicodeError, TimeoutError):
            raise UnsafeUrl("the host does not resolve") from None
        if not found:
            raise UnsafeUrl("the host does not resolve")
    for text in found:
        address = addresses.parse(text)
        reason = (
            "an address that is not an IP address"
            if address is None
            else addresses.refusal(address, allow_loopback=allow_loopback)
        )
        if reason is not None:
            raise UnsafeUrl(f"the host resolves to {reason}; webhooks go to public addresses only")
    if literal is None and all(part.isdigit() for part in host.split(".")):
        # aiohttp refuses to connect to these spellings (2130706433, 010.0.0.1): nothing could ever be delivered.
        raise UnsafeUrl("write an IPv4 address as four decimal numbers, e.g. 93.184.215.14")


def _parse(url: str, *, allow_http: bool) -> URL:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"a URL has at most {MAX_URL_LENGTH} characters")
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        raise UnsafeUrl("not a valid URL") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parsed.scheme not in schemes:
        raise UnsafeUrl("the URL must start with https://" if not allow_http else "the URL must be http(s)://")
    if not parsed.raw_host:
        raise UnsafeUrl("the URL names no host")
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise UnsafeUrl("the URL may not carry credentials; the signature authenticates each message")
    if parsed.raw_fragment:
        raise UnsafeUrl("the URL may not have a fragment (#...)")
    if parsed.explicit_port == 0:
        raise UnsafeUrl("port 0 is not a port")
    return parsed


def normalised_url(url: str, *, allow_http: bool) -> str:
    """The URL as it is stored and requested: what `check_url` checks is exactly what the sender will parse."""
    return str(_parse(url, allow_http=allow_http))
