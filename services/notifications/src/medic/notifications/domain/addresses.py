"""Which IP addresses a webhook may be sent to (SSRF), with no I/O: the resolver and the URL check ask this.

Only globally routable unicast addresses are allowed. IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`)
IPv6 addresses are refused outright (no public service is reached that way; a trick is). An IPv6 address that carries
an IPv4 address (6to4 `2002::/16`, Teredo, NAT64 `64:ff9b::/96`) is judged by that IPv4 address as well, since that is
where the packets may end up. Loopback is allowed only when the caller says so (local development and tests); every
other private, shared, link-local, multicast, reserved or unspecified address never is (169.254.169.254, the cloud
metadata address, is link-local).
"""

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local-use): the last 32 bits are the IPv4 destination.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def parse(text: str) -> IPAddress | None:
    """The address `text` spells in the canonical notation (IPv6 with or without brackets or a zone), else None.

    Legacy IPv4 spellings (`2130706433`, `0x7f.1`, `017700000001`) are not addresses here: they are host names,
    resolved like any other, and the addresses they resolve to are what is checked.
    """
    candidate = text.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _judged(address: IPAddress) -> list[IPAddress]:
    """The addresses that decide where packets to `address` end up.

    A NAT64 address is only the IPv4 address it translates to; a tunnel (6to4, Teredo) is judged as itself and by
    the IPv4 addresses it carries.
    """
    if not isinstance(address, ipaddress.IPv6Address):
        return [address]
    if any(address in prefix for prefix in _NAT64):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    judged: list[IPAddress] = [address]
    if address.sixtofour is not None:
        judged.append(address.sixtofour)
    if address.teredo is not None:
        judged.extend(address.teredo)
    return judged


def _embedding(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible (`::a.b.c.d`) address spells."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not `::` nor `::1`
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why a webhook may not go to `address` (a short phrase for the caller), or None if it may."""
    if isinstance(address, ipaddress.IPv6Address) and (inner := _embedding(address)) is not None:
        # No public service is reached this way (DNS answers for one never carry it): only a trick uses it.
        if inner.is_loopback and allow_loopback:
            return None
        return "an IPv4-mapped IPv6 address"
    for each in _judged(address):
        if each.is_loopback:
            if allow_loopback:
                continue
            return "a loopback address"
        if each.is_unspecified:
            return "an unspecified address"
        if each.is_link_local:
            return "a link-local address (cloud metadata lives there)"
        if each.is_multicast:
            return "a multicast address"
        if each.is_private:
            return "a private address"
        if each.is_reserved or not each.is_global:
            return "an address that is not globally routable"
    return None


def allowed(address: IPAddress, *, allow_loopback: bool) -> bool:
    return refusal(address, allow_loopback=allow_loopback) is None
