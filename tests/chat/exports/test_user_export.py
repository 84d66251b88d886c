"""A user's export (PROTOCOL.md section 16) end to end over REST against a real server: the ZIP
holds what the user sent (an edited message's latest body, replies and threads, uploads under their
names, a direct conversation as ``@other``) and nothing of other users' private conversations;
one an hour; only the user's own; gone after 7 days (the exports' clock moved forward); a pending
export is built by the next server to start. Both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from db.exports.repository import ExportRepository
from db.models import Export
from db.times import utc
from server.chat.exports.service import KEEP, ExportService
from server.chat.kernel.actors import Actor
from server.chat_factory import build_chat
from server.config import Settings
from tests.bots_support import Api, ok, refused, user_api
from tests.exports_support import exported, fetched, read, requested
from tests.files_support import png, uploaded
from tests.support import LiveServer, count, running
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases


def exports_of(live_server: LiveServer) -> ExportService:
    service = live_server.chat.exports
    assert service is not None
    return service


async def sent(api: Api, **message: object) -> dict[str, object]:
    found: dict[str, object] = ok(await api.post("/api/messages", message), 201)
    return found


async def test_the_zip_holds_what_the_user_sent_and_nothing_of_others_private_talk(
    live_server: LiveServer,
) -> None:
    alice, bob, carol = [await user_api(live_server, name) for name in ("alice", "bob", "carol")]
    picture = await uploaded(live_server, alice.token, png(64, 64), "me.png")
    change = {"display_name": "Alice A.", "avatar": picture["id"]}
    ok(await alice.http.patch("/api/users/me", json=change, headers=alice.headers))
    ok(await alice.http.put("/api/users/me/notifications", json={"email": False}, headers=alice.headers))
    note = await uploaded(live_server, alice.token, b"the minutes", "notes.txt")
    await uploaded(live_server, alice.token, b"other minutes", "notes.txt")  # the same name again
    ok(await alice.post("/api/topics", {"name": "general"}), 201)
    ok(await bob.post("/api/topics/general/subscribe"))
    first = await sent(alice, topic="general", body="first draft", files=[note["id"]])
    edit = {"body": "final words"}
    ok(await alice.http.put(f"/api/messages/{first['id']}", json=edit, headers=alice.headers))
    reply = await sent(alice, topic="general", body="in a thread", reply_to=first["id"], thread=first["id"])
    gone = await sent(alice, topic="general", body="regretted")
    ok(await alice.delete(f"/api/messages/{gone['id']}"))
    direct = await sent(alice, to="bob", body="just for bob")
    await sent(bob, topic="general", body="bob speaks in public")
    await sent(bob, to="alice", body="bob answers alice privately")
    await sent(bob, to="carol", body="bob and carol secret")
    await sent(carol, to="bob", body="carol answers bob")

    export = await exported(alice)

    assert {"profile.json", "topics.json", "messages.jsonl"} <= set(export.names)
    assert sorted(export.files) == [
        "files/me.png",
        "files/notes (2).txt",
        "files/notes.txt",
    ]  # a name met twice
    assert export.files["files/me.png"] == png(64, 64)
    assert export.profile["avatar"] == {"id": picture["id"], "path": "files/me.png"}
    assert export.profile["username"] == "alice" and export.profile["display_name"] == "Alice A."
    assert export.profile["notifications"]["email"] is False
    assert export.profile["email"] == {"address": None, "verified": False}
    lines = {line["id"]: line for line in export.messages}
    assert sorted(lines) == sorted([first["id"], reply["id"], direct["id"]])
    assert lines[first["id"]]["body"] == "final words" and lines[first["id"]]["edited_at"] is not None
    assert lines[first["id"]]["topic"] == "general" and lines[first["id"]]["seq"] == first["seq"]
    [attached] = lines[first["id"]]["files"]
    assert attached["id"] == note["id"] and attached["name"] == "notes.txt"
    assert export.files[attached["path"]] == b"the minutes"
    assert lines[reply["id"]]["reply_to"] == first["id"] and lines[reply["id"]]["thread"] == first["id"]
    assert (
        lines[direct["id"]]["topic"] == "@bob" and lines[direct["id"]]["created_at"] == direct["created_at"]
    )
    topics = {entry["topic"]: entry for entry in export.topics}
    assert topics["general"]["role"] == "owner" and topics["@bob"]["kind"] == "direct"
    for foreign in (b"first draft", b"regretted", b"bob speaks", b"bob answers", b"secret", b"carol answers"):
        assert foreign not in export.raw, foreign
    assert "@carol" not in topics


async def test_one_export_an_hour(live_server: LiveServer) -> None:
    alice = await user_api(live_server, "alice")
    await requested(alice)
    refused(await alice.post("/api/users/me/export"), 429, "rate_limited")
    late = await alice.post("/api/users/me/export")
    assert 3500 <= int(late.headers["retry-after"]) <= 3600
    exports_of(live_server).clock.advance(timedelta(minutes=59))
    refused(await alice.post("/api/users/me/export"), 429, "rate_limited")
    exports_of(live_server).clock.advance(timedelta(minutes=1, seconds=1))
    await requested(alice)
    bob = await user_api(live_server, "bob")  # the limit is each user's own
    await requested(bob)


async def test_another_users_export_is_not_found(live_server: LiveServer) -> None:
    alice, bob = await user_api(live_server, "alice"), await user_api(live_server, "bob")
    export_id = await requested(alice)
    assert (await fetched(alice, export_id)).status_code == 200
    refused(await bob.get(f"/api/users/me/exports/{export_id}"), 404, "not_found")
    refused(await bob.get("/api/users/me/exports/" + "0" * 32), 404, "not_found")
    refused(await bob.get("/api/users/me/exports/nonsense"), 404, "not_found")
    refused(await live_server.http.get(f"/api/users/me/exports/{export_id}"), 401, "unauthorized")


async def test_an_export_goes_after_seven_days(live_server: LiveServer) -> None:
    alice = await user_api(live_server, "alice")
    export_id = await requested(alice)
    assert (await fetched(alice, export_id)).status_code == 200
    exports = exports_of(live_server)
    zips = live_server.app.state.settings.resolved_exports_dir
    assert [path.name for path in zips.iterdir()] == [f"{export_id}.zip"]
    exports.clock.advance(timedelta(days=7) - timedelta(minutes=1))
    assert await exports.remove_expired() == 0  # not yet
    assert (await fetched(alice, export_id)).status_code == 200
    exports.clock.advance(timedelta(minutes=2))
    assert await exports.remove_expired() == 1
    refused(await alice.get(f"/api/users/me/exports/{export_id}"), 404, "not_found")
    assert list(zips.iterdir()) == [] and await count(live_server, Export) == 0


async def test_an_export_past_seven_days_is_refused_before_any_sweep_removes_it(
    live_server: LiveServer,
) -> None:
    """Issue 52 row 11: the age is checked when the export is asked for, not only by the 10-minute
    sweep; its ZIP may still be on disk, but it is never served."""
    alice = await user_api(live_server, "alice")
    export_id = await requested(alice)
    assert (await fetched(alice, export_id)).status_code == 200
    exports = exports_of(live_server)
    async with live_server.chat.db.read() as repos:
        record = await repos.of(ExportRepository).get(export_id)
    assert record is not None
    # From when it was asked for (building it took a while on a loaded machine): a minute short
    # of its age, then a minute past it.
    exports.clock.advance(KEEP - (exports.clock.now() - utc(record.requested_at)) - timedelta(minutes=1))
    assert (await alice.get(f"/api/users/me/exports/{export_id}")).status_code == 200  # not yet
    exports.clock.advance(timedelta(minutes=2))  # past its age; no sweep has run
    zips = live_server.app.state.settings.resolved_exports_dir
    assert [path.name for path in zips.iterdir()] == [f"{export_id}.zip"]
    refused(await alice.get(f"/api/users/me/exports/{export_id}"), 404, "not_found")


async def test_a_pending_export_is_built_by_the_next_server(live_server: LiveServer) -> None:
    alice = await user_api(live_server, "alice")
    ok(await alice.post("/api/topics", {"name": "general"}), 201)
    said = await sent(alice, topic="general", body="before the restart")
    settings: Settings = live_server.app.state.settings
    me = ok(await alice.get("/api/users/me"))
    del me
    async with live_server.chat.db.read() as repos:
        user = await repos.users.by_name("alice")
    assert user is not None
    # A process that is no server (the command line) stores a request and builds nothing; the
    # row is left leased, as by a worker killed in the middle of a build.
    chat = build_chat(settings)
    await chat.start()
    try:
        assert chat.exports is not None
        created = await chat.exports.request(Actor(user.id, "alice"))
        async with chat.db.write() as repos:
            leased = update(Export).values(locked_until=chat.exports.clock.now() + timedelta(minutes=5))
            await repos.session.execute(leased)
    finally:
        await chat.stop()
        await chat.db.dispose()
    assert (await alice.get(f"/api/users/me/exports/{created.id}")).status_code == 202
    if not settings.resolved_database_url.startswith("sqlite"):
        # PostgreSQL: the lease of a killed node's worker ends; here it ends at once
        async with live_server.chat.db.write() as repos:
            await repos.session.execute(update(Export).values(locked_until=None))
    async with running(settings) as restarted:  # a second server, as after a restart
        response = await fetched(Api(restarted, alice.token), created.id)
        assert response.status_code == 200, response.text
        assert [line["id"] for line in read(response.content).messages] == [said["id"]]


async def test_an_export_that_cannot_be_built_fails_and_may_be_asked_for_again(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("the exports directory cannot be made here")
    async with running(settings_for(tmp_path / "data", exports_dir=blocked)) as server:
        alice = await user_api(server, "alice")
        export_id = await requested(alice)
        refused(await fetched(alice, export_id), 409, "conflict")  # after its three attempts
        async with server.chat.db.read() as repos:
            found = await repos.of(ExportRepository).get(export_id)
        assert found is not None and found.attempts == 3 and found.error
        await requested(alice)  # a failed export does not count for the hour
