"""Web Push end to end (PROTOCOL.md section 15) on a real server and both databases, against a
push service of the test's own that decrypts each push with the subscription's keys and checks
its VAPID signature (``tests/push_service.py``).

Bob, the usual recipient, has no socket unless a test gives him one: nothing but the rule under
test holds his pushes back. A push that must NOT come is checked against a positive control: a
later message that is pushed, before which the held-back one never arrived.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import NotifyJob, PushOutbox
from tests.edge.rest.test_topics_rest import Api, ok, refused
from tests.push_service import Browser, Push, PushService, b64url, push_service
from tests.support import Client, LiveServer
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases

WAIT = 15.0
PUBLIC_URL = "https://chat.example"
SLOW = {"push_delay": 3.0}  # the test acts on the message before its push is decided


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Pushes 0.3 s after the send, quick retries, the test's push service (127.0.0.1) let
    through the address guard; a test may add overrides (indirect parametrisation)."""
    overrides: dict[str, Any] = {
        "push_delay": 0.3,
        "push_allow_hosts": ["127.0.0.1"],
        "public_url": PUBLIC_URL,
        "webhook_retry_base": 0.1,
        **getattr(request, "param", {}),
    }
    return settings_for(tmp_path / "data", **overrides)


@pytest.fixture
async def pushes() -> AsyncIterator[PushService]:
    async with push_service() as service:
        yield service


@dataclass
class User:
    name: str
    api: Api
    browser: Browser
    token: str

    async def put(self, path: str, body: Any = None, method: str = "PUT") -> Any:
        return ok(await self.api.http.request(method, path, json=body, headers=self.api.headers))


async def user(live_server: LiveServer, pushes: PushService, name: str) -> User:
    """A user with one push subscription and no socket."""
    token = await live_server.register(name)
    api = Api(live_server, token)
    pushes.public_key = ok(await api.get("/api/push/key"))["public_key"]
    browser = pushes.browser(name)
    ok(await api.post("/api/push/subscriptions", browser.subscription), 201)
    return User(name, api, browser, token)


async def send(sender: User, body: str, to: str | None = None, topic: str | None = None) -> dict[str, Any]:
    target = {"to": to} if to is not None else {"topic": topic}
    sent: dict[str, Any] = ok(await sender.api.post("/api/messages", {**target, "body": body}), 201)
    return sent


async def decided(live_server: LiveServer) -> None:
    """Wait (bounded) until the notifier decided every message sent so far."""
    async with asyncio.timeout(WAIT):
        while True:
            async with live_server.chat.db.read() as repos:
                query = select(func.count()).select_from(NotifyJob)
                if (await repos.session.execute(query)).scalar_one() == 0:
                    return
            await asyncio.sleep(0.05)


async def first_push_to(pushes: PushService, who: User) -> Push:
    async with asyncio.timeout(WAIT):
        while (push := await pushes.next()).path != f"/push/{who.name}":
            pass
    return push


async def test_a_direct_message_is_pushed_once_encrypted_and_signed_with_the_payload_of_section_15(
    live_server, pushes
):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    await alice.put("/api/users/me", {"display_name": "Alice Liddell"}, method="PATCH")
    body = "é" * 130

    sent = await send(alice, body, to="bob")

    push = await pushes.next()
    assert push.problem is None and push.status == 201 and push.path == "/push/bob"
    assert push.payload == {
        "type": "message",
        "topic": "@alice",
        "id": sent["id"],
        "seq": sent["seq"],
        "sender": "alice",
        "title": "Alice Liddell",
        "body": "é" * 120,
        "url": f"{PUBLIC_URL}/#topic=%40alice&message={sent['id']}",
    }
    assert push.claims["aud"] == pushes.origin and push.claims["sub"] == "mailto:admin@localhost"
    mention = await send(bob, "ping @alice", topic="lobby")  # a mention in a topic, to alice
    second = await pushes.next()
    assert second.path == "/push/alice" and second.payload["title"] == "bob in #lobby"
    assert second.payload["topic"] == "lobby" and second.payload["id"] == mention["id"]
    assert second.payload["url"] == f"{PUBLIC_URL}/#topic=lobby&message={mention['id']}"
    assert [p.payload["id"] for p in pushes.received] == [sent["id"], mention["id"]]  # once each


async def test_429_and_500_are_retried_and_the_push_is_delivered_once(live_server, pushes):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    pushes.script = [429, 500]

    sent = await send(alice, "are you there?", to="bob")

    answers = [await pushes.next() for _ in range(3)]
    assert [p.status for p in answers] == [429, 500, 201]
    assert {p.payload["id"] for p in answers} == {sent["id"]}
    control = await send(alice, "control", to="bob")
    assert (await pushes.next_accepted()).payload["id"] == control["id"]
    assert [p.payload["id"] for p in pushes.accepted] == [sent["id"], control["id"]]
    del bob


@pytest.mark.parametrize("gone", [410, 404])
async def test_a_subscription_the_push_service_forgot_is_removed(live_server, pushes, gone):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    pushes.script = [gone]

    await send(alice, "hello", to="bob")

    assert (await pushes.next()).status == gone
    async with asyncio.timeout(WAIT):
        while ok(await bob.api.get("/api/push/subscriptions"))["subscriptions"]:
            await asyncio.sleep(0.05)
    del alice


async def test_only_members_mentioned_by_all_are_pushed_and_never_the_sender(live_server, pushes):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    carol = await user(live_server, pushes, "carol")

    everyone = await send(alice, "@all lunch?", topic="lobby")

    got = {(await pushes.next()).path for _ in range(2)}
    assert got == {"/push/bob", "/push/carol"}
    control = await send(bob, "and you?", to="alice")
    first = await first_push_to(pushes, alice)
    assert first.payload["id"] == control["id"]  # alice's own @all never reached her
    assert {p.payload["id"] for p in pushes.received if p.path != "/push/alice"} == {everyone["id"]}
    del carol


@pytest.mark.parametrize("settings", [SLOW], indirect=True)
async def test_a_message_read_or_deleted_within_the_delay_is_not_pushed(live_server, pushes):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    socket = await live_server.connect("bob", bob.token)
    await socket.ok("availability:set", {"availability": "away"})  # an away socket gets pushes
    read = await send(alice, "read me", to="bob")
    deleted = await send(alice, "oops", to="bob")

    await socket.ok("read", {"with": "alice", "seq": read["seq"]})
    ok(await alice.api.http.delete(f"/api/messages/{deleted['id']}", headers=alice.api.headers))
    control = await send(alice, "control", to="bob")

    push = await pushes.next(timeout=WAIT)
    assert push.payload["id"] == control["id"]


@pytest.mark.parametrize("settings", [{"webhook_retry_base": 2.0}], indirect=True)
async def test_a_push_to_retry_is_dropped_when_the_message_is_read_before_the_retry(live_server, pushes):
    """The cancel-on-read rule at the last moment: the first attempt got a 500 (retried 2-5 s
    later); bob reads the message meanwhile, and the retry's claim drops the row unsent."""
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    pushes.script = [500]
    sent = await send(alice, "read me later", to="bob")
    assert (await pushes.next()).status == 500
    socket = await live_server.connect("bob", bob.token)
    await socket.ok("availability:set", {"availability": "away"})

    await socket.ok("read", {"with": "alice", "seq": sent["seq"]})

    async with asyncio.timeout(WAIT):  # the retry's claim deletes the row (a sent one stays, ok)
        while await outbox_rows(live_server):
            await asyncio.sleep(0.05)
    control = await send(alice, "control", to="bob")
    assert (await pushes.next()).payload["id"] == control["id"]
    assert [p.payload["id"] for p in pushes.received] == [sent["id"], control["id"]]


async def outbox_rows(live_server: LiveServer) -> int:
    async with live_server.chat.db.read() as repos:
        query = select(func.count()).select_from(PushOutbox)  # a row sent stays (``ok``)
        return int((await repos.session.execute(query)).scalar_one())


async def test_the_key_is_public_and_the_same_as_the_one_kept_in_the_data_directory(live_server, pushes):
    key = ok(await live_server.http.get("/api/push/key"))["public_key"]
    assert len(b64decode_url(key)) == 65 and b64decode_url(key)[0] == 4
    assert (live_server.app.state.settings.data_dir / "vapid_private_key.pem").exists()


def b64decode_url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize("settings", [{"push_content": False}], indirect=True)
async def test_push_content_off_sends_an_empty_body(live_server, pushes):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")

    await send(alice, "the launch codes", to="bob")

    push = await pushes.next()
    assert push.payload["body"] == "" and push.payload["title"] == "alice"
    del bob


Setup = Callable[[LiveServer, User], Awaitable[Callable[[], Awaitable[None]]]]


async def dnd(live_server: LiveServer, bob: User) -> Callable[[], Awaitable[None]]:
    await bob.put("/api/users/me/availability", {"availability": "dnd"})
    return lambda: bob.put("/api/users/me/availability", {"availability": "auto"})


async def quiet_hours(live_server: LiveServer, bob: User) -> Callable[[], Awaitable[None]]:
    now = datetime.now(UTC)
    start, end = (now - timedelta(minutes=5)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    await bob.put("/api/users/me/notifications", {"quiet_hours": {"from": start, "to": end}})
    return lambda: bob.put("/api/users/me/notifications", {"quiet_hours": None})


async def push_off(live_server: LiveServer, bob: User) -> Callable[[], Awaitable[None]]:
    await bob.put("/api/users/me/notifications", {"push": False})
    return lambda: bob.put("/api/users/me/notifications", {"push": True})


async def notify_none(live_server: LiveServer, bob: User) -> Callable[[], Awaitable[None]]:
    await bob.put("/api/topics/lobby/notify", {"level": "none"})
    return lambda: bob.put("/api/topics/lobby/notify", {"level": "all"})


async def blocked(live_server: LiveServer, bob: User) -> Callable[[], Awaitable[None]]:
    await bob.put("/api/users/me/blocks/alice")

    async def unblock() -> None:
        ok(await bob.api.http.delete("/api/users/me/blocks/alice", headers=bob.api.headers))

    return unblock


async def online(live_server: LiveServer, bob: User) -> Callable[[], Awaitable[None]]:
    socket: Client = await live_server.connect("bob", bob.token)

    async def away() -> None:  # the same socket, away: pushes come again
        await socket.ok("availability:set", {"availability": "away"})

    return away


@pytest.mark.parametrize("hold", [dnd, quiet_hours, push_off, notify_none, blocked, online])
async def test_what_holds_a_push_back_and_the_push_once_it_no_longer_does(live_server, pushes, hold):
    """A mention of bob in the lobby while the rule holds (do-not-disturb, quiet hours, push off,
    the topic's level ``none``, bob blocked alice, bob online) is never pushed; the next one, once
    it no longer holds (an away socket among them), is."""
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    release = await hold(live_server, bob)

    await send(alice, "psst @bob", topic="lobby")
    await decided(live_server)
    await release()
    control = await send(alice, "now @bob", topic="lobby")

    assert (await first_push_to(pushes, bob)).payload["id"] == control["id"]


async def test_ones_own_message_is_not_pushed_to_oneself(live_server, pushes):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")

    await send(bob, "note to self @bob", topic="lobby")
    await send(bob, "hi", to="alice")
    await decided(live_server)
    control = await send(alice, "hi back", to="bob")

    assert (await first_push_to(pushes, bob)).payload["id"] == control["id"]


# Subscriptions over REST ------------------------------------------------------------------


async def test_subscriptions_are_listed_and_removed_by_their_owner_only(live_server, pushes):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")

    mine = ok(await alice.api.get("/api/push/subscriptions"))["subscriptions"]
    assert [set(s) for s in mine] == [{"id", "endpoint_host", "created_at"}]
    assert mine[0]["endpoint_host"] == "127.0.0.1"
    gone = await bob.api.http.delete(f"/api/push/subscriptions/{mine[0]['id']}", headers=bob.api.headers)
    refused(gone, 404, "not_found")
    removed = await alice.api.http.delete(
        f"/api/push/subscriptions/{mine[0]['id']}", headers=alice.api.headers
    )
    assert removed.status_code == 204
    assert ok(await alice.api.get("/api/push/subscriptions")) == {"subscriptions": []}


async def test_the_same_endpoint_again_is_one_subscription_now_the_callers(live_server, pushes):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    [alices] = ok(await alice.api.get("/api/push/subscriptions"))["subscriptions"]
    [bobs] = ok(await bob.api.get("/api/push/subscriptions"))["subscriptions"]

    again = ok(await bob.api.post("/api/push/subscriptions", alice.browser.subscription), 201)

    assert again["id"] == alices["id"]  # the one row of that endpoint
    assert ok(await alice.api.get("/api/push/subscriptions")) == {"subscriptions": []}
    listed = ok(await bob.api.get("/api/push/subscriptions"))["subscriptions"]
    assert sorted(s["id"] for s in listed) == sorted([bobs["id"], alices["id"]])


def changed(subscription: dict[str, Any], **change: Any) -> dict[str, Any]:
    keys = {**subscription["keys"], **change.pop("keys", {})}
    return {**subscription, **change, "keys": keys}


NOT_ON_THE_CURVE = b64url(b"\x04" + bytes(64))
BAD = [
    {"endpoint": "ftp://127.0.0.1/push/x"},
    {"endpoint": "not a url"},
    {"endpoint": "https://user:pw@push.example/x"},
    {"keys": {"p256dh": NOT_ON_THE_CURVE}},
    {"keys": {"p256dh": b64url(bytes(33))}},  # compressed-point size
    {"keys": {"p256dh": "not base64!"}},
    {"keys": {"auth": b64url(bytes(15))}},
]


@pytest.mark.parametrize("change", BAD)
async def test_a_malformed_subscription_is_invalid(live_server, pushes, change):
    alice = await user(live_server, pushes, "alice")
    posted = await alice.api.post(
        "/api/push/subscriptions", changed(pushes.browser("x").subscription, **change)
    )
    refused(posted, 422, "invalid")
    assert len(ok(await alice.api.get("/api/push/subscriptions"))["subscriptions"]) == 1


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://10.1.2.3/push/x",  # private
        "https://169.254.169.254/push/x",  # cloud metadata
        "https://[::1]/push/x",  # loopback, not in the allow list
        "http://push.example.com/push/x",  # http for a host not in the allow list
    ],
)
async def test_the_address_guard_refuses_an_endpoint_pushes_may_not_reach(live_server, pushes, endpoint):
    alice = await user(live_server, pushes, "alice")
    posted = await alice.api.post(
        "/api/push/subscriptions", {**pushes.browser("x").subscription, "endpoint": endpoint}
    )
    refused(posted, 422, "invalid")


async def test_at_most_20_subscriptions_per_user(live_server, pushes):
    alice = await user(live_server, pushes, "alice")
    for n in range(19):
        ok(await alice.api.post("/api/push/subscriptions", pushes.browser(f"a{n}").subscription), 201)

    refused(
        await alice.api.post("/api/push/subscriptions", pushes.browser("a21").subscription), 422, "invalid"
    )
    again = alice.browser.subscription  # one already held counts once
    ok(await alice.api.post("/api/push/subscriptions", again), 201)
