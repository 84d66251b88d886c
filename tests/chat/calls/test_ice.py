"""The ICE servers a join hands out (PROTOCOL.md section 18): the STUN/TURN URLs of the settings,
and on the TURN ones the TURN REST API credential coturn's ``use-auth-secret`` checks, computed
here again from its definition."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from pathlib import Path

import pytest

from server.chat.calls.ice import ice_servers
from server.chat.kernel.schemas import Target
from server.config import Settings
from tests.support import test_settings as settings_for

SECRET = "coturn-static-auth-secret"
URLS = [
    "stun:turn.example.com:3478",
    "turn:turn.example.com:3478?transport=udp",
    "turns:turn.example.com:5349",
]


@pytest.fixture
def chat_settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path / "data", ice_servers=",".join(URLS), turn_secret=SECRET, turn_ttl=3600)


async def test_each_turn_url_carries_a_credential_coturn_accepts_until_the_expiry(chat, make_user):
    alice = await make_user("alice")
    await chat.topics.create(alice, "den", True)

    before = int(time.time())
    servers = (await chat.calls.start_call(alice, "sid-a", Target(topic="den"), "audio"))["ice_servers"]
    after = int(time.time())

    assert [server["urls"] for server in servers] == URLS
    assert servers[0] == {"urls": URLS[0]}  # STUN needs no credential
    for server in servers[1:]:
        expiry, name = server["username"].split(":")
        expected = base64.b64encode(
            hmac.new(SECRET.encode(), server["username"].encode(), hashlib.sha1).digest()
        )
        assert name == "alice" and before + 3600 <= int(expiry) <= after + 3600
        assert server["credential"] == expected.decode()


def test_no_servers_without_settings_and_no_credentials_without_a_secret():
    assert ice_servers([], None, 60, "alice") == []
    assert ice_servers(URLS[1:2], None, 60, "alice") == [{"urls": URLS[1]}]


def test_a_setting_that_is_not_an_ice_url_is_refused(tmp_path):
    with pytest.raises(ValueError, match="stun:, stuns:, turn: or turns:"):
        settings_for(tmp_path / "data", ice_servers="http://turn.example.com")
