"""Editing and deleting messages (PROTOCOL.md section 3 ``message:edit``/``message:delete``).

Rights: only the sender edits; the sender or the topic owner deletes. Every
connected socket of every member sees ``message:edited`` (a Message with
``edited_at``) or ``message:deleted {"id", "topic"}``, whether the change came
over Socket.IO or REST. A deleted message leaves a body-less tombstone so that
``seq`` stays gapless, and never comes back in history or the backlog.

One server per module (``server``), each test with its own users and topics (``names``); the
tests marked ``both_databases`` (the stored tombstone, the backlog's query) run on PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.shared_server import Names, databases_of, own_sockets, shared_server
from tests.support import Client, LiveServer, bearer, two_sockets

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


async def general_with(names: Names, owner: Client, *members: Client) -> None:
    """``owner`` creates the test's public topic ``names.general``; ``members`` subscribe."""
    await owner.ok("topic:create", {"name": names.general})
    for member in members:
        await member.ok("topic:subscribe", {"topic": names.general})


async def history(client: Client, **target: Any) -> list[dict[str, Any]]:
    page = await client.ok("history", target)
    messages: list[dict[str, Any]] = page["messages"]
    return messages


async def test_only_the_sender_may_edit_a_message(live_server: LiveServer, names: Names) -> None:
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await general_with(names, alice, bob)
    sent = await alice.ok("message:send", {"topic": names.general, "body": "original"})

    ack = await bob.call("message:edit", {"id": sent["id"], "body": "hijacked"})

    assert ack["ok"] is False and ack["error"]["code"] == "forbidden", ack
    [stored] = await history(alice, topic=names.general)
    assert stored["body"] == "original" and stored["edited_at"] is None


async def test_an_edit_with_a_bad_body_is_invalid_and_changes_nothing(
    live_server: LiveServer, names: Names
) -> None:
    alice = await live_server.user(names.alice)
    await alice.ok("topic:create", {"name": names.general})
    sent = await alice.ok("message:send", {"topic": names.general, "body": "original"})

    blank = await alice.call("message:edit", {"id": sent["id"], "body": "   "})
    too_long = await alice.call("message:edit", {"id": sent["id"], "body": "x" * 4001})

    assert blank["ok"] is False and blank["error"]["code"] == "invalid", blank
    assert too_long["ok"] is False and too_long["error"]["code"] == "invalid", too_long
    [stored] = await history(alice, topic=names.general)
    assert stored["body"] == "original" and stored["edited_at"] is None


async def test_editing_or_deleting_an_unknown_message_is_not_found(
    live_server: LiveServer, names: Names
) -> None:
    alice = await live_server.user(names.alice)

    edit = await alice.call("message:edit", {"id": 999_999, "body": "anything"})
    delete = await alice.call("message:delete", {"id": 999_999})

    assert edit["ok"] is False and edit["error"]["code"] == "not_found", edit
    assert delete["ok"] is False and delete["error"]["code"] == "not_found", delete


async def test_an_edit_reaches_every_member_socket_with_edited_at(
    live_server: LiveServer, names: Names
) -> None:
    alice, alice_tab = await two_sockets(live_server, names.alice)
    bob = await live_server.user(names.bob)
    await general_with(names, alice, bob)
    sent = await alice.ok("message:send", {"topic": names.general, "body": "helo"})

    edited = await alice.ok("message:edit", {"id": sent["id"], "body": "hello"})

    assert edited["body"] == "hello" and edited["edited_at"] is not None
    assert (edited["id"], edited["seq"], edited["topic"]) == (sent["id"], sent["seq"], names.general)
    for socket in (alice, alice_tab, bob):
        assert await socket.next("message:edited") == edited
    [stored] = await history(bob, topic=names.general)
    assert stored["body"] == "hello" and stored["edited_at"] == edited["edited_at"]


async def test_a_member_who_is_neither_sender_nor_owner_may_not_delete(
    live_server: LiveServer, names: Names
) -> None:
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    carol = await live_server.user(names.carol)
    await general_with(names, alice, bob, carol)
    sent = await bob.ok("message:send", {"topic": names.general, "body": "bob's words"})

    ack = await carol.call("message:delete", {"id": sent["id"]})

    assert ack["ok"] is False and ack["error"]["code"] == "forbidden", ack
    assert [m["body"] for m in await history(carol, topic=names.general)] == ["bob's words"]


async def test_the_sender_may_delete_their_own_message(live_server: LiveServer, names: Names) -> None:
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await general_with(names, alice, bob)
    sent = await bob.ok("message:send", {"topic": names.general, "body": "oops"})

    assert await bob.ok("message:delete", {"id": sent["id"]}) == {}

    assert await alice.next("message:deleted") == {"id": sent["id"], "topic": names.general}
    assert await bob.next("message:deleted") == {"id": sent["id"], "topic": names.general}


async def test_the_topic_owner_may_delete_anyones_message_and_every_member_socket_hears(
    live_server: LiveServer, names: Names
) -> None:
    alice, alice_tab = await two_sockets(live_server, names.alice)
    bob = await live_server.user(names.bob)
    carol = await live_server.user(names.carol)
    await general_with(names, alice, bob, carol)
    sent = await bob.ok("message:send", {"topic": names.general, "body": "spam"})

    assert await alice.ok("message:delete", {"id": sent["id"]}) == {}

    for socket in (alice, alice_tab, bob, carol):
        assert await socket.next("message:deleted") == {"id": sent["id"], "topic": names.general}


@pytest.mark.both_databases
async def test_history_keeps_a_bodiless_tombstone_so_seq_stays_gapless(
    live_server: LiveServer, names: Names
) -> None:
    token = await live_server.register(names.alice)
    alice = await live_server.connect(names.alice, token)
    await alice.ok("topic:create", {"name": names.general})
    for body in ("first", "the secret word is swordfish", "third"):
        await alice.ok("message:send", {"topic": names.general, "body": body})
    secret = (await history(alice, topic=names.general))[1]

    await alice.ok("message:delete", {"id": secret["id"]})
    after = await alice.ok("message:send", {"topic": names.general, "body": "fourth"})

    messages = await history(alice, topic=names.general)
    assert [m["seq"] for m in messages] == [1, 2, 3, 4] and after["seq"] == 4
    tombstone = messages[1]
    assert tombstone["id"] == secret["id"]
    assert tombstone["body"] == "" and tombstone["deleted"] is True
    assert "swordfish" not in repr(messages)
    rest = await live_server.http.get(f"/api/topics/{names.general}/messages", headers=bearer(token))
    assert rest.status_code == 200 and "swordfish" not in rest.text
    newcomer = await live_server.user(names.bob)
    subscribed = await newcomer.ok("topic:subscribe", {"topic": names.general})
    assert [m["body"] for m in subscribed["history"]] == ["first", "", "third", "fourth"]


async def test_a_deleted_message_can_be_neither_edited_nor_deleted_again(
    live_server: LiveServer, names: Names
) -> None:
    alice = await live_server.user(names.alice)
    await alice.ok("topic:create", {"name": names.general})
    sent = await alice.ok("message:send", {"topic": names.general, "body": "gone soon"})
    await alice.ok("message:delete", {"id": sent["id"]})

    edit = await alice.call("message:edit", {"id": sent["id"], "body": "back from the dead"})
    again = await alice.call("message:delete", {"id": sent["id"]})

    assert edit["ok"] is False and edit["error"]["code"] == "not_found", edit
    assert again["ok"] is False and again["error"]["code"] == "not_found", again
    assert [m["body"] for m in await history(alice, topic=names.general)] == [""]


@pytest.mark.both_databases
async def test_direct_edits_and_deletes_name_the_other_user_for_each_side(
    live_server: LiveServer, names: Names
) -> None:
    alice, alice_tab = await two_sockets(live_server, names.alice)
    bob = await live_server.user(names.bob)
    sent = await alice.ok("message:send", {"to": names.bob, "body": "hi bob"})

    edited = await alice.ok("message:edit", {"id": sent["id"], "body": "hi Bob!"})

    assert edited["topic"] == "@" + names.bob and edited["kind"] == "direct"
    assert await alice_tab.next("message:edited") == edited
    theirs = await bob.next("message:edited")
    assert theirs == {**edited, "topic": "@" + names.alice}

    await alice.ok("message:delete", {"id": sent["id"]})

    assert await alice_tab.next("message:deleted") == {"id": sent["id"], "topic": "@" + names.bob}
    assert await bob.next("message:deleted") == {"id": sent["id"], "topic": "@" + names.alice}
    [tombstone] = await history(bob, **{"with": names.alice})
    assert tombstone["body"] == "" and tombstone["deleted"] is True


async def test_in_a_direct_conversation_only_the_sender_may_edit_or_delete(
    live_server: LiveServer, names: Names
) -> None:
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    carol = await live_server.user(names.carol)
    sent = await alice.ok("message:send", {"to": names.bob, "body": "between us"})

    attempts = [
        await bob.call("message:edit", {"id": sent["id"], "body": "rewritten"}),
        await bob.call("message:delete", {"id": sent["id"]}),
        await carol.call("message:edit", {"id": sent["id"], "body": "rewritten"}),
        await carol.call("message:delete", {"id": sent["id"]}),
    ]

    assert [a["ok"] for a in attempts] == [False] * 4, attempts
    assert [a["error"]["code"] for a in attempts[:2]] == ["forbidden", "forbidden"]
    assert {a["error"]["code"] for a in attempts[2:]} <= {"forbidden", "not_found"}
    [stored] = await history(bob, **{"with": names.alice})
    assert stored["body"] == "between us" and stored["edited_at"] is None


@pytest.mark.both_databases
async def test_the_backlog_of_an_offline_member_has_edits_applied_and_deletions_left_out(
    live_server: LiveServer, names: Names
) -> None:
    alice = await live_server.user(names.alice)
    bob_token = await live_server.register(names.bob)
    bob = await live_server.connect(names.bob, bob_token)
    await general_with(names, alice, bob)
    await bob.close()
    first = await alice.ok("message:send", {"topic": names.general, "body": "draft"})
    doomed = await alice.ok("message:send", {"topic": names.general, "body": "regrettable"})
    last = await alice.ok("message:send", {"topic": names.general, "body": "last"})
    edited = await alice.ok("message:edit", {"id": first["id"], "body": "final"})
    await alice.ok("message:delete", {"id": doomed["id"]})

    bob = await live_server.connect(names.bob, bob_token)

    backlog = [await bob.next("message")]
    while backlog[-1]["id"] != last["id"]:
        backlog.append(await bob.next("message"))
    assert backlog == [edited, last]


async def test_rest_edit_and_delete_reach_live_sockets_as_over_socketio(
    live_server: LiveServer, names: Names
) -> None:
    token = await live_server.register(names.alice)
    alice = await live_server.connect(names.alice, token)
    bob = await live_server.user(names.bob)
    await general_with(names, alice, bob)
    sent = await alice.ok("message:send", {"topic": names.general, "body": "typo"})

    put = await live_server.http.put(
        f"/api/messages/{sent['id']}", json={"body": "fixed"}, headers=bearer(token)
    )

    assert put.status_code == 200, put.text
    edited = put.json()
    assert edited["body"] == "fixed" and edited["edited_at"] is not None
    assert await bob.next("message:edited") == edited
    assert await alice.next("message:edited") == edited

    deleted = await live_server.http.delete(f"/api/messages/{sent['id']}", headers=bearer(token))

    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {}
    assert await bob.next("message:deleted") == {"id": sent["id"], "topic": names.general}
    assert await alice.next("message:deleted") == {"id": sent["id"], "topic": names.general}


async def test_rest_edit_and_delete_in_a_direct_conversation(live_server: LiveServer, names: Names) -> None:
    token = await live_server.register(names.alice)
    alice = await live_server.connect(names.alice, token)
    bob = await live_server.user(names.bob)
    sent = await alice.ok("message:send", {"to": names.bob, "body": "hi"})

    put = await live_server.http.put(
        f"/api/messages/{sent['id']}", json={"body": "hey"}, headers=bearer(token)
    )
    await live_server.http.delete(f"/api/messages/{sent['id']}", headers=bearer(token))

    assert put.status_code == 200 and put.json()["topic"] == "@" + names.bob, put.text
    assert await alice.next("message:edited") == put.json()
    assert await bob.next("message:edited") == {**put.json(), "topic": "@" + names.alice}
    assert await alice.next("message:deleted") == {"id": sent["id"], "topic": "@" + names.bob}
    assert await bob.next("message:deleted") == {"id": sent["id"], "topic": "@" + names.alice}


async def test_rest_refuses_edits_and_deletes_as_socketio_does(live_server: LiveServer, names: Names) -> None:
    alice = await live_server.user(names.alice)
    bob_token = await live_server.register(names.bob)
    carol_token = await live_server.register(names.carol)
    await alice.ok("topic:create", {"name": names.general})
    for token in (bob_token, carol_token):
        await live_server.http.post("/api/topics/general/subscribe", headers=bearer(token))
    sent = await alice.ok("message:send", {"topic": names.general, "body": "mine"})

    put = await live_server.http.put(
        f"/api/messages/{sent['id']}", json={"body": "x"}, headers=bearer(bob_token)
    )
    delete = await live_server.http.delete(f"/api/messages/{sent['id']}", headers=bearer(carol_token))
    missing = await live_server.http.delete("/api/messages/999999", headers=bearer(bob_token))

    assert (put.status_code, put.json()["error"]["code"]) == (403, "forbidden")
    assert (delete.status_code, delete.json()["error"]["code"]) == (403, "forbidden")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert [m["body"] for m in await history(alice, topic=names.general)] == ["mine"]
