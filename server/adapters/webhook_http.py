"""The webhooks' HTTP side (PROTOCOL.md section 12): the SSRF guard and the poster.

The guard resolves a URL's host (``loop.getaddrinfo``) and refuses it when ANY address it
resolves to is not a public unicast one (``address_blocks.refused``: the IANA special-purpose
registries, with an IPv4 carried in IPv4-mapped, NAT64 or 6to4 form deciding for it). Hosts named
in ``PARLEY_WEBHOOK_ALLOW_HOSTS`` (names or IP literals, compared case-insensitively) skip the check.

The poster connects to the address that was checked, never resolving again (a DNS answer that
changes between the check and the connection cannot redirect it): the request's URL carries the
IP, the ``Host`` header the original host and, for ``https``, the TLS server name (SNI and
certificate check) the original host too (``sni_hostname``). Redirects are not followed (a 3xx
is an answer: not 2xx and not retried); the response body is read to at most ``BODY_CAP`` bytes;
the whole exchange is bounded by the timeout (10 s).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from server.adapters.address_blocks import Address, refused
from server.chat.kernel.outbound import AddressRefused, DeliveryFailed, Response

if TYPE_CHECKING:  # imported where used: the command line builds a poster and never posts
    import httpx

BODY_CAP = 64 * 1024


class AddressGuard:
    def __init__(self, allow_hosts: Iterable[str] = ()) -> None:
        self.allow_hosts = frozenset(host.strip().lower().strip("[]") for host in allow_hosts if host.strip())

    async def check(self, url: str) -> None:
        await self.address(url)

    async def address(self, url: str) -> tuple[httpx.URL, Address]:
        """The URL and the address to connect to, every address of its host checked; raises
        ``AddressRefused``."""
        import httpx

        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise AddressRefused(f"not a valid URL: {exc}") from exc
        host = parsed.host.lower()
        if parsed.scheme not in ("http", "https") or not host:
            raise AddressRefused("only http:// and https:// URLs with a host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = await _resolve(host, port)
        if not addresses:
            raise AddressRefused(f"{host} does not resolve")
        if host not in self.allow_hosts:
            for address in addresses:
                if refused(address):
                    raise AddressRefused(f"{host} resolves to {address}, not a public address: refused")
        return parsed, addresses[0]


async def _resolve(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise AddressRefused(f"{host} does not resolve: {exc}") from exc
    found: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


class HttpPoster:
    """POSTs deliveries with httpx to the address the guard checked."""

    def __init__(self, guard: AddressGuard, timeout: float = 10.0, *, lazy: bool = False) -> None:
        """``lazy``: the client is made at the first post, not now. The command line's chat has a
        poster but runs no webhook worker: it then never imports httpx nor reads the CA bundle
        (with the page source's client, over a tenth of a second of every `parley` command's
        start). A server's are lazy too: that tenth of a second was on a restarted server's way
        to answering its reconnecting clients; ``server.app`` warms httpx and the CA bundle in a
        thread once it has started, so the first post makes only the client."""
        self.guard = guard
        self.timeout = timeout
        self._client = LazyClient(partial(_client, timeout), lazy=lazy)

    @property
    def client(self) -> httpx.AsyncClient:
        return self._client.get()

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Response:
        import httpx

        parsed, address = await self.guard.address(url)
        target, host, extensions = pinned(parsed, address)
        try:
            async with asyncio.timeout(self.timeout):
                request = self.client.build_request(
                    "POST", target, content=body, headers={**headers, "Host": host}, extensions=extensions
                )
                response = await self.client.send(request, stream=True)
                try:
                    received = await _capped(response)
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise DeliveryFailed(f"no answer within {self.timeout} s") from exc
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        return Response(response.status_code, received, response.headers.get("content-type", ""))

    async def close(self) -> None:
        await self._client.close()


class LazyClient:
    """An httpx client made now or, ``lazy``, at its first use; closed only if it was made. The
    poster and the link previews' page source share it: the command line's chat holds both but
    runs neither worker, and then never imports httpx nor reads the CA bundle."""

    def __init__(self, make: Callable[[], httpx.AsyncClient], *, lazy: bool) -> None:
        self._make = make
        self._made = None if lazy else make()

    def get(self) -> httpx.AsyncClient:
        if self._made is None:
            self._made = self._make()
        return self._made

    async def close(self) -> None:
        if self._made is not None:
            await self._made.aclose()


def _client(timeout: float) -> httpx.AsyncClient:
    import httpx

    from server.adapters.tls import verifying_context

    return httpx.AsyncClient(
        timeout=timeout, follow_redirects=False, trust_env=False, verify=verifying_context()
    )


def pinned(parsed: httpx.URL, address: Address) -> tuple[httpx.URL, str, dict[str, Any]]:
    """How to send a request for ``parsed`` to the checked ``address``, never resolving again: the
    URL with the address as its host, the ``Host`` header, and the request extensions that make
    TLS name and verify the original host (``sni_hostname``). The host goes on the wire as ASCII
    (an international name in its ``xn--`` form: ``parsed.host`` is the Unicode one, which no
    header may carry). The link previews use it too."""
    target = parsed.copy_with(host=str(address))
    name = parsed.raw_host.decode("ascii")
    host = name if parsed.port is None else f"{name}:{parsed.port}"
    if ":" in name and parsed.port is not None:
        host = f"[{name}]:{parsed.port}"
    elif ":" in name:
        host = f"[{name}]"
    extensions: dict[str, Any] = {"sni_hostname": name} if parsed.scheme == "https" else {}
    return target, host, extensions


async def _capped(response: httpx.Response) -> bytes:
    """At most ``BODY_CAP`` bytes of the body; the rest is not read."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk[: BODY_CAP - size])
        size += len(chunks[-1])
        if size >= BODY_CAP:
            break
    return b"".join(chunks)
