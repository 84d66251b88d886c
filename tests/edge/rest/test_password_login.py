"""``PARLEY_PASSWORD_LOGIN=off`` and ``GET /api/auth/methods`` (PROTOCOL.md section 14).

With passwords off, registration and login are 403 ``forbidden`` for everyone (the gateways'
too: they call the same service); bots' API tokens and the operator's ``parley token`` keep
working, and so does single sign-on. Without single sign-on configured, its routes are 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import socketio

from server.config import Settings
from tests.contract import assert_error
from tests.sso_support import Provider, sign_in, sso_settings
from tests.support import PASSWORD, LiveServer, bearer, running, user_count
from tests.support import test_settings as make_settings

ADMIN_PASSWORD = "tangerine-kettle-49"


@pytest.fixture
async def plain(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A server with the default settings: passwords on, no single sign-on."""
    async with running(make_settings(tmp_path / "plain")) as live:
        yield live


async def test_methods_without_single_sign_on(plain: LiveServer):
    response = await plain.http.get("/api/auth/methods")
    assert response.status_code == 200
    assert response.json() == {"password": True, "oidc": None, "registration": "open"}


async def test_single_sign_on_routes_are_404_when_it_is_not_configured(plain: LiveServer):
    for path in ("/api/auth/oidc/login", "/api/auth/oidc/callback?state=a&code=b"):
        assert_error(await plain.http.get(path), 404, "not_found")
    assert_error(await plain.http.post("/api/auth/oidc/token", json={"code": "x"}), 404, "not_found")


@pytest.fixture
def settings(tmp_path: Path, oidc: Provider) -> Settings:
    return sso_settings(tmp_path / "data", oidc.issuer, password_login=False, oidc_name="Example ID")


async def test_with_passwords_off_only_single_sign_on_bots_and_operator_tokens_sign_in(
    live_server: LiveServer, oidc: Provider
):
    await oidc.configure(live_server.url)
    methods = await live_server.http.get("/api/auth/methods")
    assert methods.json() == {"password": False, "oidc": {"name": "Example ID"}, "registration": "open"}

    register = await live_server.http.post("/api/users", json={"username": "mallory", "password": PASSWORD})
    assert_error(register, 403, "forbidden")
    await live_server.chat.users.create("olga", PASSWORD)  # ``parley user create``: an operator's
    login = await live_server.http.post("/api/auth/login", json={"username": "olga", "password": PASSWORD})
    assert_error(login, 403, "forbidden")
    wrong = await live_server.http.post("/api/auth/login", json={"username": "olga", "password": "wrong"})
    assert_error(wrong, 403, "forbidden")  # no password is even checked
    gateway = await live_server.http.post(
        "/compat/messenger/user/login", json={"Username": "olga", "Password": PASSWORD}
    )
    assert gateway.status_code == 403  # the compatibility gateways call the same service

    operator = await live_server.chat.users.issue_token("olga")  # ``parley token olga``
    assert (await live_server.http.get("/api/users/me", headers=bearer(operator.token))).status_code == 200

    person = (await sign_in(live_server, "alice"))["token"]
    made = await live_server.http.post("/api/bots", json={"username": "helper"}, headers=bearer(person))
    assert made.status_code == 201, made.text
    issued = await live_server.http.post("/api/bots/helper/tokens", json={}, headers=bearer(person))
    assert issued.status_code == 201, issued.text
    as_bot = await live_server.http.get("/api/users/me", headers=bearer(issued.json()["token"]))
    assert as_bot.status_code == 200 and as_bot.json()["username"] == "helper"
    assert await user_count(live_server) == 3  # olga, alice, the bot: no mallory


async def test_the_admin_ui_keeps_its_own_login_with_passwords_off(tmp_path: Path):
    settings = sso_settings(
        tmp_path / "data",
        "http://127.0.0.1:9",  # never reached: nobody signs in with it here
        password_login=False,
        admin_ui=True,
        admin_password=ADMIN_PASSWORD,
    )
    async with running(settings) as live:
        # The Admin UI signs in on its own namespace with PARLEY_ADMIN_USERNAME/PASSWORD.
        admin = socketio.AsyncClient(reconnection=False)
        await admin.connect(
            live.url,
            namespaces=["/admin"],
            auth={"username": "admin", "password": ADMIN_PASSWORD},
            wait_timeout=10,
        )
        assert admin.connected
        await admin.disconnect()
