"""Which addresses no outgoing request may reach (PROTOCOL.md section 12): ``refused``.

The rule is a table, not Python's ``is_global``/``is_private`` (which change from one Python version
to the next: 3.11 calls 6to4 and site-local global). It is the IANA IPv4 and IPv6 Special-Purpose
Address Registries, every entry refused, those IANA calls globally reachable too (anycast relays,
AS112 DNS sinks, ORCHID identifiers: infrastructure, never a web page or a webhook receiver), plus
what the address space registries set apart: multicast, the limited broadcast, the deprecated
site-local ``fec0::/10`` and IPv4-compatible ``::/96``, and every IPv6 address outside ``2000::/3``
(the only block IANA allocates for global unicast). Three IPv6 blocks carry an IPv4 address that a
translator or relay would reach, so that address decides: IPv4-mapped ``::ffff:0:0/96``, the
well-known NAT64 prefix ``64:ff9b::/96`` and 6to4 ``2002::/16`` (``2002:7f00:1::`` is
127.0.0.1). Teredo hides its IPv4 (obfuscated), so all of ``2001::/32`` is refused.
tests/adapters/test_address_blocks.py walks the registries entry by entry.
"""

from __future__ import annotations

import ipaddress

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

REFUSED_V4 = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8",  # "this network" (RFC 791)
        "10.0.0.0/8",  # private use (RFC 1918)
        "100.64.0.0/10",  # shared address space, carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",  # loopback (RFC 1122)
        "169.254.0.0/16",  # link local, cloud metadata (RFC 3927)
        "172.16.0.0/12",  # private use (RFC 1918)
        "192.0.0.0/24",  # IETF protocol assignments, with PCP and TURN anycast (RFC 6890)
        "192.0.2.0/24",  # documentation (RFC 5737)
        "192.31.196.0/24",  # AS112-v4 (RFC 7535)
        "192.52.193.0/24",  # AMT (RFC 7450)
        "192.88.99.0/24",  # 6to4 relay anycast, deprecated (RFC 7526)
        "192.168.0.0/16",  # private use (RFC 1918)
        "192.175.48.0/24",  # direct delegation AS112 (RFC 7534)
        "198.18.0.0/15",  # benchmarking (RFC 2544)
        "198.51.100.0/24",  # documentation (RFC 5737)
        "203.0.113.0/24",  # documentation (RFC 5737)
        "224.0.0.0/4",  # multicast (RFC 5771)
        "240.0.0.0/4",  # reserved, and the limited broadcast 255.255.255.255 (RFC 1112, RFC 919)
    )
)

REFUSED_V6 = tuple(
    ipaddress.IPv6Network(block)
    for block in (
        "::/96",  # unspecified, loopback, IPv4-compatible (deprecated) (RFC 4291)
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "100::/64",  # discard-only (RFC 6666)
        "100:0:0:1::/64",  # dummy prefix (RFC 9780)
        "2001::/23",  # IETF protocol assignments: Teredo, PCP/TURN/SRP anycast, ORCHID, DETs... (RFC 2928)
        "2001:db8::/32",  # documentation (RFC 3849)
        "2620:4f:8000::/48",  # direct delegation AS112 (RFC 7534)
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 SIDs (RFC 9602)
        "fc00::/7",  # unique local, fd00:ec2::254 (RFC 4193)
        "fe80::/10",  # link-local (RFC 4291)
        "fec0::/10",  # site-local, deprecated (RFC 3879)
        "ff00::/8",  # multicast (RFC 4291)
    )
)
GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")


def refused(address: Address) -> bool:
    """Whether no outgoing request (webhook, Web Push, link preview, JWKS) may reach ``address``."""
    if isinstance(address, ipaddress.IPv4Address):
        return any(address in block for block in REFUSED_V4)
    inner = embedded_ipv4(address)
    if inner is not None:
        return refused(inner)
    return address not in GLOBAL_UNICAST or any(address in block for block in REFUSED_V6)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, NAT64 (well-known prefix) or 6to4 address leads to."""
    if address in MAPPED or address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in SIX_TO_FOUR:
        return address.sixtofour
    return None
