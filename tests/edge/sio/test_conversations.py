"""Conversations over Socket.IO: replies, threads, reactions, mentions, notification levels and pins
(PROTOCOL.md section 8); every refusal stores nothing.

One server per module (``server``), each test with its own users and topics (``names``); the
tests marked ``both_databases`` (threads' summaries, reactions' uniqueness, mention counts, pins,
the backlog: queries and constraints of each database) run on PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from db.models import Mention, Message, Pin, Reaction
from tests import support
from tests.contract import error_code
from tests.shared_server import Names, databases_of, own_sockets, shared_server
from tests.support import Client, LiveServer, count_rows, running, send

pytestmark = pytest.mark.asyncio(loop_scope="module")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    databases_of(metafunc)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory, request) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    async with shared_server(tmp_path_factory, request.param) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module")
async def live_server(server: LiveServer) -> AsyncIterator[LiveServer]:
    async with own_sockets(server) as live:
        yield live


@pytest.fixture
def names() -> Names:
    return Names()


async def owner_and_members(names: Names, owner: Client, *members: Client) -> None:
    """``owner`` creates the test's public topic ``names.general``; ``members`` subscribe."""
    await owner.ok("topic:create", {"name": names.general})
    for member in members:
        await member.ok("topic:subscribe", {"topic": names.general})


CONVERSATION_FIELDS = {
    "reply_to",
    "thread",
    "thread_summary",
    "reactions",
    "mentions",
    "mentions_all",
    "pinned",
    "files",
    "type",
    "system",
}


async def trio(live_server: LiveServer, names: Names) -> tuple[Client, Client, Client]:
    """alice owns ``general``; bob and carol subscribed (the test's own users and topic)."""
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    carol = await live_server.user(names.carol)
    await owner_and_members(names, alice, bob, carol)
    return alice, bob, carol


async def stored(live_server: LiveServer) -> tuple[int, ...]:
    return await count_rows(live_server, Message, Reaction, Mention, Pin)


async def refused(client: Client, event: str, payload: dict[str, Any]) -> str:
    ack = await client.call(event, payload)
    assert ack["ok"] is False, ack
    return error_code(ack)


# Message fields ----------------------------------------------------------------------------


async def test_every_message_carries_the_conversation_fields_with_plain_defaults(live_server, names):
    alice, bob, _ = await trio(live_server, names)

    sent = await send(alice, {"topic": names.general, "body": "plain"})
    live = await bob.next("message")
    page = await bob.ok("history", {"topic": names.general})

    for message in (sent, live, page["messages"][0]):
        assert CONVERSATION_FIELDS <= set(message)
        assert message["reply_to"] is None and message["thread"] is None
        assert message["thread_summary"] is None and message["reactions"] == []
        assert message["mentions"] == [] and message["mentions_all"] is False
        assert message["pinned"] is False and message["files"] == []
        assert message["type"] == "text" and message["system"] is None


# Replies -----------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_a_reply_quotes_its_message_and_the_quote_empties_when_that_is_deleted(live_server, names):
    alice, bob, _ = await trio(live_server, names)
    original = await send(alice, {"topic": names.general, "body": "x" * 150})

    reply = await send(bob, {"topic": names.general, "body": "agreed", "reply_to": original["id"]})

    assert reply["reply_to"] == {"id": original["id"], "sender": names.alice, "excerpt": "x" * 100}
    await alice.ok("message:delete", {"id": original["id"]})
    page = await bob.ok("history", {"topic": names.general})
    kept = next(m for m in page["messages"] if m["id"] == reply["id"])
    assert kept["reply_to"] == {"id": original["id"], "sender": names.alice, "excerpt": ""}


async def test_a_reply_to_a_message_of_another_conversation_is_not_found_and_stores_nothing(
    live_server, names
):
    alice, bob, _ = await trio(live_server, names)
    elsewhere = await send(alice, {"topic": "lobby", "body": "in the lobby"})
    before = await stored(live_server)

    code = await refused(
        bob, "message:send", {"topic": names.general, "body": "hm", "reply_to": elsewhere["id"]}
    )

    assert code == "not_found"
    assert await stored(live_server) == before


# Threads -----------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_thread_replies_update_the_root_summary_for_every_member(live_server, names):
    alice, bob, carol = await trio(live_server, names)
    root = await send(alice, {"topic": names.general, "body": "release on friday?"})

    first = await send(bob, {"topic": names.general, "body": "yes", "thread": root["id"]})
    update = await carol.next("thread:updated")
    second = await send(carol, {"topic": names.general, "body": "fine by me", "thread": root["id"]})
    await alice.next("thread:updated")
    latest = await alice.next("thread:updated")

    assert first["thread"] == root["id"] and first["seq"] == root["seq"] + 1
    assert update["topic"] == names.general and update["root"] == root["id"]
    assert update["thread_summary"]["count"] == 1 and update["thread_summary"]["participants"] == [names.bob]
    assert latest["thread_summary"]["count"] == 2
    assert latest["thread_summary"]["participants"] == [names.carol, names.bob]
    assert latest["thread_summary"]["last_at"] == second["created_at"]
    page = await alice.ok("history", {"topic": names.general})
    assert [m["id"] for m in page["messages"][-3:]] == [root["id"], first["id"], second["id"]]
    assert page["messages"][-3]["thread_summary"]["count"] == 2

    assert (await carol.next("thread:updated"))["thread_summary"]["count"] == 2
    await bob.ok("message:delete", {"id": first["id"]})
    after_delete = await carol.next("thread:updated")
    assert after_delete["thread_summary"]["count"] == 1
    assert after_delete["thread_summary"]["participants"] == [names.carol]


@pytest.mark.both_databases
async def test_thread_history_pages_the_replies_newest_page_first(live_server, names):
    alice, bob, _ = await trio(live_server, names)
    root = await send(alice, {"topic": names.general, "body": "root"})
    replies = [
        await send(bob, {"topic": names.general, "body": f"r{i}", "thread": root["id"]}) for i in range(5)
    ]
    await send(alice, {"topic": names.general, "body": "not in the thread"})

    newest = await alice.ok("thread:history", {"root": root["id"], "limit": 3})
    older = await alice.ok("thread:history", {"root": root["id"], "limit": 3, "before_id": replies[2]["id"]})

    assert [m["body"] for m in newest["messages"]] == ["r2", "r3", "r4"] and newest["has_more"] is True
    assert [m["body"] for m in older["messages"]] == ["r0", "r1"] and older["has_more"] is False


@pytest.mark.parametrize("case", ["nested", "foreign root", "missing root"])
async def test_a_thread_must_be_a_root_of_the_same_conversation(live_server, case, names):
    alice, bob, _ = await trio(live_server, names)
    root = await send(alice, {"topic": names.general, "body": "root"})
    reply = await send(bob, {"topic": names.general, "body": "reply", "thread": root["id"]})
    foreign = await send(alice, {"topic": "lobby", "body": "lobby root"})
    target = {"nested": reply["id"], "foreign root": foreign["id"], "missing root": 10**9}[case]
    before = await stored(live_server)

    code = await refused(bob, "message:send", {"topic": names.general, "body": "x", "thread": target})

    assert code == "invalid"
    assert await stored(live_server) == before


# Reactions ---------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_a_reaction_reaches_every_member_with_me_as_each_sees_it(live_server, names):
    alice, bob, carol = await trio(live_server, names)
    message = await send(alice, {"topic": names.general, "body": "ship it"})

    answer = await bob.ok("reaction:add", {"id": message["id"], "emoji": "👍"})
    to_bob = await bob.next("reaction:updated")
    to_carol = await carol.next("reaction:updated")

    assert answer == {
        "id": message["id"],
        "reactions": [{"emoji": "👍", "count": 1, "users": [names.bob], "me": True}],
    }
    assert to_bob == {"topic": names.general, "id": message["id"], "reactions": answer["reactions"]}
    assert to_carol["reactions"] == [{"emoji": "👍", "count": 1, "users": [names.bob], "me": False}]

    await carol.ok("reaction:add", {"id": message["id"], "emoji": "👍"})
    await carol.ok("reaction:add", {"id": message["id"], "emoji": ":tada:"})
    page = await carol.ok("history", {"topic": names.general})
    assert page["messages"][-1]["reactions"] == [
        {"emoji": "👍", "count": 2, "users": [names.bob, names.carol], "me": True},
        {"emoji": ":tada:", "count": 1, "users": [names.carol], "me": True},
    ]
    alices = (await alice.ok("history", {"topic": names.general}))["messages"][-1]["reactions"]
    assert [r["me"] for r in alices] == [False, False]


@pytest.mark.both_databases
async def test_reactions_are_idempotent_and_removing_an_absent_one_is_a_no_op(live_server, names):
    alice, bob, _ = await trio(live_server, names)
    message = await send(alice, {"topic": names.general, "body": "hi"})
    (reactions,) = await count_rows(live_server, Reaction)

    await bob.ok("reaction:add", {"id": message["id"], "emoji": "👀"})
    twice = await bob.ok("reaction:add", {"id": message["id"], "emoji": "👀"})
    assert twice["reactions"] == [{"emoji": "👀", "count": 1, "users": [names.bob], "me": True}]
    assert await count_rows(live_server, Reaction) == (reactions + 1,)

    gone = await bob.ok("reaction:remove", {"id": message["id"], "emoji": "👀"})
    again = await bob.ok("reaction:remove", {"id": message["id"], "emoji": "👀"})
    assert gone["reactions"] == [] and again["reactions"] == []
    assert await count_rows(live_server, Reaction) == (reactions,)


@pytest.mark.parametrize("emoji", [" ", "👍 ", "\u200b", "", "x" * 33, 5, "\u202e👍", "👍\u2066"])
async def test_a_bad_emoji_is_invalid_and_stores_nothing(live_server, emoji, names):
    alice, bob, _ = await trio(live_server, names)
    message = await send(alice, {"topic": names.general, "body": "hi"})
    before = await stored(live_server)

    assert await refused(bob, "reaction:add", {"id": message["id"], "emoji": emoji}) == "invalid"
    assert await stored(live_server) == before


@pytest.mark.both_databases
async def test_a_message_takes_at_most_twenty_distinct_emoji(live_server, names):
    alice, bob, _ = await trio(live_server, names)
    message = await send(alice, {"topic": names.general, "body": "vote"})
    for number in range(20):
        await bob.ok("reaction:add", {"id": message["id"], "emoji": f":e{number}:"})
    before = await stored(live_server)

    assert await refused(bob, "reaction:add", {"id": message["id"], "emoji": ":e20:"}) == "invalid"
    assert await stored(live_server) == before
    await alice.ok("reaction:add", {"id": message["id"], "emoji": ":e0:"})  # an existing one still counts


async def test_a_tombstone_has_no_reactions_and_takes_none(live_server, names):
    alice, bob, _ = await trio(live_server, names)
    message = await send(alice, {"topic": names.general, "body": "oops"})
    await bob.ok("reaction:add", {"id": message["id"], "emoji": "😂"})
    await alice.ok("message:delete", {"id": message["id"]})

    assert await refused(bob, "reaction:add", {"id": message["id"], "emoji": "😂"}) == "not_found"
    page = await bob.ok("history", {"topic": names.general})
    assert page["messages"][-1]["deleted"] is True and page["messages"][-1]["reactions"] == []


async def test_a_non_member_cannot_react(live_server, names):
    alice = await live_server.user(names.alice)
    dave = await live_server.user(names.dave)
    await alice.ok("topic:create", {"name": names.secret, "private": True})
    await alice.ok("topic:create", {"name": names.open})
    hidden = await send(alice, {"topic": names.secret, "body": "hidden"})
    public = await send(alice, {"topic": names.open, "body": "public"})
    (reactions,) = await count_rows(live_server, Reaction)

    assert await refused(dave, "reaction:add", {"id": hidden["id"], "emoji": "👍"}) == "not_found"
    assert await refused(dave, "reaction:add", {"id": public["id"], "emoji": "👍"}) == "forbidden"
    assert await count_rows(live_server, Reaction) == (reactions,)


# Mentions ----------------------------------------------------------------------------------


async def test_mentions_name_members_in_body_order_once_each(live_server, names):
    alice, bob, _ = await trio(live_server, names)
    await live_server.register(names.dave)  # not a member of general

    body = (
        f"@{names.carol.capitalize()} and @{names.bob}, @{names.carol} again, @{names.dave}, "
        f"me@{names.bob}, thanks @{names.bob}."
    )
    sent = await send(alice, {"topic": names.general, "body": body})

    assert sent["mentions"] == [names.carol, names.bob] and sent["mentions_all"] is False
    assert (await bob.next("message"))["mentions"] == [names.carol, names.bob]


@pytest.mark.both_databases
async def test_the_mention_count_covers_unread_mentions_and_read_lowers_it(live_server, names):
    alice, bob, _ = await trio(live_server, names)
    await send(alice, {"topic": names.general, "body": f"@{names.bob} look"})
    last = await send(alice, {"topic": names.general, "body": "@all heads up"})
    await send(alice, {"topic": names.general, "body": "no mention"})
    await send(bob, {"topic": names.general, "body": f"@{names.bob} talking to myself"})

    topics = {t["name"]: t for t in (await bob.ok("topic:list", {}))["topics"]}
    assert topics[names.general]["mentions"] == 2 and topics[names.general]["unread"] == 3
    assert topics[names.general]["notify"] == "all"

    await bob.ok("read", {"topic": names.general, "seq": last["seq"]})
    topics = {t["name"]: t for t in (await bob.ok("topic:list", {}))["topics"]}
    assert topics[names.general]["mentions"] == 0 and topics[names.general]["unread"] == 1


@pytest.mark.both_databases
async def test_a_deleted_mention_no_longer_counts_and_an_edit_recomputes_mentions(live_server, names):
    alice, bob, carol = await trio(live_server, names)
    first = await send(alice, {"topic": names.general, "body": f"@{names.bob} one"})
    second = await send(alice, {"topic": names.general, "body": f"@{names.bob} two"})

    await alice.ok("message:delete", {"id": first["id"]})
    edited = await alice.ok("message:edit", {"id": second["id"], "body": f"@{names.carol} two"})

    assert edited["mentions"] == [names.carol]
    bobs = {t["name"]: t for t in (await bob.ok("topic:list", {}))["topics"]}
    carols = {t["name"]: t for t in (await carol.ok("topic:list", {}))["topics"]}
    assert bobs[names.general]["mentions"] == 0 and carols[names.general]["mentions"] == 1


async def test_all_in_a_big_topic_is_for_moderators_only(tmp_path, names):
    """The limit is a setting (the rule is the domain's: SQLite covers it)."""
    async with running(support.test_settings(tmp_path / "data", all_mention_limit=2)) as server:
        alice, bob, _ = await trio(server, names)
        before = await stored(server)

        assert await refused(bob, "message:send", {"topic": names.general, "body": "@all hi"}) == "forbidden"
        assert await stored(server) == before
        owner = await send(alice, {"topic": names.general, "body": "@all hi"})
        assert owner["mentions_all"] is True
        assert (await send(bob, {"topic": names.general, "body": "hi all"}))["mentions_all"] is False


# Notification levels -----------------------------------------------------------------------


async def test_the_notification_level_is_the_members_own(live_server, names):
    alice, bob, _ = await trio(live_server, names)

    topic = await bob.ok("topic:notify", {"topic": names.general, "level": "mentions"})

    assert topic["name"] == names.general and topic["notify"] == "mentions"
    bobs = {t["name"]: t for t in (await bob.ok("topic:list", {}))["topics"]}
    alices = {t["name"]: t for t in (await alice.ok("topic:list", {}))["topics"]}
    assert bobs[names.general]["notify"] == "mentions" and alices[names.general]["notify"] == "all"
    assert await refused(bob, "topic:notify", {"topic": names.general, "level": "loud"}) == "invalid"
    dave = await live_server.user(names.dave)
    assert await refused(dave, "topic:notify", {"topic": names.general, "level": "none"}) == "forbidden"


# Pins --------------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_a_pin_is_a_system_message_and_members_get_the_pins(live_server, names):
    alice, bob, _ = await trio(live_server, names)
    rules = await send(alice, {"topic": names.general, "body": "be nice"})
    await bob.next("message")

    answer = await alice.ok("message:pin", {"id": rules["id"]})
    system = await bob.next("message")
    pins = await bob.next("pins:updated")

    assert answer["topic"] == names.general and [m["id"] for m in answer["pins"]] == [rules["id"]]
    assert answer["pins"][0]["pinned"] is True
    assert (
        system["type"] == "system" and system["seq"] == rules["seq"] + 1 and system["sender"] == names.alice
    )
    assert system["system"] == {"action": "pin", "actor": names.alice, "id": rules["id"]}
    assert pins == {"topic": names.general, "pins": answer["pins"]}
    assert (await bob.ok("topic:pins", {"topic": names.general}))["pins"] == answer["pins"]
    bobs = {t["name"]: t for t in (await bob.ok("topic:list", {}))["topics"]}
    assert bobs[names.general]["unread"] == 1  # the message, not the system message

    again = await alice.ok("message:pin", {"id": rules["id"]})  # idempotent: no new system message
    assert again["pins"] == answer["pins"]
    await alice.ok("message:unpin", {"id": rules["id"]})
    unpinned = await bob.next("message")
    assert unpinned["system"]["action"] == "unpin" and unpinned["seq"] == system["seq"] + 1
    assert (await bob.next("pins:updated"))["pins"] == []


async def test_a_plain_member_may_not_pin_in_a_topic_but_both_sides_of_a_dm_may(live_server, names):
    alice, bob, _ = await trio(live_server, names)
    message = await send(alice, {"topic": names.general, "body": "x"})
    before = await stored(live_server)

    assert await refused(bob, "message:pin", {"id": message["id"]}) == "forbidden"
    assert await stored(live_server) == before

    direct = await send(alice, {"to": names.bob, "body": "remember this"})
    pinned = await bob.ok("message:pin", {"id": direct["id"]})
    assert pinned["topic"] == "@" + names.alice and pinned["pins"][0]["topic"] == "@" + names.alice
    to_alice = await alice.next("pins:updated")
    assert to_alice["topic"] == "@" + names.bob and to_alice["pins"][0]["id"] == direct["id"]


@pytest.mark.both_databases
async def test_pins_list_newest_first_and_a_deleted_message_leaves_it(live_server, names):
    alice, bob, _ = await trio(live_server, names)
    first = await send(alice, {"topic": names.general, "body": "first"})
    second = await send(alice, {"topic": names.general, "body": "second"})
    await alice.ok("message:pin", {"id": first["id"]})
    await alice.ok("message:pin", {"id": second["id"]})

    assert [m["id"] for m in (await bob.ok("topic:pins", {"topic": names.general}))["pins"]] == [
        second["id"],
        first["id"],
    ]
    await alice.ok("message:delete", {"id": second["id"]})
    assert [m["id"] for m in (await bob.ok("topic:pins", {"topic": names.general}))["pins"]] == [first["id"]]


# Offline -----------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_a_member_away_gets_replies_and_system_messages_in_order_with_current_reactions(
    live_server, names
):
    alice, _, carol = await trio(live_server, names)
    token = await live_server.register(names.erin)
    erin = await live_server.connect(names.erin, token)
    await erin.ok("topic:subscribe", {"topic": names.general})
    await erin.close()

    root = await send(alice, {"topic": names.general, "body": "plan"})
    await send(carol, {"topic": names.general, "body": "step 1", "thread": root["id"]})
    await carol.ok("reaction:add", {"id": root["id"], "emoji": "👍"})
    await alice.ok("message:pin", {"id": root["id"]})
    await send(alice, {"topic": names.general, "body": "step 2", "thread": root["id"]})

    erin = await live_server.connect(names.erin, token)
    backlog = [await erin.next("message") for _ in range(4)]

    assert [m["seq"] for m in backlog] == list(range(root["seq"], root["seq"] + 4))
    assert [m["type"] for m in backlog] == ["text", "text", "system", "text"]
    assert backlog[0]["reactions"] == [{"emoji": "👍", "count": 1, "users": [names.carol], "me": False}]
    assert backlog[0]["thread_summary"]["count"] == 2 and backlog[0]["pinned"] is True
    assert backlog[1]["thread"] == root["id"] and backlog[3]["thread"] == root["id"]


async def test_a_direct_conversation_has_its_pins_and_notification_level_by_with(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    direct = await send(alice, {"to": names.bob, "body": "keep this"})
    await bob.ok("message:pin", {"id": direct["id"]})

    pins = await alice.ok("topic:pins", {"with": names.bob})
    topic = await alice.ok("topic:notify", {"with": names.bob, "level": "mentions"})

    assert [m["id"] for m in pins["pins"]] == [direct["id"]] and pins["pins"][0]["topic"] == "@" + names.bob
    assert topic["name"] == "@" + names.bob and topic["notify"] == "mentions"
    assert await refused(alice, "topic:pins", {"topic": names.general, "with": names.bob}) == "invalid"
