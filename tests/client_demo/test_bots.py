"""Bots and incoming webhooks in the client demo (PROTOCOL.md section 12), against a real server:
``/bot create``, ``/bot token`` (a token that connects), ``/hook`` (a URL that posts), and the
``[bot]`` marker on bot messages."""

from __future__ import annotations

import re

from client_demo import render
from tests.client_demo.conftest import Spawn
from tests.client_demo.demo import demo_env
from tests.client_demo.test_render import message
from tests.support import LiveServer, send


def test_a_bot_message_is_marked_after_its_sender():
    assert "alice [bot]: yes, agreed" in render.message_line(message(sender="alice", bot=True))
    assert "[bot]" not in render.message_line(message(bot=False))


async def test_bot_create_and_token_give_a_token_that_connects(live_server: LiveServer, spawn: Spawn) -> None:
    alice = await spawn(env=demo_env(PARLEY_TOKEN=await live_server.register("alice")))
    await alice.expect("type /help")
    await alice.write("/bot create helper")
    await alice.expect("created bot helper (owner alice)")
    await alice.write("/bot token helper deploys")
    line = await alice.expect("token for helper (shown once): pb_")
    token = re.search(r"(pb_\S+)", line).group(1)
    await alice.write("/create den")
    await alice.expect("created den (public)")
    await alice.write("/join den")
    await alice.expect("joined den")

    bot = await live_server.connect("helper", token)
    await bot.ok("topic:subscribe", {"topic": "den"})
    await send(bot, {"topic": "den", "body": "build passed"})

    await alice.expect("helper [bot]: build passed")
    await alice.write("/bot create helper")
    assert "conflict" in await alice.expect("error:", stream="err")
    await alice.write("/bot")
    await alice.expect("usage: /bot create NAME", stream="err")


async def test_hook_prints_a_url_that_posts_as_the_hooks_bot(live_server: LiveServer, spawn: Spawn) -> None:
    alice = await spawn(env=demo_env(PARLEY_TOKEN=await live_server.register("alice")))
    await alice.expect("type /help")
    await alice.write("/create den")
    await alice.expect("created den (public)")
    await alice.write("/join den")
    await alice.expect("joined den")

    await alice.write("/hook")
    line = await alice.expect("of den (URL shown once): http")
    url = line.split("): ", 1)[1].strip()
    posted = await live_server.http.post(url, json={"text": "deployed"})

    assert posted.status_code == 200, posted.text
    await alice.expect("den-hook [bot]: deployed")
    await alice.write("/hook nowhere")
    assert "not_found" in await alice.expect("error:", stream="err")
