"""Web Push end to end (PROTOCOL.md section 15) on a real server and both databases, against a
push service of the test's own that decrypts each push with the subscription's keys and checks
its VAPID signature (``tests/push_service.py``).

Bob, the usual recipient, has no socket unless a test gives him one: nothing but the rule under
test holds his pushes back. A push that must NOT come is checked against a positive control: a
later message that is pushed, before which the held-back one never arrived.

One server and one push service per database serve the module: each test has users of its own
(``alice`` is ``alice7`` in one test, ``alice8`` in the next, each at their own path of the push
service) and reads the pushes sent to them (``Inbox``), whatever else arrived meanwhile. A test
that scripts the push service's answers first waits until no push is owed (``quiet``); a test that
needs other settings runs a server and a push service of its own.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from db.models import NotifyJob, PushOutbox
from server.chat.kernel.periodic import IdlePoll
from server.config import Settings
from tests.edge.rest.test_topics_rest import Api, ok, refused
from tests.push_service import Browser, Push, PushService, b64url, push_service
from tests.support import Client, LiveServer, running_on
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

WAIT = 15.0
PUBLIC_URL = "https://chat.example"
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NUMBERS = itertools.count(1)


def push_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Pushes 0.05 s after the send, quick retries, the test's push service (127.0.0.1) let
    through the address guard."""
    values: dict[str, Any] = {
        "push_delay": 0.05,
        "push_allow_hosts": ["127.0.0.1"],
        "public_url": PUBLIC_URL,
        "webhook_retry_base": 0.1,
    }
    return settings_for(data_dir, **{**values, **overrides})


class Inbox:
    """A push service read per subscription path: ``next_to`` waits for the next push to a user
    and keeps the others', which other tests' users are sent meanwhile."""

    def __init__(self, service: PushService) -> None:
        self.service = service
        self._unread: defaultdict[str, deque[Push]] = defaultdict(deque)

    async def next_to(self, who: User, timeout: float = WAIT) -> Push:
        async with asyncio.timeout(timeout):
            while not self._unread[who.path]:
                push = await self.service.next(timeout=timeout)
                self._unread[push.path].append(push)
        return self._unread[who.path].popleft()

    async def next_accepted_to(self, who: User) -> Push:
        """The next push to ``who`` answered 2xx (others that arrive first are skipped)."""
        while not 200 <= (push := await self.next_to(who)).status < 300:
            pass
        return push

    def received_by(self, *users: User) -> list[Push]:
        """Every push ``users`` were sent, read or not, in the order they came."""
        paths = {user.path for user in users}
        return [push for push in self.service.received if push.path in paths]


@pytest.fixture(scope="module", params=DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pushes() -> AsyncIterator[PushService]:
    async with push_service() as service:
        yield service


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def inbox(pushes: PushService) -> Inbox:
    return Inbox(pushes)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live_server(tmp_path_factory: pytest.TempPathFactory, database: str) -> AsyncIterator[LiveServer]:
    async with running_on(push_settings(tmp_path_factory.mktemp("push") / "data"), database) as server:
        yield server


@asynccontextmanager
async def own_server(
    tmp_path: Path, database: str, **overrides: Any
) -> AsyncIterator[tuple[LiveServer, PushService, Inbox]]:
    """A server with other settings, and a push service of its own."""
    async with push_service() as service:
        async with running_on(push_settings(tmp_path / "data", **overrides), database) as server:
            yield server, service, Inbox(service)


@dataclass
class User:
    name: str
    api: Api
    browser: Browser
    token: str

    @property
    def path(self) -> str:
        """Where the push service receives this user's pushes."""
        return f"/push/{self.name}"

    async def put(self, path: str, body: Any = None, method: str = "PUT") -> Any:
        return ok(await self.api.http.request(method, path, json=body, headers=self.api.headers))


async def user(live_server: LiveServer, pushes: PushService, name: str) -> User:
    """A user of this test's own (``name`` and a number) with one push subscription and no socket."""
    name = f"{name}{next(NUMBERS)}"
    token = await live_server.register(name)
    api = Api(live_server, token)
    pushes.public_key = ok(await api.get("/api/push/key"))["public_key"]
    browser = pushes.browser(name)
    ok(await api.post("/api/push/subscriptions", browser.subscription), 201)
    return User(name, api, browser, token)


async def send(sender: User, body: str, to: User | None = None, topic: str | None = None) -> dict[str, Any]:
    target = {"to": to.name} if to is not None else {"topic": topic}
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


async def quiet(live_server: LiveServer) -> None:
    """Wait (bounded) until no push is owed: every message decided, no push pending. The push
    service's script then answers this test's pushes, not a late one of another test."""
    await decided(live_server)
    async with asyncio.timeout(WAIT):
        while True:
            async with live_server.chat.db.read() as repos:
                query = select(func.count()).select_from(PushOutbox).where(PushOutbox.status == "pending")
                if (await repos.session.execute(query)).scalar_one() == 0:
                    return
            await asyncio.sleep(0.05)


async def test_a_direct_message_is_pushed_once_encrypted_and_signed_with_the_payload_of_section_15(
    live_server, pushes, inbox
):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    await alice.put("/api/users/me", {"display_name": "Alice Liddell"}, method="PATCH")
    body = "é" * 130

    sent = await send(alice, body, to=bob)

    push = await inbox.next_to(bob)
    assert push.problem is None and push.status == 201 and push.path == bob.path
    assert push.payload == {
        "type": "message",
        "topic": f"@{alice.name}",
        "id": sent["id"],
        "seq": sent["seq"],
        "sender": alice.name,
        "title": "Alice Liddell",
        "body": "é" * 120,
        "url": f"{PUBLIC_URL}/#topic=%40{alice.name}&message={sent['id']}",
    }
    assert push.claims["aud"] == pushes.origin and push.claims["sub"] == "mailto:admin@localhost"
    mention = await send(bob, f"ping @{alice.name}", topic="lobby")  # a mention in a topic, to alice
    second = await inbox.next_to(alice)
    assert second.path == alice.path and second.payload["title"] == f"{bob.name} in #lobby"
    assert second.payload["topic"] == "lobby" and second.payload["id"] == mention["id"]
    assert second.payload["url"] == f"{PUBLIC_URL}/#topic=lobby&message={mention['id']}"
    assert [p.payload["id"] for p in inbox.received_by(alice, bob)] == [
        sent["id"],
        mention["id"],
    ]  # once each


async def test_429_and_500_are_retried_and_the_push_is_delivered_once(live_server, pushes, inbox):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    await quiet(live_server)
    pushes.script = [429, 500]

    sent = await send(alice, "are you there?", to=bob)

    answers = [await inbox.next_to(bob) for _ in range(3)]
    assert [p.status for p in answers] == [429, 500, 201]
    assert {p.payload["id"] for p in answers} == {sent["id"]}
    control = await send(alice, "control", to=bob)
    assert (await inbox.next_accepted_to(bob)).payload["id"] == control["id"]
    accepted = [p.payload["id"] for p in inbox.received_by(bob) if 200 <= p.status < 300]
    assert accepted == [sent["id"], control["id"]]


async def test_a_retry_goes_out_when_it_falls_due_without_waiting_for_a_poll(tmp_path, database):
    """The worker wakes for a retry it recorded: with its polls an hour apart, the 500's retry
    (a tenth of a second later) still reaches the push service. Before, it waited for the next
    poll (1 to 4 s), and a test of retries paid that wait for each one."""
    async with own_server(tmp_path, database) as (live_server, pushes, inbox):
        worker = live_server.chat.push_worker
        assert worker is not None
        worker.poll = IdlePoll(3600.0, 3600.0)
        alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
        pushes.script = [500, 503]

        sent = await send(alice, "soon", to=bob)

        answers = [await inbox.next_to(bob) for _ in range(3)]
        assert [p.status for p in answers] == [500, 503, 201]
        assert {p.payload["id"] for p in answers} == {sent["id"]}


@pytest.mark.parametrize("gone", [410, 404])
async def test_a_subscription_the_push_service_forgot_is_removed(live_server, pushes, inbox, gone):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    await quiet(live_server)
    pushes.script = [gone]

    await send(alice, "hello", to=bob)

    assert (await inbox.next_to(bob)).status == gone
    async with asyncio.timeout(WAIT):
        while ok(await bob.api.get("/api/push/subscriptions"))["subscriptions"]:
            await asyncio.sleep(0.05)


async def test_only_members_mentioned_by_all_are_pushed_and_never_the_sender(live_server, pushes, inbox):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    carol = await user(live_server, pushes, "carol")
    topic = f"lunch{next(NUMBERS)}"  # the lobby has every user of the module
    ok(await alice.api.post("/api/topics", {"name": topic}), 201)
    for member in (bob, carol):
        ok(await member.api.post(f"/api/topics/{topic}/subscribe"))

    everyone = await send(alice, "@all lunch?", topic=topic)

    got = {(await inbox.next_to(member)).path for member in (bob, carol)}
    assert got == {bob.path, carol.path}
    control = await send(bob, "and you?", to=alice)
    first = await inbox.next_to(alice)
    assert first.payload["id"] == control["id"]  # alice's own @all never reached her
    assert {p.payload["id"] for p in inbox.received_by(bob, carol)} == {everyone["id"]}


async def test_a_push_to_retry_is_dropped_when_the_message_is_read_before_the_retry(tmp_path, database):
    """The cancel-on-read rule at the last moment: the first attempt got a 500 (retried 2-5 s
    later); bob reads the message meanwhile, and the retry's claim drops the row unsent."""
    async with own_server(tmp_path, database, webhook_retry_base=2.0) as (live_server, pushes, inbox):
        alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
        pushes.script = [500]
        sent = await send(alice, "read me later", to=bob)
        assert (await inbox.next_to(bob)).status == 500
        socket = await live_server.connect(bob.name, bob.token)
        await socket.ok("availability:set", {"availability": "away"})

        await socket.ok("read", {"with": alice.name, "seq": sent["seq"]})

        async with asyncio.timeout(WAIT):  # the retry's claim deletes the row (a sent one stays, ok)
            while await outbox_rows(live_server):
                await asyncio.sleep(0.05)
        control = await send(alice, "control", to=bob)
        assert (await inbox.next_to(bob)).payload["id"] == control["id"]
        assert [p.payload["id"] for p in pushes.received] == [sent["id"], control["id"]]


async def outbox_rows(live_server: LiveServer) -> int:
    async with live_server.chat.db.read() as repos:
        query = select(func.count()).select_from(PushOutbox)  # a row sent stays (``ok``)
        return int((await repos.session.execute(query)).scalar_one())


async def test_the_key_is_public_and_the_same_as_the_one_kept_in_the_data_directory(live_server):
    key = ok(await live_server.http.get("/api/push/key"))["public_key"]
    assert len(b64decode_url(key)) == 65 and b64decode_url(key)[0] == 4
    assert (live_server.app.state.settings.data_dir / "vapid_private_key.pem").exists()


def b64decode_url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def test_push_content_off_sends_an_empty_body(tmp_path, database):
    async with own_server(tmp_path, database, push_content=False) as (live_server, pushes, inbox):
        alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")

        await send(alice, "the launch codes", to=bob)

        push = await inbox.next_to(bob)
        assert push.payload["body"] == "" and push.payload["title"] == alice.name


Setup = Callable[[LiveServer, User, User], Awaitable[Callable[[], Awaitable[None]]]]


async def dnd(live_server: LiveServer, bob: User, alice: User) -> Callable[[], Awaitable[None]]:
    await bob.put("/api/users/me/availability", {"availability": "dnd"})
    return lambda: bob.put("/api/users/me/availability", {"availability": "auto"})


async def quiet_hours(live_server: LiveServer, bob: User, alice: User) -> Callable[[], Awaitable[None]]:
    now = datetime.now(UTC)
    start, end = (now - timedelta(minutes=5)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    await bob.put("/api/users/me/notifications", {"quiet_hours": {"from": start, "to": end}})
    return lambda: bob.put("/api/users/me/notifications", {"quiet_hours": None})


async def push_off(live_server: LiveServer, bob: User, alice: User) -> Callable[[], Awaitable[None]]:
    await bob.put("/api/users/me/notifications", {"push": False})
    return lambda: bob.put("/api/users/me/notifications", {"push": True})


async def notify_none(live_server: LiveServer, bob: User, alice: User) -> Callable[[], Awaitable[None]]:
    await bob.put("/api/topics/lobby/notify", {"level": "none"})
    return lambda: bob.put("/api/topics/lobby/notify", {"level": "all"})


async def blocked(live_server: LiveServer, bob: User, alice: User) -> Callable[[], Awaitable[None]]:
    await bob.put(f"/api/users/me/blocks/{alice.name}")

    async def unblock() -> None:
        ok(await bob.api.http.delete(f"/api/users/me/blocks/{alice.name}", headers=bob.api.headers))

    return unblock


async def online(live_server: LiveServer, bob: User, alice: User) -> Callable[[], Awaitable[None]]:
    socket: Client = await live_server.connect(bob.name, bob.token)

    async def away() -> None:  # the same socket, away: pushes come again
        await socket.ok("availability:set", {"availability": "away"})

    return away


@pytest.mark.parametrize("hold", [dnd, quiet_hours, push_off, notify_none, blocked, online])
async def test_what_holds_a_push_back_and_the_push_once_it_no_longer_does(live_server, pushes, inbox, hold):
    """A mention of bob in the lobby while the rule holds (do-not-disturb, quiet hours, push off,
    the topic's level ``none``, bob blocked alice, bob online) is never pushed; the next one, once
    it no longer holds (an away socket among them), is."""
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")
    release = await hold(live_server, bob, alice)

    await send(alice, f"psst @{bob.name}", topic="lobby")
    await decided(live_server)
    await release()
    control = await send(alice, f"now @{bob.name}", topic="lobby")

    assert (await inbox.next_to(bob)).payload["id"] == control["id"]


async def test_ones_own_message_is_not_pushed_to_oneself(live_server, pushes, inbox):
    alice, bob = await user(live_server, pushes, "alice"), await user(live_server, pushes, "bob")

    await send(bob, f"note to self @{bob.name}", topic="lobby")
    await send(bob, "hi", to=alice)
    await decided(live_server)
    control = await send(alice, "hi back", to=bob)

    assert (await inbox.next_to(bob)).payload["id"] == control["id"]


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
        "/api/push/subscriptions", changed(pushes.browser(f"{alice.name}-x").subscription, **change)
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
        "/api/push/subscriptions", {**pushes.browser(f"{alice.name}-x").subscription, "endpoint": endpoint}
    )
    refused(posted, 422, "invalid")


async def test_at_most_20_subscriptions_per_user(live_server, pushes):
    alice = await user(live_server, pushes, "alice")
    for n in range(19):
        ok(
            await alice.api.post("/api/push/subscriptions", pushes.browser(f"{alice.name}-{n}").subscription),
            201,
        )

    refused(
        await alice.api.post("/api/push/subscriptions", pushes.browser(f"{alice.name}-21").subscription),
        422,
        "invalid",
    )
    again = alice.browser.subscription  # one already held counts once
    ok(await alice.api.post("/api/push/subscriptions", again), 201)
