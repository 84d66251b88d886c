"""A socket signed in with a token the application signed (PROTOCOL.md section 17), end to end.

A real server whose settings name the application's key set (``PARLEY_APP_JWKS_URL``), served by
a local web site (tests/app_tokens_support.py) that the server reaches through its address guard
(the key set's host is the one the operator named), and a python-socketio client. The token's
``exp`` bounds the socket as section 3's refresh says: ``auth:expiring``, ``auth:refresh`` with
a new token of the application, the disconnect at its expiry, ``token_expired`` after. Every
wait is for an event, bounded. The rules themselves are tests/chat/accounts/test_app_tokens.py's.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from server.chat.kernel.views import iso_required
from server.config import Settings
from tests.app_tokens_support import Signer, Site
from tests.edge.sio.test_connect import assert_refused, socket
from tests.support import WAIT, LiveServer, bearer
from tests.support import test_settings as settings_for

ISSUER = "https://app.example"
NOTICE = 4.0  # PARLEY_EXPIRY_NOTICE: the slack to refresh in (why 4: tests/edge/sio/test_token_refresh.py)
SHORT = 6  # seconds a short token lives (5 to 6: its expiry is whole seconds)


@pytest.fixture
def settings(tmp_path: Path, app_site: Site) -> Settings:
    """``live_server``'s settings: the application's key set at the test's site."""
    return settings_for(tmp_path / "data", app_jwks_url=app_site.url, app_issuer=ISSUER, expiry_notice=NOTICE)


def signed(key: Signer, lifetime: int, **changes: Any) -> tuple[str, datetime]:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "ivy-1", "preferred_username": "ivy", "iat": now, "exp": now + lifetime}
    claims.update(changes)
    return key.sign(claims), datetime.fromtimestamp(claims["exp"], UTC)


async def test_a_socket_lives_as_long_as_its_application_token_and_takes_a_new_one(live_server, app_site):
    key = Signer("app-key-1", "ES256")
    app_site.published = [key.jwk]
    first, first_expiry = signed(key, SHORT)
    me = await live_server.http.get("/api/users/me", headers=bearer(first))
    assert me.status_code == 200 and me.json()["username"] == "ivy"  # REST's Bearer, the first token

    ivy = await live_server.connect("ivy", first)
    notice = await ivy.next("auth:expiring", WAIT + SHORT)
    assert notice == {"expires_at": iso_required(first_expiry)}
    second, second_expiry = signed(key, SHORT + 2)
    assert await ivy.ok("auth:refresh", {"token": second}) == {"expires_at": iso_required(second_expiry)}
    assert second_expiry > first_expiry

    await asyncio.wait_for(ivy.sio.wait(), WAIT + SHORT + 2)  # closed at the second token's expiry
    assert time.time() >= second_expiry.timestamp() - 0.1, "not before the expiry"
    async with socket(live_server.url, auth={"token": second}) as attempt:
        assert_refused(attempt, "token_expired")
    assert app_site.reads == 1  # the key set was read once


async def test_a_forged_application_token_is_refused_at_connect(live_server: LiveServer, app_site):
    key, stranger = Signer("app-key-1"), Signer("app-key-1")
    app_site.published = [key.jwk]
    forged, _ = signed(stranger, 60)
    async with socket(live_server.url, auth={"token": forged}) as attempt:
        assert_refused(attempt, "unauthorized")
    response = await live_server.http.get("/api/users/me", headers=bearer(forged))
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
