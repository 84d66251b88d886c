"""The retention sweep (PROTOCOL.md section 16) on a live server, on both databases: messages older
than the effective retention are gone for good with what they own, and no read path returns them
afterwards; what is younger stays whole, ``seq`` goes on past them.

The server's clock is not moved: the sweep is run at a time the test picks (``sweep(now=...)``), the
same call the server's periodic round makes with its clock's time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from db.models import (
    EmailPending,
    File,
    Mention,
    Message,
    NotifyJob,
    Pin,
    PushOutbox,
    Reaction,
)
from server.chat.retention.sweep import Swept
from tests.contract import error_code
from tests.files_support import blobs, uploaded
from tests.support import Client, LiveServer, send
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases
DAYS = 30


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "data", retention_days=DAYS)


async def stored_at(server: LiveServer, message_id: int) -> datetime:
    async with server.chat.db.read() as repos:
        found = await repos.messages.by_id(message_id)
    assert found is not None
    return found.created_at


async def sweep_after(server: LiveServer, message: dict[str, Any], days: int = DAYS) -> Swept:
    """A sweep at the moment ``message`` (and everything stored before it) is just past ``days``."""
    moment = await stored_at(server, message["id"]) + timedelta(days=days, microseconds=1)
    return await server.chat.retention.sweep(now=moment)


async def stored_ids(server: LiveServer) -> set[int]:
    async with server.chat.db.read() as repos:
        return set((await repos.session.execute(select(col(Message.id)))).scalars())


async def owned_by(server: LiveServer, ids: set[int]) -> dict[str, int]:
    """Rows of the message-owned tables that still name one of ``ids``."""
    counts = {}
    async with server.chat.db.read() as repos:
        for model in (Reaction, Mention, Pin, File, NotifyJob, PushOutbox, EmailPending):
            query = select(func.count()).select_from(model).where(col(model.message_id).in_(ids))
            counts[model.__name__] = int((await repos.session.execute(query)).scalar_one())
    return counts


async def searched(client: Client, words: str) -> set[int]:
    page = await client.ok("search", {"q": words, "limit": 100})
    return {hit["message"]["id"] for hit in page["hits"]}


async def history(client: Client, topic: str) -> list[dict[str, Any]]:
    page = await client.ok("history", {"topic": topic, "limit": 200})
    messages: list[dict[str, Any]] = page["messages"]
    return messages


async def old_and_new(server: LiveServer) -> tuple[Client, Client, dict[str, Any], dict[str, Any]]:
    """alice and bob in ``general``: an old part (a thread root with a reply, a reaction, a pin, a
    mention, a file, a direct message) then a new part (a reply quoting the old root, a new thread
    reply to it, a message of its own). Returns alice, bob and the messages by label."""
    alice, bob = await server.user("alice"), await server.user("bob")
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    token = await server.register("carol")
    # the same bytes uploaded twice: two file rows, one blob (PROTOCOL.md section 11)
    shared = await uploaded(server, token, b"kept by a new message", "kept.txt")
    again = await uploaded(server, token, b"kept by a new message", "again.txt")
    carol = await server.connect("carol", token)
    await carol.ok("topic:subscribe", {"topic": "general"})
    alone = await uploaded(server, token, b"only the old message has me", "old.txt")
    old: dict[str, Any] = {"root": await send(alice, {"topic": "general", "body": "ancient walrus root"})}
    old["reply"] = await send(
        bob, {"topic": "general", "body": "ancient walrus reply", "thread": old["root"]["id"]}
    )
    old["mention"] = await send(bob, {"topic": "general", "body": "@alice ancient walrus mention"})
    old["file"] = await send(
        carol, {"topic": "general", "body": "ancient walrus file", "files": [alone["id"]]}
    )
    old["shared"] = await send(carol, {"topic": "general", "body": "ancient shared", "files": [shared["id"]]})
    old["direct"] = await send(alice, {"to": "bob", "body": "ancient walrus whisper"})
    await bob.ok("reaction:add", {"id": old["root"]["id"], "emoji": "👍"})
    await alice.ok("message:pin", {"id": old["mention"]["id"]})
    new = {
        "quote": await send(
            bob, {"topic": "general", "body": "fresh walrus quote", "reply_to": old["root"]["id"]}
        )
    }
    new["late"] = await send(
        alice, {"topic": "general", "body": "fresh walrus late reply", "thread": old["root"]["id"]}
    )
    new["own"] = await send(alice, {"topic": "general", "body": "fresh walrus"})
    new["direct"] = await send(bob, {"to": "alice", "body": "fresh walrus whisper"})
    new["root"] = await send(alice, {"topic": "general", "body": "fresh root"})
    new["thread"] = await send(
        bob, {"topic": "general", "body": "fresh thread reply", "thread": new["root"]["id"]}
    )
    await send(carol, {"topic": "general", "body": "fresh shared", "files": [again["id"]]})
    return alice, bob, old, new


async def test_messages_past_the_server_retention_go_with_what_they_own_and_the_rest_stays(live_server):
    alice, _bob, old, new = await old_and_new(live_server)
    old_ids = {message["id"] for message in old.values()}
    owned = await owned_by(live_server, old_ids)
    assert (owned["Reaction"], owned["Mention"], owned["Pin"], owned["File"]) == (1, 1, 1, 2)
    files_before = len(blobs(live_server))

    swept = await sweep_after(live_server, old["direct"])

    assert swept.messages == len(old_ids) and not swept.skipped
    remaining = await stored_ids(live_server)
    assert remaining.isdisjoint(old_ids)
    assert {message["id"] for message in new.values()} <= remaining
    assert set((await owned_by(live_server, old_ids)).values()) == {0}
    # the file only the old message used is gone, bytes included; the one a new message uses stays
    assert len(blobs(live_server)) == files_before - 1
    assert await searched(alice, "ancient") == set()
    assert await searched(alice, "walrus") == {
        new["quote"]["id"],
        new["late"]["id"],
        new["own"]["id"],
        new["direct"]["id"],
    }


async def test_no_read_path_returns_a_swept_message_and_what_survives_is_brought_up_to_date(live_server):
    alice, _bob, old, new = await old_and_new(live_server)
    await sweep_after(live_server, old["direct"])

    shown = await history(alice, "general")
    assert [m["body"] for m in shown if "ancient" in m["body"]] == []
    quote = next(m for m in shown if m["id"] == new["quote"]["id"])
    assert quote["reply_to"]["excerpt"] == ""  # the quoted words went with the message
    assert error_code(await alice.call("thread:history", {"root": old["root"]["id"]})) == "not_found"
    thread = await alice.ok("thread:history", {"root": new["root"]["id"]})
    assert [m["id"] for m in thread["messages"]] == [new["thread"]["id"]]
    assert (await alice.ok("topic:pins", {"topic": "general"}))["pins"] == []
    direct = await alice.ok("history", {"with": "bob", "limit": 50})
    assert [m["body"] for m in direct["messages"]] == ["fresh walrus whisper"]
    replayed = await live_server.chat.recovery.replay(bob_id := await user_id(live_server, "bob"), 0)
    assert {m.id for m in replayed}.isdisjoint({m["id"] for m in old.values()})
    backlog = await live_server.chat.db.reads.backlog(bob_id, 500)
    assert {entry.id for entry in backlog}.isdisjoint({m["id"] for m in old.values()})


async def test_seq_goes_on_past_swept_messages_and_read_marks_stay_valid(live_server):
    alice, bob, old, new = await old_and_new(live_server)
    last = new["thread"]["seq"]
    await bob.ok("read", {"topic": "general", "seq": old["shared"]["seq"]})
    await sweep_after(live_server, old["direct"])

    after = await send(alice, {"topic": "general", "body": "after the sweep"})

    assert after["seq"] == last + 2  # carol's "fresh shared" took last + 1
    topics = {t["name"]: t for t in (await bob.ok("topic:list", {}))["topics"]}
    assert topics["general"]["last_seq"] == after["seq"]
    assert topics["general"]["unread"] == len(
        [
            m
            for m in await history(bob, "general")
            if m["sender"] != "bob" and m["type"] != "system" and m["seq"] > old["shared"]["seq"]
        ]
    )


async def test_a_topic_with_a_shorter_retention_is_swept_sooner_and_others_keep_theirs(live_server):
    alice = await live_server.user("alice")
    await alice.ok("topic:create", {"name": "brief"})
    await alice.ok("topic:create", {"name": "general"})
    shown = await alice.ok("topic:update", {"topic": "brief", "retention_days": 7})
    assert shown["retention_days"] == 7
    short = await send(alice, {"topic": "brief", "body": "short lived"})
    long = await send(alice, {"topic": "general", "body": "long lived"})

    swept = await sweep_after(live_server, long, days=7)

    assert swept.messages == 2  # with the update's system message in ``brief``
    remaining = await stored_ids(live_server)
    assert short["id"] not in remaining and long["id"] in remaining
    assert [m["body"] for m in await history(alice, "brief")] == []
    assert (await sweep_after(live_server, long)).messages >= 1
    assert long["id"] not in await stored_ids(live_server)


async def test_nothing_is_swept_before_its_time(live_server):
    alice = await live_server.user("alice")
    message = await send(alice, {"topic": "lobby", "body": "young"})
    moment = await stored_at(live_server, message["id"]) + timedelta(days=DAYS)

    swept = await live_server.chat.retention.sweep(now=moment)

    assert swept.messages == 0 and message["id"] in await stored_ids(live_server)


async def user_id(server: LiveServer, username: str) -> int:
    async with server.chat.db.read() as repos:
        found = await repos.users.by_name(username)
    assert found is not None
    return found.id
