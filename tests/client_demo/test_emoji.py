"""The client demo and custom emoji (PROTOCOL.md section 13): ``emoji`` (one-shot) and ``/emoji``
(the REPL) list the workspace's custom emoji, and ``react ID :name:`` reacts with one; others see
the reaction as they see any."""

from __future__ import annotations

import io
import json

from PIL import Image

from tests.client_demo.conftest import Spawn
from tests.client_demo.demo import run_demo
from tests.client_demo.test_oneshot import login_args
from tests.support import PASSWORD, LiveServer, bearer, general_with, send


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 48), "purple").save(out, format="PNG")
    return out.getvalue()


async def add(live_server: LiveServer, token: str, name: str) -> None:
    made = await live_server.http.post(
        "/api/emoji",
        headers=bearer(token),
        data={"name": name},
        files={"file": ("e.png", png(), "image/png")},
    )
    assert made.status_code == 201, made.text


async def test_list_custom_emoji_and_react_with_one(live_server: LiveServer) -> None:
    owner_token = await live_server.register("olive")  # the first account: the owner
    await add(live_server, owner_token, "shipit")
    await add(live_server, owner_token, "party-parrot")
    olive = await live_server.connect("olive", owner_token)
    await live_server.register("bob")
    bob_socket = await live_server.user("bobby")
    await general_with(olive, bob_socket)
    message = await send(olive, {"topic": "general", "body": "released"})

    listed = await run_demo(*login_args(live_server, "bob"), "emoji", stdin=PASSWORD + "\n")
    assert (listed.code, listed.out) == (0, [":party-parrot: by olive", ":shipit: by olive"]), listed.err
    as_json = await run_demo(*login_args(live_server, "bob"), "emoji", "--json", stdin=PASSWORD + "\n")
    assert [json.loads(line)["name"] for line in as_json.out] == ["party-parrot", "shipit"]

    reacted = await run_demo(
        *login_args(live_server, "bobby"),
        "react",
        str(message["id"]),
        ":shipit:",
        "--json",
        stdin=PASSWORD + "\n",
    )
    assert reacted.code == 0, reacted.err
    reactions = json.loads(reacted.out[0])["reactions"]
    assert [(r["emoji"], r["users"]) for r in reactions] == [(":shipit:", ["bobby"])]
    seen = await olive.next("reaction:updated")
    assert seen["reactions"][0]["emoji"] == ":shipit:"


async def test_the_repl_lists_custom_emoji(live_server: LiveServer, spawn: Spawn) -> None:
    owner_token = await live_server.register("olive")
    alice = await spawn("--user", "alice", "--password-stdin", "--register")
    await alice.write(PASSWORD)
    await alice.expect("type /help")
    await alice.write("/emoji")
    await alice.expect("no custom emoji yet")
    await add(live_server, owner_token, "wave2")
    await alice.write("/emoji")
    await alice.expect(":wave2: by olive")
    await alice.write("/quit")
    await alice.expect("bye")
    assert await alice.wait() == 0, alice.transcript()
    assert not any("Traceback" in line for line in alice.err)
