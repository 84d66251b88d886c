"""Requests to an issuer of identities (an OpenID Connect provider, an application's key set)
through the address guard.

Every request goes through ``webhook_http.AddressGuard`` (non-public addresses are refused unless
their host is allowed; the composition allows the host the operator named), to the address it
checked (``pinned``: no second resolution), with a timeout, no redirect followed, and a 1 MiB cap
on the answer. Every failure is the domain's ``IdentityRefused``, its reason naming ``who``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from server.adapters.tls import verifying_context
from server.adapters.webhook_http import AddressGuard, pinned
from server.chat.accounts.identities import IdentityRefused
from server.chat.kernel.outbound import AddressRefused

TIMEOUT = 5.0
BODY_CAP = 1024 * 1024


class GuardedFetch:
    """One HTTP client whose requests go only where ``guard`` lets them."""

    def __init__(self, guard: AddressGuard, *, who: str, timeout: float = TIMEOUT) -> None:
        self.guard = guard
        self.who = who  # "the provider", "the application": what a refusal's reason names
        self.timeout = timeout
        self.client = httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, trust_env=False, verify=verifying_context()
        )

    async def get_json(self, url: str) -> dict[str, Any]:
        """The JSON object at ``url`` (status 200 only)."""
        status, body = await self.send("GET", url, {}, None)
        if status != 200:
            raise IdentityRefused(f"{self.who}'s document could not be read", f"{url}: status {status}")
        return self.json_object(body)

    async def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        """One request to the address the guard checked; the status and at most ``BODY_CAP`` bytes."""
        try:
            parsed, address = await self.guard.address(url)
        except AddressRefused as exc:
            raise IdentityRefused(f"{self.who}'s address is not allowed", str(exc)) from None
        target, host, extensions = pinned(parsed, address)
        headers = {**headers, "Host": host, "Accept": "application/json"}
        try:
            async with asyncio.timeout(self.timeout):
                request = self.client.build_request(
                    method, target, content=body, headers=headers, extensions=extensions
                )
                response = await self.client.send(request, stream=True)
                try:
                    return response.status_code, await self._capped(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise IdentityRefused(f"{self.who} did not answer in time", url) from None
        except httpx.HTTPError as exc:
            reason = f"{self.who} could not be reached"
            raise IdentityRefused(reason, f"{url}: {type(exc).__name__}") from None

    async def _capped(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > BODY_CAP:
                raise IdentityRefused(f"{self.who}'s answer is too large")
            chunks.append(chunk)
        return b"".join(chunks)

    def json_object(self, body: bytes) -> dict[str, Any]:
        try:
            found = json.loads(body)
        except ValueError:
            raise IdentityRefused(f"{self.who}'s answer is not JSON") from None
        if not isinstance(found, dict):
            raise IdentityRefused(f"{self.who}'s answer is not a JSON object")
        return found

    async def close(self) -> None:
        await self.client.aclose()
