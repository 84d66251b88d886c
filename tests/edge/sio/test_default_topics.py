"""Default topics: every new account is a member of the public ``lobby`` (setting ``default_topics``)."""

from __future__ import annotations

from pathlib import Path

from tests.support import LiveServer, running
from tests.support import test_settings as settings_with


async def test_a_new_account_is_subscribed_to_the_public_lobby(live_server: LiveServer) -> None:
    carol = await live_server.user("carol")

    topics = {t["name"]: t for t in (await carol.ok("topic:list"))["topics"]}

    lobby = topics["lobby"]
    assert lobby["kind"] == "public" and lobby["subscribed"] is True
    assert lobby["members"] == 1


async def test_the_lobby_shows_a_newcomer_what_was_said_before_the_account_existed(
    live_server: LiveServer,
) -> None:
    alice = await live_server.user("alice")
    welcome = await alice.ok("message:send", {"topic": "lobby", "body": "welcome, whoever comes next"})

    carol = await live_server.user("carol")

    page = await carol.ok("history", {"topic": "lobby"})
    assert page["messages"] == [welcome] and page["has_more"] is False


async def test_a_newcomer_talks_in_the_lobby_without_subscribing(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    carol = await live_server.user("carol")

    sent = await carol.ok("message:send", {"topic": "lobby", "body": "hello, everyone"})

    assert await alice.next("message") == sent
    assert sent["topic"] == "lobby" and sent["seq"] == 1


async def test_the_default_topics_come_from_the_settings(tmp_path: Path) -> None:
    async with running(settings_with(tmp_path / "data", default_topics=["lobby", "news"])) as live_server:
        carol = await live_server.user("carol")

        topics = {t["name"]: t for t in (await carol.ok("topic:list"))["topics"]}

        assert {name for name, t in topics.items() if t["subscribed"]} == {"lobby", "news"}
        assert topics["news"]["kind"] == "public"
