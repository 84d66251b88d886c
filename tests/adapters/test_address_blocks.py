"""The address guard's decision (``refused``, PROTOCOL.md section 12) against the IANA IPv4 and IPv6
Special-Purpose Address Registries, written down here as data, entry by entry, each with its name,
its RFC, whether IANA calls it globally reachable, and what the guard does with it and why.

Decisions: ``refuse`` (no outgoing request may reach any address of the block) or ``embedded`` (the
IPv4 address the block carries decides: refused when that IPv4 is). Nothing special-purpose is let
through as such: a block IANA calls globally reachable is still an infrastructure service (anycast
relays, AS112 DNS sinks, identifiers that route nowhere), never a web page or a webhook receiver.
Then a canary on 127.0.0.1: addresses that mean 127.0.0.1 (6to4, NAT64, IPv4-mapped) are refused
before any connection is tried.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from server.adapters.address_blocks import refused
from server.adapters.webhook_http import AddressGuard, HttpPoster
from server.chat.kernel.outbound import AddressRefused


@dataclass(frozen=True)
class Entry:
    block: str
    name: str
    rfc: str
    globally_reachable: bool | None  # IANA's column; None where it says N/A
    decision: str  # "refuse" or "embedded"
    reason: str


LOCAL = "not globally reachable"
SERVICE = "globally reachable, but an infrastructure service: nothing a webhook or a page lives on"
NOT_HOSTS = "not addresses of hosts at all"

# IANA IPv4 Special-Purpose Address Registry (as of 2026), in the registry's order, then the blocks
# the address space registry sets apart: multicast and the limited broadcast.
IPV4 = [
    Entry("0.0.0.0/8", '"This network"', "RFC 791", False, "refuse", LOCAL),
    Entry("0.0.0.0/32", '"This host on this network"', "RFC 1122", False, "refuse", LOCAL),
    Entry("10.0.0.0/8", "Private-Use", "RFC 1918", False, "refuse", LOCAL),
    Entry("100.64.0.0/10", "Shared Address Space", "RFC 6598", False, "refuse", LOCAL),
    Entry("127.0.0.0/8", "Loopback", "RFC 1122", False, "refuse", LOCAL),
    Entry("169.254.0.0/16", "Link Local", "RFC 3927", False, "refuse", LOCAL + " (cloud metadata)"),
    Entry("172.16.0.0/12", "Private-Use", "RFC 1918", False, "refuse", LOCAL),
    Entry("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890", False, "refuse", LOCAL),
    Entry("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", False, "refuse", LOCAL),
    Entry("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", False, "refuse", LOCAL),
    Entry("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", True, "refuse", SERVICE),
    Entry("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", True, "refuse", SERVICE),
    Entry("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050", False, "refuse", LOCAL),
    Entry("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050", False, "refuse", LOCAL),
    Entry("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", False, "refuse", LOCAL),
    Entry("192.31.196.0/24", "AS112-v4", "RFC 7535", True, "refuse", SERVICE + " (DNS sinks)"),
    Entry("192.52.193.0/24", "AMT", "RFC 7450", True, "refuse", SERVICE + " (multicast relays)"),
    Entry("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", False, "refuse", LOCAL),
    Entry("192.168.0.0/16", "Private-Use", "RFC 1918", False, "refuse", LOCAL),
    Entry("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", True, "refuse", SERVICE),
    Entry("198.18.0.0/15", "Benchmarking", "RFC 2544", False, "refuse", LOCAL),
    Entry("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", False, "refuse", LOCAL),
    Entry("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", False, "refuse", LOCAL),
    Entry("240.0.0.0/4", "Reserved", "RFC 1112", False, "refuse", LOCAL),
    Entry("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919", False, "refuse", LOCAL),
    Entry("224.0.0.0/4", "Multicast (address space registry)", "RFC 5771", None, "refuse", NOT_HOSTS),
]

# IANA IPv6 Special-Purpose Address Registry (as of 2026), in the registry's order, then what the
# IPv6 address space registry sets apart: site-local (deprecated), multicast, IPv4-compatible.
IPV6 = [
    Entry("::1/128", "Loopback Address", "RFC 4291", False, "refuse", LOCAL),
    Entry("::/128", "Unspecified Address", "RFC 4291", False, "refuse", LOCAL),
    Entry("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", False, "embedded", "it is the IPv4 address"),
    Entry("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", True, "embedded", "a NAT64 reaches the IPv4"),
    Entry("64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", False, "refuse", LOCAL + " (local NAT64)"),
    Entry("100::/64", "Discard-Only Address Block", "RFC 6666", False, "refuse", LOCAL),
    Entry("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", False, "refuse", LOCAL),
    Entry("2001::/23", "IETF Protocol Assignments", "RFC 2928", False, "refuse", LOCAL),
    Entry("2001::/32", "TEREDO", "RFC 4380, RFC 8190", None, "refuse", "its IPv4 is obfuscated: a tunnel"),
    Entry("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", True, "refuse", SERVICE),
    Entry("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", True, "refuse", SERVICE),
    Entry(
        "2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", True, "refuse", SERVICE
    ),
    Entry("2001:2::/48", "Benchmarking", "RFC 5180, RFC Errata 1752", False, "refuse", LOCAL),
    Entry("2001:3::/32", "AMT", "RFC 7450", True, "refuse", SERVICE + " (multicast relays)"),
    Entry("2001:4:112::/48", "AS112-v6", "RFC 7535", True, "refuse", SERVICE + " (DNS sinks)"),
    Entry("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", False, "refuse", LOCAL),
    Entry("2001:20::/28", "ORCHIDv2", "RFC 7343", True, "refuse", NOT_HOSTS + ": identifiers, not routed"),
    Entry(
        "2001:30::/28",
        "Drone Remote ID Protocol Entity Tags (DETs) Prefix",
        "RFC 9374",
        True,
        "refuse",
        NOT_HOSTS,
    ),
    Entry("2001:db8::/32", "Documentation", "RFC 3849", False, "refuse", LOCAL),
    Entry("2002::/16", "6to4", "RFC 3056", None, "embedded", "a 6to4 relay reaches the IPv4 inside"),
    Entry("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", True, "refuse", SERVICE),
    Entry("3fff::/20", "Documentation", "RFC 9637", False, "refuse", LOCAL),
    Entry("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", False, "refuse", LOCAL),
    Entry("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", False, "refuse", LOCAL + " (fd00:ec2::254)"),
    Entry("fe80::/10", "Link-Local Unicast", "RFC 4291", False, "refuse", LOCAL),
    Entry("fec0::/10", "Site-local (deprecated, address space registry)", "RFC 3879", None, "refuse", LOCAL),
    Entry("ff00::/8", "Multicast (address space registry)", "RFC 4291", None, "refuse", NOT_HOSTS),
    Entry("::/96", "IPv4-compatible (deprecated)", "RFC 4291", None, "refuse", "deprecated: no host has one"),
]

REGISTRY = IPV4 + IPV6
REFUSED_BLOCKS = [entry for entry in REGISTRY if entry.decision == "refuse"]
EMBEDDING = [entry for entry in REGISTRY if entry.decision == "embedded"]
PUBLIC_V4 = ["8.8.8.8", "93.184.216.34", "1.1.1.1"]


def samples(block: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The first, a middle and the last address of ``block``."""
    network = ipaddress.ip_network(block)
    middle = network.network_address + network.num_addresses // 2
    return [network.network_address, middle, network.broadcast_address]


def embed(block: str, ipv4: str) -> ipaddress.IPv6Address:
    """``ipv4`` inside the 6to4 prefix (bits 16-47) or at the end of a /96."""
    inner = int(ipaddress.IPv4Address(ipv4))
    network = ipaddress.IPv6Network(block)
    shift = 80 if network.prefixlen == 16 else 0
    return ipaddress.IPv6Address(int(network.network_address) | inner << shift)


def test_the_registry_data_is_decided_entry_by_entry() -> None:
    assert {entry.decision for entry in REGISTRY} == {"refuse", "embedded"}
    assert all(entry.reason and entry.rfc.startswith("RFC") for entry in REGISTRY)
    assert len({entry.block for entry in REGISTRY}) == len(REGISTRY)


@pytest.mark.parametrize("entry", REFUSED_BLOCKS, ids=lambda entry: entry.block)
def test_every_address_of_a_refused_block_is_refused(entry: Entry) -> None:
    assert [str(a) for a in samples(entry.block) if not refused(a)] == [], entry.reason


@pytest.mark.parametrize("entry", EMBEDDING, ids=lambda entry: entry.block)
@pytest.mark.parametrize(
    "ipv4", [sample for e in REFUSED_BLOCKS if e.block.count(".") for sample in samples(e.block)[:1]]
)
def test_an_address_that_carries_a_refused_ipv4_is_refused(entry: Entry, ipv4: ipaddress.IPv4Address) -> None:
    assert refused(embed(entry.block, str(ipv4))), f"{entry.name} carrying {ipv4}"


@pytest.mark.parametrize("entry", EMBEDDING, ids=lambda entry: entry.block)
@pytest.mark.parametrize("ipv4", PUBLIC_V4)
def test_an_address_that_carries_a_public_ipv4_passes(entry: Entry, ipv4: str) -> None:
    assert not refused(embed(entry.block, ipv4)), f"{entry.name} carrying {ipv4}"


@pytest.mark.parametrize(
    "address",
    [*PUBLIC_V4, "2606:4700:4700::1111", "2a00:1450:4007:80e::200e", "2001:4860:4860::8888", "2400:cb00::1"],
)
def test_ordinary_public_addresses_pass(address: str) -> None:
    assert not refused(ipaddress.ip_address(address))


@asynccontextmanager
async def canary() -> AsyncIterator[tuple[int, list[object]]]:
    """A listener on 127.0.0.1 that records every connection it accepts: its port and the list."""
    seen: list[object] = []

    def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(writer.get_extra_info("peername"))
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    "host", ["2002:7f00:1::", "2002:7f00:1:1:2:3:4:5", "64:ff9b::7f00:1", "::ffff:127.0.0.1", "::7f00:1"]
)
async def test_an_address_that_means_loopback_is_refused_before_any_connection(host: str) -> None:
    poster = HttpPoster(AddressGuard(), timeout=2.0)
    async with canary() as (port, seen):
        try:
            with pytest.raises(AddressRefused, match="not a public address"):
                await poster.post(f"http://[{host}]:{port}/hook", {}, b"{}")
        finally:
            await poster.close()
    assert seen == []
