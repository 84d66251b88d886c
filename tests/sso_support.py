"""Single sign-on's tests: a real OpenID Connect provider and a person going through it.

The provider is the OpenID-certified ``oidc-provider`` from npm (``tests/js/oidc_provider.mjs``),
a Node process on 127.0.0.1 that ends with its stdin (killed by its pid if it does not). Its
development login page signs in any password for a login of its accounts (``alice``, ``ada.l``,
``carol``, ``dora``); its consent page asks once per sign-in.

``through_provider`` is a browser's part of the flow over plain HTTP: Parley's login redirect,
the provider's redirects, its login and consent forms, up to the provider's redirect back to
Parley's callback, which it returns unvisited so that a test can replay or alter it.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from server.adapters.oidc import OidcProvider
from server.config import Settings
from tests.js.conftest import JS_DIR
from tests.support import REQUEST, LiveServer, test_settings

CLIENT_ID = "parley-tests"
CLIENT_SECRET = "the client secret of the tests: not a real one"
CALLBACK = "/api/auth/oidc/callback"
LINE_WAIT = 30.0  # a loaded two-core machine starts Node slowly; still bounded


class Provider:
    """The running provider: its issuer, and its commands (``configure``, ``rotate``)."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.issuer = f"http://127.0.0.1:{port}"

    async def configure(self, parley_url: str) -> str:
        """Serve, with Parley's callback as the client's redirect URI; the signing key's id."""
        return await self._command(f"redirect {parley_url}{CALLBACK}", "ready")

    async def rotate(self) -> str:
        """A new signing key; the old one is no longer published. The new key's id."""
        return await self._command("rotate", "rotated")

    async def _command(self, line: str, answer: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()
        said = (await asyncio.wait_for(self.process.stdout.readline(), LINE_WAIT)).decode().split()
        assert said and said[0] == answer, said
        return said[1]


@asynccontextmanager
async def provider(node: str) -> AsyncIterator[Provider]:
    process = await asyncio.create_subprocess_exec(
        node,
        "oidc_provider.mjs",
        CLIENT_ID,
        CLIENT_SECRET,
        cwd=JS_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,  # oidc-provider's development-mode warnings
    )
    try:
        assert process.stdout is not None
        said = (await asyncio.wait_for(process.stdout.readline(), LINE_WAIT)).decode().split()
        assert said and said[0] == "listening", f"the provider did not start: {said}"
        yield Provider(process, int(said[1]))
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            with suppress(ProcessLookupError):
                process.kill()
            await process.wait()


def sso_settings(data_dir: Path, issuer: str, **overrides: Any) -> Settings:
    """Test settings with single sign-on at ``issuer`` (its host, 127.0.0.1, allowed as the
    issuer's)."""
    values: dict[str, Any] = {
        "oidc_issuer": issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
    }
    return test_settings(data_dir, **{**values, **overrides})


# The fixtures (tests/conftest.py imports them). A module that uses ``sso`` gives ``live_server`` its
# settings: a ``settings`` fixture of its own, made by ``sso_settings(..., oidc.issuer)``.


@pytest.fixture
async def oidc(node: str) -> AsyncIterator[Provider]:
    """The provider, running but not yet serving a client (``configure``)."""
    async with provider(node) as running:
        yield running


@pytest.fixture
async def sso(live_server: LiveServer, oidc: Provider) -> LiveServer:
    """A live server whose provider sends people back to it."""
    await oidc.configure(live_server.url)
    return live_server


def browser_client() -> httpx.AsyncClient:
    """A client that keeps cookies (the provider's session) and follows no redirect by itself."""
    return httpx.AsyncClient(timeout=REQUEST, follow_redirects=False)


async def start(client: httpx.AsyncClient, parley: str, invite: str | None = None) -> str:
    """``GET /api/auth/oidc/login`` (with an invitation's ``invite`` code): the provider's
    authorization URL it redirects to."""
    params = {"invite": invite} if invite is not None else None
    response = await client.get(f"{parley}/api/auth/oidc/login", params=params)
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def through_provider(client: httpx.AsyncClient, url: str, login: str) -> str:
    """From the authorization URL through the provider's login and consent to the callback URL."""
    for _ in range(12):
        response = await client.get(url)
        if response.status_code != 200:
            assert response.status_code in (302, 303), response.text
            url = urljoin(url, response.headers["location"])
            if urlsplit(url).path == CALLBACK:
                return url
            continue
        prompt = re.search(r'name="prompt" value="(\w+)"', response.text)
        action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        assert prompt and action, response.text
        fields = {"prompt": "consent"}
        if prompt[1] == "login":
            fields = {"prompt": "login", "login": login, "password": "any password"}
        answer = await client.post(urljoin(url, html.unescape(action[1])), data=fields)
        assert answer.status_code in (302, 303), answer.text
        url = urljoin(url, answer.headers["location"])
    raise AssertionError("the provider never sent the browser back")


async def callback_url(client: httpx.AsyncClient, parley: str, login: str, invite: str | None = None) -> str:
    return await through_provider(client, await start(client, parley, invite), login)


async def one_time_code(client: httpx.AsyncClient, callback: str) -> str:
    """Visit the callback; the one-time code of the page's fragment."""
    response = await client.get(callback)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith("/#oidc_code="), location
    return location.removeprefix("/#oidc_code=")


async def sign_in(live: LiveServer, login: str, invite: str | None = None) -> dict[str, Any]:
    """The whole flow for ``login`` (started from an invitation's ``invite`` code): the token
    answer of ``POST /api/auth/oidc/token``."""
    async with browser_client() as client:
        code = await one_time_code(client, await callback_url(client, live.url, login, invite))
    response = await live.http.post("/api/auth/oidc/token", json={"code": code})
    assert response.status_code == 200, response.text
    return cast(dict[str, Any], response.json())


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def adapter(live: LiveServer) -> OidcProvider:
    """The server's provider adapter (its key cache: ``keys.fetches``)."""
    found = live.chat.sso.provider
    assert isinstance(found, OidcProvider)
    return found
