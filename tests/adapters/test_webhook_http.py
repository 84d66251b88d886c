"""The SSRF guard and the poster (PROTOCOL.md section 12), against real sockets on 127.0.0.1."""

from __future__ import annotations

import ipaddress

import pytest

from server.adapters.webhook_http import BODY_CAP, AddressGuard, HttpPoster, LazyClient, refused
from server.chat.kernel.outbound import AddressRefused, DeliveryFailed
from tests.receiver import Reply, receiving

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.1.1",
    "0.0.0.0",
    "100.64.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address):
    assert refused(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_unicast_addresses_pass(address):
    assert not refused(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/", "http://[::1]:8080/", "http://localhost/", "https://LOCALHOST./x"]
)
async def test_the_guard_refuses_loopback_by_address_or_by_name(url):
    with pytest.raises(AddressRefused):
        await AddressGuard().check(url)


async def test_an_allowed_host_passes_and_is_compared_without_case():
    await AddressGuard(["LocalHost", "127.0.0.1"]).check("http://localhost:9/")
    await AddressGuard(["127.0.0.1"]).check("http://127.0.0.1:9/")
    with pytest.raises(AddressRefused):
        await AddressGuard(["127.0.0.1"]).check("http://localhost:9/")  # the name is not allowed


async def test_a_host_that_does_not_resolve_is_refused():
    with pytest.raises(AddressRefused):
        await AddressGuard().check("http://no-such-host.invalid/")


async def test_the_poster_connects_to_the_checked_address_with_the_original_host_header():
    async with receiving() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        poster = HttpPoster(AddressGuard(["localhost"]))
        try:
            response = await poster.post(f"http://localhost:{port}/hook", {"X-Test": "1"}, b"{}")
        finally:
            await poster.close()
    assert response.code == 200
    (received,) = receiver.received
    assert received.headers["Host"] == f"localhost:{port}" and received.headers["X-Test"] == "1"


async def test_the_poster_reads_at_most_the_cap_of_an_answer():
    async with receiving() as receiver:
        receiver.default = Reply(200, json={"text": "x" * (BODY_CAP * 4)})
        poster = HttpPoster(AddressGuard(["127.0.0.1"]))
        try:
            response = await poster.post(receiver.url, {}, b"{}")
        finally:
            await poster.close()
    assert response.code == 200 and len(response.body) == BODY_CAP


async def test_a_refused_connection_is_a_failed_delivery_not_a_crash():
    async with receiving() as receiver:
        url = receiver.url
    poster = HttpPoster(AddressGuard(["127.0.0.1"]))
    try:
        with pytest.raises(DeliveryFailed):
            await poster.post(url, {}, b"{}")
    finally:
        await poster.close()


async def test_a_lazy_client_is_made_at_its_first_use_and_closed_only_if_made():
    made: list[object] = []

    def make():
        import httpx

        client = httpx.AsyncClient()
        made.append(client)
        return client

    never = LazyClient(make, lazy=True)
    await never.close()  # nothing to close: nothing made
    assert made == []

    lazy = LazyClient(make, lazy=True)
    first = lazy.get()
    assert made == [first] and lazy.get() is first  # one client, made once
    await lazy.close()
    assert first.is_closed

    eager = LazyClient(make, lazy=False)
    assert len(made) == 2 and eager.get() is made[1]
    await eager.close()
    assert made[1].is_closed
