"""The interactive client driven through stdin, as a script would drive it."""

from __future__ import annotations

import pytest

from client_demo.interactive import merged
from tests.client_demo.conftest import Spawn
from tests.client_demo.demo import demo_env
from tests.support import PASSWORD, LiveServer


async def test_a_session_through_a_pipe(live_server: LiveServer, spawn: Spawn) -> None:
    alice = await spawn("--user", "alice", "--password-stdin", "--register")
    await alice.write(PASSWORD)
    await alice.expect("connected to")
    await alice.expect("type /help")

    await alice.write("/create den")
    await alice.expect("created den (public)")
    await alice.write("/join den")
    await alice.expect("joined den (public, 1 member")
    await alice.write("hello from the pipe")
    await alice.expect("[den #1] alice: hello from the pipe")

    # Live: bob joins and talks; alice sees it as it happens.
    bob = await live_server.user("bob")
    await bob.ok("topic:subscribe", {"topic": "den"})
    await bob.ok("message:send", {"topic": "den", "body": "hi alice"})
    await alice.expect("[den #2] bob: hi alice")

    await alice.write("/history")
    await alice.expect("--- history of den: 2 messages ---")
    assert "alice: hello from the pipe  (id " in await alice.expect("[den #")
    assert "bob: hi alice  (id " in await alice.expect("[den #")

    await alice.write("/members")
    members = {await alice.expect("line)"), await alice.expect("line)")}
    # a public topic shares no presence (PROTOCOL.md section 4): bob shows offline to alice
    assert members == {"alice (owner, online)", "bob (member, offline)"}
    await alice.write("/members BO")  # the server finds them: #lobby's whole list is every account
    assert await alice.expect("line)") == "bob (member, offline)"
    await alice.write("/members zed")
    await alice.expect("* no member of den is named zed...")

    await alice.write("/msg bob psst")
    await alice.expect("[@bob #1] alice: psst")
    direct = await bob.next("message")
    while direct["kind"] != "direct":  # skip bob's copy of his own topic message
        direct = await bob.next("message")
    assert (direct["topic"], direct["sender"], direct["body"]) == ("@alice", "alice", "psst")

    await alice.write("/create hideout --private")
    await alice.expect("created hideout (private)")
    await alice.write("/invite hideout bob")
    await alice.expect("invited bob to hideout")
    invited = await bob.next("topic:invited")
    assert (invited["topic"]["name"], invited["by"]) == ("hideout", "alice")

    await alice.write("/join nowhere")
    assert (await alice.expect("error:", stream="err")).startswith("error: not_found: ")
    await alice.write("/frobnicate")
    await alice.expect("usage: unknown command /frobnicate (try /help)", stream="err")

    await alice.write("/quit")
    await alice.expect("bye")
    assert await alice.wait() == 0, alice.transcript()
    assert not any("Traceback" in line for line in alice.err)

    page = await live_server.http.get(
        "/api/topics/den/messages", headers={"Authorization": f"Bearer {await bob_token(live_server)}"}
    )
    assert page.status_code == 200, page.text
    stored = [(m["seq"], m["sender"], m["body"]) for m in page.json()["messages"]]
    assert stored == [(1, "alice", "hello from the pipe"), (2, "bob", "hi alice")]


async def test_live_events_and_end_of_input(live_server: LiveServer, spawn: Spawn) -> None:
    token = await live_server.register("alice")
    bob_token = await live_server.register("bob")
    bob = await live_server.connect("bob", bob_token)
    alice = await spawn(env=demo_env(PARLEY_TOKEN=token))
    await alice.expect("connected to")

    await bob.ok("topic:create", {"name": "vault", "private": True})
    await bob.ok("topic:invite", {"topic": "vault", "username": "alice"})
    await alice.expect("* bob added you to vault (private): /join vault")
    await bob.ok("topic:create", {"name": "news"})  # a public one: everyone online hears of it
    await alice.expect("* bob created news (public): /join news")
    await alice.write("/join vault")
    await alice.expect("joined vault (private, 2 members")

    sent = await bob.ok("message:send", {"topic": "vault", "body": "draft"})
    await alice.expect(f"[vault #1] bob: draft  (id {sent['id']})")  # the id /edit and /delete take
    await bob.ok("message:edit", {"id": sent["id"], "body": "final"})
    await alice.expect(f"[vault #1] bob edited: final  (id {sent['id']})")
    await bob.ok("typing", {"topic": "vault", "typing": True})
    await alice.expect("* bob is typing in vault...")
    await alice.write("/read")
    await alice.expect("marked vault read up to #1")
    assert (await bob.next("read"))["username"] == "alice"
    await bob.ok("message:delete", {"id": sent["id"]})
    await alice.expect(f"* message {sent['id']} in vault was deleted")

    # bob and alice share a private topic: alice sees him come and go.
    await bob.close()
    await alice.expect("* bob is offline (last seen ")
    bob_again = await live_server.connect("bob", bob_token)
    await alice.expect("* bob is online")

    await alice.write("/leave")
    await alice.expect("left vault")
    members = await bob_again.ok("topic:members", {"topic": "vault"})
    assert [m["username"] for m in members["members"]] == ["bob"]

    await alice.close_stdin()  # end of input acts like /quit
    await alice.expect("bye")
    assert await alice.wait() == 0, alice.transcript()


async def test_missed_messages_are_shown_on_connect(live_server: LiveServer, spawn: Spawn) -> None:
    token = await live_server.register("alice")
    bob = await live_server.user("bob")
    await bob.ok("message:send", {"to": "alice", "body": "while you were out"})
    alice = await spawn("--token", token)
    await alice.expect("connected to")
    await alice.expect("[@bob #1] bob: while you were out")
    await alice.write("/quit")
    assert await alice.wait() == 0, alice.transcript()

    # Shown once, acknowledged on the way out: the next session has no backlog.
    again = await spawn("--token", token)
    await again.expect("connected to")
    new = await bob.ok("message:send", {"to": "alice", "body": "new"})
    assert (await again.expect("[@bob #")).endswith(f"#2] bob: new  (id {new['id']})")
    await again.write("/quit")
    assert await again.wait() == 0, again.transcript()


async def bob_token(live_server: LiveServer) -> str:
    login = await live_server.http.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    token: str = login.json()["token"]
    return token


async def test_the_id_a_line_shows_is_the_one_edit_and_delete_take(
    live_server: LiveServer, spawn: Spawn
) -> None:
    alice = await spawn("--user", "alice", "--password-stdin", "--register")
    await alice.write(PASSWORD)
    await alice.expect("type /help")
    await alice.write("/join lobby")
    await alice.expect("joined lobby")
    await alice.write("helo")
    line = await alice.expect("alice: helo")
    shown = line.rsplit("(id ", 1)[1].rstrip(")")
    await alice.write(f"/edit {shown} hello")
    await alice.expect(f"alice edited: hello  (id {shown})")
    await alice.write(f"/delete {shown}")
    await alice.expect(f"* message {shown} in lobby was deleted")


async def test_a_topic_renamed_by_an_operator_stays_current_under_its_new_name(
    live_server: LiveServer, spawn: Spawn
) -> None:
    token = await live_server.register("alice")
    alice = await spawn(env=demo_env(PARLEY_TOKEN=token))
    await alice.expect("connected to")
    await alice.write("/create lobby2")
    await alice.expect("created lobby2 (public)")
    await alice.write("/join lobby2")
    await alice.expect("joined lobby2")
    await alice.write("before")
    await alice.expect("[lobby2 #1] alice: before")

    await live_server.chat.topic_admin.rename("lobby2", "lobby3")  # what `parley topic rename` calls
    await alice.expect("* topic lobby2 was renamed to lobby3")

    await alice.write("after")  # plain text goes to the current topic: its new name
    await alice.expect("[lobby3 #2] alice: after")
    await alice.write("/read")
    await alice.expect("marked lobby3 read up to #2")
    await alice.write("/topics")
    assert (await alice.expect("lobby3")).startswith("* lobby3 ")
    await alice.write("/quit")
    assert await alice.wait() == 0, alice.transcript()
    assert alice.err == [], alice.transcript()


async def test_a_topic_deleted_by_an_operator_is_no_longer_current(
    live_server: LiveServer, spawn: Spawn
) -> None:
    token = await live_server.register("alice")
    alice = await spawn(env=demo_env(PARLEY_TOKEN=token))
    await alice.expect("connected to")
    for name in ("keep", "ops"):
        await alice.write(f"/create {name}")
        await alice.expect(f"created {name} (public)")
        await alice.write(f"/join {name}")
        await alice.expect(f"joined {name}")
    await alice.write("soon gone")
    await alice.expect("[ops #1] alice: soon gone")

    await live_server.chat.topic_admin.delete("keep")  # not the current topic: nothing else changes
    await alice.expect("* topic keep was deleted")
    await alice.write("still here")
    await alice.expect("[ops #2] alice: still here")

    await live_server.chat.topic_admin.delete("ops")
    await alice.expect("* topic ops was deleted")
    await alice.expect("* you were in ops: /join NAME or /join @USER to talk elsewhere")
    await alice.write("into the void")
    await alice.expect("usage: no current conversation", stream="err")
    await alice.write("/quit")
    assert await alice.wait() == 0, alice.transcript()
    assert not any("you were in keep" in line for line in alice.out), alice.transcript()


async def test_unpreview_asks_the_server_and_says_why_it_refused(
    live_server: LiveServer, spawn: Spawn
) -> None:
    """``/unpreview ID`` sends ``message:previews:remove`` (PROTOCOL.md section 13) and shows a refusal.

    bob's message is not alice's to change: the server refuses whether or not it has previews yet.
    """
    bob = await live_server.user("bob")
    await bob.ok("topic:create", {"name": "links"})
    sent = await bob.ok("message:send", {"topic": "links", "body": "see https://example.org"})
    alice = await spawn("--user", "alice", "--password-stdin", "--register")
    await alice.write(PASSWORD)
    await alice.expect("type /help")
    await alice.write("/help")
    await alice.expect("/unpreview ID")
    await alice.write(f"/unpreview {sent['id']}")
    assert (await alice.expect("error:", stream="err")).startswith("error: forbidden: "), alice.transcript()
    await alice.write("/unpreview twelve")
    await alice.expect("usage: expected a number, got 'twelve'", stream="err")
    await alice.write("/quit")
    assert await alice.wait() == 0, alice.transcript()


def test_a_command_word_claimed_by_two_modules_fails_at_start() -> None:
    async def one(rest: str) -> None: ...

    async def other(rest: str) -> None: ...

    assert merged({"pins": one}, {"notify": other}) == {"pins": one, "notify": other}
    with pytest.raises(ValueError, match="claimed twice: notify"):
        merged({"notify": one}, {"notify": other})
