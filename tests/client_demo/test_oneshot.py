"""The one-shot subcommands against a real server, run as a user runs them."""

from __future__ import annotations

import json
import re

from tests.client_demo.conftest import Spawn
from tests.client_demo.demo import demo_env, run_demo
from tests.support import PASSWORD, LiveServer

SENT = re.compile(r"^sent id=(\d+) seq=(\d+) topic=(\S+)$")


def login_args(live_server: LiveServer, user: str) -> tuple[str, ...]:
    return ("--url", live_server.url, "--user", user, "--password-stdin")


async def demo_as(live_server: LiveServer, user: str, *args: str) -> tuple[int, list[str], list[str]]:
    done = await run_demo(*login_args(live_server, user), *args, stdin=PASSWORD + "\n")
    return done.code, done.out, done.err


async def test_listen_prints_the_messages_another_user_sends(live_server: LiveServer, spawn: Spawn) -> None:
    for user in ("alice", "bob", "carol"):
        await live_server.register(user)
    code, out, _ = await demo_as(live_server, "alice", "create", "plaza")
    assert (code, out) == (0, ["created plaza (public)"])
    # A message from before the listener starts is history, not news.
    assert (await demo_as(live_server, "alice", "send", "--topic", "plaza", "old news"))[0] == 0

    listener = await spawn(
        "--user", "bob", "--password-stdin", "listen", "--topic", "plaza", "--count", "2", "--json"
    )
    await listener.write(PASSWORD)
    await listener.expect("listening on plaza", stream="err")

    # carol is not a member: `send` joins the public topic and posts.
    sent = []
    for body in ("first", "second"):
        code, out, err = await demo_as(live_server, "carol", "send", "--topic", "plaza", body)
        assert code == 0, err
        match = SENT.match(out[0])
        assert match, out
        sent.append((int(match[1]), int(match[2]), match[3]))

    assert await listener.wait() == 0, listener.transcript()
    received = [json.loads(line) for line in listener.out]
    assert [(m["id"], m["seq"], m["topic"]) for m in received] == sent
    assert [(m["sender"], m["body"], m["kind"]) for m in received] == [
        ("carol", "first", "public"),
        ("carol", "second", "public"),
    ]
    assert [seq for _, seq, _ in sent] == [2, 3]


async def test_listen_acknowledges_delivery(live_server: LiveServer, spawn: Spawn) -> None:
    alice = await live_server.user("alice")
    await live_server.register("bob")
    await alice.ok("topic:create", {"name": "acks"})
    listener = await spawn("--user", "bob", "--password-stdin", "listen", "--topic", "acks", "--count", "1")
    await listener.write(PASSWORD)
    await listener.expect("listening on acks", stream="err")
    sent = await alice.ok("message:send", {"topic": "acks", "body": "seen once"})
    assert await listener.wait() == 0, listener.transcript()
    assert listener.out[0].endswith(f"[acks #1] alice: seen once  (id {sent['id']})")

    # bob reconnects: the backlog would come right after `session`, before
    # anything new. The first message he gets must be the new one.
    login = await live_server.http.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    bob = await live_server.connect("bob", login.json()["token"])
    await alice.ok("message:send", {"topic": "acks", "body": "marker"})
    assert (await bob.next("message"))["body"] == "marker"


async def test_listen_follows_a_rename_and_ends_when_the_topic_is_deleted(
    live_server: LiveServer, spawn: Spawn
) -> None:
    alice = await live_server.user("alice")
    await live_server.register("bob")
    await alice.ok("topic:create", {"name": "ops"})
    listener = await spawn("--user", "bob", "--password-stdin", "listen", "--topic", "ops")
    await listener.write(PASSWORD)
    await listener.expect("listening on ops", stream="err")

    await live_server.chat.topic_admin.rename("ops", "operations")  # what `parley topic rename` calls
    await listener.expect("* topic ops was renamed to operations", stream="err")
    sent = await alice.ok("message:send", {"topic": "operations", "body": "same place, new name"})
    line = await listener.expect("same place, new name")
    assert line.endswith(f"[operations #1] alice: same place, new name  (id {sent['id']})")

    await live_server.chat.topic_admin.delete("operations")
    await listener.expect("* topic operations was deleted", stream="err")
    await listener.expect("error: not_found: topic operations was deleted", stream="err")
    assert await listener.wait() == 1, listener.transcript()


async def test_send_to_a_user_is_a_direct_message(live_server: LiveServer) -> None:
    await live_server.register("alice")
    bob_token = await live_server.register("bob")
    code, out, err = await demo_as(live_server, "alice", "send", "--to", "bob", "--json", "psst,", "bob")
    assert code == 0, err
    message = json.loads(out[0])
    assert (message["topic"], message["kind"], message["sender"], message["body"]) == (
        "@bob",
        "direct",
        "alice",
        "psst, bob",
    )

    page = await live_server.http.get(
        "/api/conversations/alice/messages", headers={"Authorization": f"Bearer {bob_token}"}
    )
    assert page.status_code == 200, page.text
    [stored] = page.json()["messages"]
    assert (stored["id"], stored["topic"], stored["body"]) == (message["id"], "@alice", "psst, bob")


async def test_token_from_the_environment(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    await live_server.register("bob")
    done = await run_demo(
        "--url", live_server.url, "send", "--to", "bob", "hi", env=demo_env(PARLEY_TOKEN=token)
    )
    assert done.code == 0, done.err
    assert SENT.match(done.out[0]) and done.out[0].endswith("topic=@bob")


async def test_wrong_password_exits_1_with_the_error_in_words(live_server: LiveServer) -> None:
    await live_server.register("alice")
    done = await run_demo(*login_args(live_server, "alice"), "topics", stdin="not-the-password\n")
    assert done.code == 1
    assert done.out == []
    assert done.err[-1].startswith("error: unauthorized: ")
    assert not any("Traceback" in line for line in done.err)

    # --register cannot take over an existing name either.
    done = await run_demo(
        *login_args(live_server, "alice"), "--register", "topics", stdin="not-the-password\n"
    )
    assert (done.code, done.err[-1]) == (1, "error: unauthorized: wrong password for 'alice'")


async def test_register_then_login(live_server: LiveServer) -> None:
    code, _, err = await demo_as(live_server, "dora", "--register", "topics")
    assert code == 0, err
    code, _, err = await demo_as(live_server, "dora", "topics")
    assert code == 0, err


async def test_errors_from_the_server_exit_1(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    await live_server.register("bob")
    await alice.ok("topic:create", {"name": "vault", "private": True})
    code, out, err = await demo_as(live_server, "bob", "send", "--topic", "vault", "let me in")
    assert (code, out) == (1, [])
    assert err[-1].startswith("error: not_found: ")

    bad = await run_demo("--url", live_server.url, "--token", "not-a-jwt", "topics")
    assert (bad.code, bad.err[-1].split(":")[0:2]) == (1, ["error", " unauthorized"])


async def test_a_revoked_token_is_refused_in_words(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    logout = await live_server.http.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert logout.is_success, logout.text
    done = await run_demo("--url", live_server.url, "--token", token, "topics")
    assert done.code == 1
    assert done.err[-1].startswith("error: token_revoked: ")


async def test_usage_errors_exit_2(live_server: LiveServer) -> None:
    no_target = await run_demo("--url", live_server.url, "--token", "x", "send", "hello")
    assert no_target.code == 2
    no_user = await run_demo("--url", live_server.url, "topics")
    assert no_user.code == 2
    assert no_user.err == ["usage: give --user NAME (or --token / PARLEY_TOKEN)"]
