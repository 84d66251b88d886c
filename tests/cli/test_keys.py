"""``parley keys create|list|revoke`` (PROTOCOL.md section 17): the key is printed once (``--json``:
``{"id", "key", "label", "scopes"}``), listed without it, and once revoked it is refused by a
running server within the relay table's second (with Redis, through the hub); bad commands say
why and store nothing."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.cli.runner import Place, parley, place_in, serving
from tests.cli.test_operator_live import WAIT, ok
from tests.support import polled

pytestmark = pytest.mark.timeout(180)
RELAYED = 5.0  # seconds: the relay's read every second, with room for a slow machine


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return place_in(tmp_path)


async def test_a_key_is_printed_once_listed_without_it_and_revoked(place):
    made = json.loads(await ok(place, "keys", "create", "--label", "shop", "--json"))
    assert set(made) == {"id", "key", "label", "scopes"}
    assert made["key"].startswith("psk_") and made["label"] == "shop"
    assert made["scopes"] == ["disconnect", "members", "presence", "publish", "users"]
    plain = await ok(place, "keys", "create", "--label", "ops", "--scope", "publish", "--scope", "as_user")
    assert plain.startswith("psk_") and "it is not shown again" in plain and "as_user, publish" in plain
    listed = json.loads(await ok(place, "keys", "list", "--json"))["keys"]
    assert [(k["label"], k["bot"], k["scopes"]) for k in listed] == [
        ("shop", "shop", made["scopes"]),
        ("ops", "ops", ["as_user", "publish"]),
    ]
    assert made["key"] not in json.dumps(listed)
    table = await ok(place, "keys", "list")
    assert table.splitlines()[0].split() == ["id", "label", "scopes", "bot", "created"]
    assert f"revoked server key {made['id']}" in await ok(place, "keys", "revoke", made["id"])
    assert [k["label"] for k in json.loads(await ok(place, "keys", "list", "--json"))["keys"]] == ["ops"]


async def test_a_running_server_refuses_a_revoked_key_at_once(place, unused_tcp_port):
    made = json.loads(await ok(place, "keys", "create", "--label", "shop", "--json"))
    key = {"Authorization": f"Bearer {made['key']}"}
    async with serving(place, unused_tcp_port) as url:
        async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
            body = {"topic": "lobby", "body": "hello from the backend"}
            sent = await http.post("/api/server/messages", headers=key, json=body)
            assert sent.status_code == 201, sent.text
            await ok(place, "keys", "revoke", made["id"])

            async def refused() -> bool:  # the relay table is read every second
                answer = await http.post("/api/server/users/nobody/tokens", headers=key, json={})
                return answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"

            await polled(refused, RELAYED)
            answer = await http.post("/api/server/messages", headers=key, json=body)
            assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"


async def test_bad_key_commands_say_why_and_store_nothing(place):
    for args, text in (
        (("keys", "create", "--label", " "), "label"),
        (("keys", "create", "--label", "x", "--scope", "root"), "invalid choice"),
        (("keys", "revoke", "0" * 32), "no server key"),
    ):
        result = await parley(place, *args)
        assert result.code != 0 and text in result.err, (args, result)
    assert json.loads(await ok(place, "keys", "list", "--json")) == {"keys": []}
