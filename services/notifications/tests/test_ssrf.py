"""SSRF: a webhook goes only to public addresses. At registration `check_url` refuses a URL if ANY address its host
resolves to is not public (decimal, octal and hex spellings resolve to what they mean); at send time the
`GuardedResolver` resolves again and connects only to an address it checked (DNS rebinding), and its socket factory
refuses an IP-literal URL that aiohttp does not resolve. Real aiohttp clients against a real receiver on loopback."""

import ipaddress
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from medic.notifications.adapters.guarded_resolver import (
    GuardedResolver,
    UnsafeAddress,
    UnsafeUrl,
    check_url,
    normalised_url,
    system_lookup,
)
from medic.notifications.domain import addresses


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.0.9",
        "::1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "169.254.169.254",  # cloud metadata
        "fd00:ec2::254",  # cloud metadata over IPv6
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "ff02::1",
        "255.255.255.255",
        "192.0.2.10",  # documentation
        "2001:db8::1",
        "240.0.0.1",  # reserved
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::ffff:8.8.8.8",  # mapped, even to a public address: only a trick uses it
        "::7f00:1",  # IPv4-compatible
        "64:ff9b::a9fe:a9fe",  # NAT64 to 169.254.169.254
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "2002:a00:1::",  # 6to4 around 10.0.0.1
    ],
)
def test_addresses_that_are_not_public_are_refused(address: str) -> None:
    parsed = addresses.parse(address)
    assert parsed is not None
    assert addresses.refusal(parsed, allow_loopback=False) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(address: str) -> None:
    parsed = addresses.parse(address)
    assert parsed is not None and addresses.allowed(parsed, allow_loopback=False)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [("127.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True), ("10.0.0.1", False), ("169.254.169.254", False)],
)
def test_allowing_loopback_allows_loopback_only(address: str, allowed: bool) -> None:
    parsed = addresses.parse(address)
    assert parsed is not None and addresses.allowed(parsed, allow_loopback=True) is allowed


def test_legacy_ipv4_spellings_are_host_names_not_addresses() -> None:
    for spelling in ("2130706433", "0x7f.0.0.1", "017700000001", "127.1"):
        assert addresses.parse(spelling) is None


# At registration


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/hook",
        "https://LOCALHOST./hook",
        "https://127.0.0.1/hook",
        "https://2130706433/hook",  # decimal
        "https://017700000001/hook",  # octal
        "https://0x7f000001/hook",  # hex
        "https://0x7f.0.0.1/hook",
        "https://127.1/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:7f00:1]/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/",
        "https://10.0.0.1/hook",
        "https://192.168.0.1:8443/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::]/hook",
        "https://[fe80::1%25eth0]/hook",
        "https://[2002:7f00:1::]/hook",
        "https://224.0.0.1/hook",
        "https://no-such-host.invalid/hook",
        "http://93.184.215.14/hook",  # plain http
        "ftp://93.184.215.14/hook",
        "file:///etc/passwd",
        "gopher://93.184.215.14/",
        "https://user:secret@93.184.215.14/hook",
        "https://93.184.215.14/hook#part",
        "https://93.184.215.14:0/hook",
        "https:///hook",
        "https://93.184.215.14:99999/hook",
        "https://a\\@93.184.215.14/",
    ],
)
async def test_check_url_refuses(url: str) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        await check_url(url, allow_http=False, allow_loopback=False)
    assert url not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    ["https://93.184.215.14/hook", "https://93.184.215.14:1/any/port?x=1", "https://[2606:4700::1111]:65535/"],
)
async def test_check_url_accepts_public_https_on_any_port(url: str) -> None:
    await check_url(url, allow_http=False, allow_loopback=False)


async def test_development_settings_open_http_and_loopback_only() -> None:
    await check_url("http://localhost:8080/hook", allow_http=True, allow_loopback=True)
    await check_url("http://127.0.0.1:8080/hook", allow_http=True, allow_loopback=True)
    with pytest.raises(UnsafeUrl):
        await check_url("http://localhost:8080/hook", allow_http=True, allow_loopback=False)
    with pytest.raises(UnsafeUrl):
        await check_url("http://localhost:8080/hook", allow_http=False, allow_loopback=True)
    with pytest.raises(UnsafeUrl):
        await check_url("http://10.0.0.1/hook", allow_http=True, allow_loopback=True)


@pytest.mark.parametrize("url", ["https://1572395022/hook", "https://0135.0270.0327.016/hook"])
async def test_a_public_address_in_a_spelling_the_client_never_connects_to_is_refused(url: str) -> None:
    """Decimal and octal forms of 93.184.215.14: public, but aiohttp refuses to connect to such a host."""
    with pytest.raises(UnsafeUrl, match="four decimal numbers"):
        await check_url(url, allow_http=False, allow_loopback=False)


@dataclass
class StandInDns:
    """A DNS server's answers, scripted: each lookup takes the next answer (the last repeats)."""

    answers: list[list[str]]
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


async def test_a_host_with_any_private_answer_is_refused() -> None:
    dns = StandInDns([["93.184.215.14", "10.0.0.7"]])
    with pytest.raises(UnsafeUrl):
        await check_url("https://hooks.partner.example/", allow_http=False, allow_loopback=False, lookup=dns)
    assert dns.asked == ["hooks.partner.example"]


def test_the_url_stored_is_the_url_requested() -> None:
    assert (
        normalised_url("HTTPS://Hooks.Example:443/a b?q=ä", allow_http=False) == "https://hooks.example/a%20b?q=%C3%A4"
    )
    assert normalised_url("https://münchen.example/", allow_http=False) == "https://xn--mnchen-3ya.example/"


async def test_the_system_resolver_resolves_legacy_spellings_to_what_they_mean() -> None:
    for spelling in ("2130706433", "0x7f.0.0.1", "017700000001", "127.1", "localhost"):
        assert {str(ipaddress.ip_address(a)) for a in await system_lookup(spelling, 443)} <= {"127.0.0.1", "::1"}


# At send time: a real receiver on loopback, a real aiohttp client with the guarded connector


@dataclass
class Receiver:
    port: int
    received: list[str] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    app = web.Application()
    found = Receiver(port=0)

    async def hook(request: web.Request) -> web.Response:
        found.received.append(await request.text())
        return web.Response(status=204)

    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.port = runner.addresses[0][1]
    try:
        yield found
    finally:
        await runner.cleanup()


async def post(resolver: GuardedResolver, url: str) -> int:
    connector = aiohttp.TCPConnector(resolver=resolver, socket_factory=resolver.socket_factory, use_dns_cache=False)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(url, data=b"{}", allow_redirects=False, timeout=aiohttp.ClientTimeout(total=5)) as response,
    ):
        return response.status


def refused_as_unsafe(error: aiohttp.ClientConnectorError) -> bool:
    return isinstance(error.os_error, UnsafeAddress)


async def test_a_name_resolving_to_loopback_is_not_connected_to(receiver: Receiver) -> None:
    with pytest.raises(aiohttp.ClientConnectorError) as refused:
        await post(GuardedResolver(allow_loopback=False), f"http://localhost:{receiver.port}/hook")
    assert refused_as_unsafe(refused.value)
    assert receiver.received == []


async def test_an_ip_literal_url_is_refused_at_the_socket(receiver: Receiver) -> None:
    """aiohttp does not resolve an IP address, so the resolver never sees it: the socket factory refuses it."""
    with pytest.raises(aiohttp.ClientConnectorError) as refused:
        await post(GuardedResolver(allow_loopback=False), f"http://127.0.0.1:{receiver.port}/hook")
    assert refused_as_unsafe(refused.value)
    assert receiver.received == []


async def test_with_loopback_allowed_the_delivery_arrives(receiver: Receiver) -> None:
    assert await post(GuardedResolver(allow_loopback=True), f"http://localhost:{receiver.port}/hook") == 204
    assert await post(GuardedResolver(allow_loopback=True), f"http://127.0.0.1:{receiver.port}/hook") == 204
    assert receiver.received == ["{}", "{}"]


async def test_dns_rebinding_after_registration_is_caught_at_send_time(receiver: Receiver) -> None:
    """The name answered a public address when it was registered, and loopback when the message goes."""
    dns = StandInDns([["93.184.215.14"], ["127.0.0.1"]])
    url = f"http://rebinding.example:{receiver.port}/hook"
    await check_url(url, allow_http=True, allow_loopback=False, lookup=dns)
    with pytest.raises(aiohttp.ClientConnectorError) as refused:
        await post(GuardedResolver(allow_loopback=False, lookup=dns), url)
    assert refused_as_unsafe(refused.value)
    assert receiver.received == []
    assert dns.asked == ["rebinding.example", "rebinding.example"]  # resolved again at send time


async def test_only_the_checked_addresses_are_connected_to(receiver: Receiver) -> None:
    """Of a mixed answer, the resolver hands aiohttp the allowed addresses only: here, loopback in development."""
    resolver = GuardedResolver(allow_loopback=True, lookup=StandInDns([["169.254.169.254", "10.0.0.1", "127.0.0.1"]]))
    results = await resolver.resolve("mixed.example", receiver.port, socket.AF_UNSPEC)
    assert [r["host"] for r in results] == ["127.0.0.1"]
    assert await post(resolver, f"http://mixed.example:{receiver.port}/hook") == 204
    assert receiver.received == ["{}"]


async def test_a_host_with_no_allowed_address_raises_unsafe_address() -> None:
    resolver = GuardedResolver(allow_loopback=False, lookup=StandInDns([["10.0.0.1", "::1"]]))
    with pytest.raises(UnsafeAddress):
        await resolver.resolve("private.example", 443, socket.AF_UNSPEC)
    with pytest.raises(UnsafeAddress):
        resolver.socket_factory((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("10.0.0.1", 443)))
