"""Files in messages (PROTOCOL.md section 11) over Socket.IO and REST, on SQLite and PostgreSQL:
attaching (own, unattached, 1-10 distinct ids; else ``invalid`` and nothing stored), files in every
rendering (ack, live, backlog, recovery, history, thread, search), downloads for readers only,
deletion, ``has:file``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from db.models import File, Message
from tests.contract import error_code
from tests.edge.sio.recovery_socket import RecoverySocket
from tests.files_support import blobs, png, uploaded
from tests.support import Client, LiveServer, bearer, count, offline_bob, running_on, send
from tests.support import test_settings as make_settings

# Most tests share one server a database (``server``), each with its own users and topic
# (``shared_pair``); the two that search ``has:file`` (which finds the files of every public
# topic) or count every file and blob have a server of their own (``live_server``).
SHARED = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    async with running_on(make_settings(tmp_path_factory.mktemp("files") / "data"), request.param) as live:
        yield live


@dataclass
class Pair:
    alice: Client
    alice_token: str
    bob: Client
    bob_token: str
    general: str


async def two_in_general(live_server: LiveServer, suffix: str = "") -> Pair:
    """alice and bob (connected, with tokens) in the public topic ``general``; each name ends in
    ``suffix`` (a test's own on the shared server)."""
    alice_token = await live_server.register(f"alice{suffix}")
    bob_token = await live_server.register(f"bob{suffix}")
    alice = await live_server.connect(f"alice{suffix}", alice_token)
    bob = await live_server.connect(f"bob{suffix}", bob_token)
    await alice.ok("topic:create", {"name": f"general{suffix}"})
    await bob.ok("topic:subscribe", {"topic": f"general{suffix}"})
    return Pair(alice, alice_token, bob, bob_token, f"general{suffix}")


async def alice_and_bob(live_server: LiveServer) -> tuple[Client, str, Client, str]:
    """alice and bob (with tokens) both in the public topic ``general``."""
    pair = await two_in_general(live_server)
    return pair.alice, pair.alice_token, pair.bob, pair.bob_token


def suffix() -> str:
    return f"-{uuid.uuid4().hex[:6]}"


async def shared_pair(server: LiveServer) -> tuple[Client, str, Client, str, str]:
    """As ``alice_and_bob``, with names of the test's own, and the topic's name last."""
    pair = await two_in_general(server, suffix())
    return pair.alice, pair.alice_token, pair.bob, pair.bob_token, pair.general


@SHARED
async def test_a_message_carries_its_files_in_the_ack_and_the_live_event(server: LiveServer) -> None:
    alice, token, bob, _, general = await shared_pair(server)
    picture = await uploaded(server, token, png(), "cat.png")
    notes = await uploaded(server, token, b"some notes", "notes.txt")
    message = await send(alice, {"topic": general, "body": "", "files": [picture["id"], notes["id"]]})
    assert message["body"] == ""
    assert message["files"] == [picture, notes]
    live = await bob.next("message")
    assert live["files"] == [picture, notes]
    plain = await send(alice, {"topic": general, "body": "no files"})
    assert plain["files"] == []


@SHARED
async def test_rest_sends_with_files_too(server: LiveServer) -> None:
    _, token, bob, _, general = await shared_pair(server)
    found = await uploaded(server, token, b"report", "r.txt")
    response = await server.http.post(
        "/api/messages", json={"topic": general, "files": [found["id"]]}, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    assert response.json()["files"] == [found]
    assert (await bob.next("message"))["files"] == [found]


@SHARED
async def test_an_empty_body_needs_files(server: LiveServer) -> None:
    alice, _, _, _, general = await shared_pair(server)
    assert error_code(await alice.call("message:send", {"topic": general, "body": ""})) == "invalid"
    assert error_code(await alice.call("message:send", {"topic": general})) == "invalid"


@SHARED
async def test_bad_files_are_invalid_and_nothing_is_stored(server: LiveServer) -> None:
    alice, token, bob, bob_token, general = await shared_pair(server)
    bobs = await uploaded(server, bob_token, b"bob's", "b.txt")
    attached = await uploaded(server, token, b"first", "1.txt")
    await send(alice, {"topic": general, "body": "x", "files": [attached["id"]]})
    await bob.next("message")
    mine = [(await uploaded(server, token, f"file {n}".encode(), f"{n}.txt"))["id"] for n in range(11)]
    messages_before = await count(server, Message)
    payloads: list[Any] = [
        [bobs["id"]],  # someone else's
        [attached["id"]],  # attached already
        mine,  # 11 files
        [],  # none
        ["0" * 32],  # unknown
        [mine[0], mine[0]],  # twice
        ["not-an-id"],
        mine[0],  # not a list
        [1],
        [mine[0], bobs["id"]],  # one bad of two
    ]
    for files in payloads:
        ack = await alice.call("message:send", {"topic": general, "body": "x", "files": files})
        assert error_code(ack) == "invalid", files
        response = await server.http.post(
            "/api/messages", json={"topic": general, "body": "x", "files": files}, headers=bearer(token)
        )
        assert response.status_code == 422, (files, response.text)
        assert response.json()["error"]["code"] == "invalid"
    assert await count(server, Message) == messages_before
    assert bob.pending("message") == []
    ok = await send(alice, {"topic": general, "body": "ten", "files": mine[:10]})  # 10 is the most
    assert [f["id"] for f in ok["files"]] == mine[:10]


@SHARED
async def test_two_sends_racing_for_one_file_attach_it_once(server: LiveServer) -> None:
    alice, token, _, _, general = await shared_pair(server)
    found = await uploaded(server, token, b"contested", "c.txt")
    acks = await asyncio.gather(
        *(
            alice.call("message:send", {"topic": general, "body": f"try {n}", "files": [found["id"]]})
            for n in range(5)
        )
    )
    assert sorted(ack["ok"] for ack in acks) == [False] * 4 + [True]
    assert {ack["error"]["code"] for ack in acks if not ack["ok"]} == {"invalid"}
    winner = next(ack["data"] for ack in acks if ack["ok"])
    history = await alice.ok("history", {"topic": general})
    assert [m["id"] for m in history["messages"]] == [winner["id"]]
    assert [m["seq"] for m in history["messages"]] == [1]  # a refused send takes no seq


@pytest.mark.both_databases  # its own server: see the module's comment
async def test_files_come_in_history_backlog_and_search(live_server: LiveServer) -> None:
    alice, token = await offline_bob(live_server)
    alice_token = (
        await live_server.http.post("/api/auth/login", json={"username": "alice", "password": "password123"})
    ).json()["token"]
    found = await uploaded(live_server, alice_token, png(50, 40), "tiny.png")
    sent = await send(alice, {"topic": "general", "body": "look at this", "files": [found["id"]]})
    await send(alice, {"topic": "general", "body": "look, no file"})
    bob = await live_server.connect("bob", token)
    backlog = [await bob.next("message"), await bob.next("message")]
    assert [m["files"] for m in backlog] == [[found], []]
    history = await bob.ok("history", {"topic": "general"})
    assert [m["files"] for m in history["messages"]] == [[found], []]
    rest = await live_server.http.get("/api/topics/general/messages", headers=bearer(token))
    assert [m["files"] for m in rest.json()["messages"]] == [[found], []]
    hits = await bob.ok("search", {"q": "has:file"})
    assert [hit["message"]["id"] for hit in hits["hits"]] == [sent["id"]]
    assert hits["hits"][0]["message"]["files"] == [found]
    assert [h["message"]["id"] for h in (await bob.ok("search", {"q": "look has:file"}))["hits"]] == [
        sent["id"]
    ]


@SHARED
async def test_recovery_replays_files(server: LiveServer) -> None:
    alice, alice_token, gone, token, general = await shared_pair(server)
    await gone.close()
    bob = await RecoverySocket.connect(server.url, {"token": token, "recover": True})
    await bob.next("session")
    await send(alice, {"topic": general, "body": "seen"})
    offset = (await bob.messages(1))[-1][-1]
    pid = bob.pid
    await bob.close()
    found = await uploaded(server, alice_token, b"while away", "away.txt")
    missed = await send(alice, {"topic": general, "body": "", "files": [found["id"]]})
    back = await RecoverySocket.connect(server.url, {"token": token, "pid": pid, "offset": offset})
    assert back.reply["pid"] == pid
    replayed = [args[0] for args in await back.messages(1)]
    if replayed[0]["id"] != missed["id"]:  # the margin before the offset replays "seen" first
        replayed = [args[0] for args in await back.messages(1)]
    assert replayed[0]["files"] == [found]
    await back.close()


@SHARED
async def test_downloads_are_for_the_uploader_and_the_readers_of_its_message(server: LiveServer) -> None:
    alice, token, bob, bob_token, general = await shared_pair(server)
    carol_token = await server.register(f"carol{suffix()}")
    secret = f"secret{suffix()}"
    await alice.ok("topic:create", {"name": secret, "private": True})
    in_secret = await uploaded(server, token, b"for members", "s.txt")
    in_dm = await uploaded(server, token, b"for bob", "d.txt")
    loose = await uploaded(server, token, b"not sent yet", "l.txt")
    public = await uploaded(server, token, b"for anyone", "p.txt")
    await send(alice, {"topic": secret, "body": "", "files": [in_secret["id"]]})
    await send(alice, {"to": bob.username, "body": "", "files": [in_dm["id"]]})
    await send(alice, {"topic": general, "body": "", "files": [public["id"]]})

    async def status(file: dict[str, Any], who: str) -> int:
        response = await server.http.get(file["url"], headers=bearer(who))
        if response.status_code == 404:
            assert response.json()["error"]["message"] == f"no file with id {file['id']!r}"
        return response.status_code

    for file in (in_secret, in_dm, loose, public):
        assert await status(file, token) == 200  # the uploader
    assert await status(in_dm, bob_token) == 200
    assert await status(public, carol_token) == 200  # a public topic: anyone may read it
    assert await status(in_secret, bob_token) == 404
    assert await status(loose, bob_token) == 404
    assert await status(in_dm, carol_token) == 404
    assert await status(in_secret, carol_token) == 404
    missing = await server.http.get("/api/files/" + "f" * 32, headers=bearer(carol_token))
    assert missing.status_code == 404


@pytest.mark.both_databases  # its own server: see the module's comment
async def test_deleting_a_message_removes_its_files_and_their_blobs(live_server: LiveServer) -> None:
    alice, token, bob, bob_token = await alice_and_bob(live_server)
    found = await uploaded(live_server, token, png(), "gone.png")
    shared = await uploaded(live_server, bob_token, b"shared bytes", "mine.txt")
    kept = await uploaded(live_server, token, b"shared bytes", "theirs.txt")  # the same blob as bob's
    message = await send(alice, {"topic": "general", "body": "", "files": [found["id"], kept["id"]]})
    await bob.next("message")
    await alice.ok("message:delete", {"id": message["id"]})
    deleted = await bob.next("message:deleted")
    assert deleted.get("files", []) == []
    for file in (found, kept):
        assert (await live_server.http.get(file["url"], headers=bearer(token))).status_code == 404
    assert (
        await live_server.http.get(found["image"]["thumbnail_url"], headers=bearer(token))
    ).status_code == 404
    assert await count(live_server, File) == 1  # bob's upload of the shared bytes
    assert [path.name for path in blobs(live_server)] == [shared["sha256"]]
    history = await bob.ok("history", {"topic": "general"})
    assert history["messages"][0]["files"] == []
    assert (await bob.ok("search", {"q": "has:file"}))["hits"] == []
    assert (await live_server.http.get(shared["url"], headers=bearer(bob_token))).status_code == 200


@SHARED
async def test_an_edit_keeps_the_files(server: LiveServer) -> None:
    alice, token, _, _, general = await shared_pair(server)
    found = await uploaded(server, token, b"stays", "s.txt")
    message = await send(alice, {"topic": general, "body": "before", "files": [found["id"]]})
    edited = await alice.ok("message:edit", {"id": message["id"], "body": "after"})
    assert edited["files"] == [found]


@SHARED
async def test_thread_pages_and_pins_show_files(server: LiveServer) -> None:
    alice, token, bob, _, general = await shared_pair(server)
    root_file = await uploaded(server, token, b"root", "root.txt")
    reply_file = await uploaded(server, token, png(30, 20), "reply.png")
    root = await send(alice, {"topic": general, "body": "root", "files": [root_file["id"]]})
    await send(alice, {"topic": general, "body": "", "thread": root["id"], "files": [reply_file["id"]]})
    page = await bob.ok("thread:history", {"root": root["id"]})
    assert [m["files"] for m in page["messages"]] == [[reply_file]]
    await alice.ok("message:pin", {"id": root["id"]})
    pins = await bob.ok("topic:pins", {"topic": general})
    assert [m["files"] for m in pins["pins"]] == [[root_file]]
