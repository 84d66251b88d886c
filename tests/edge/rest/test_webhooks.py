"""Outgoing webhooks end to end (PROTOCOL.md section 12): registration over REST, each event kind
POSTed to a real receiver with a valid signature, retries, the delivery log, the SSRF guard.

One server per module and database (tests/edge/rest/test_topics_rest.py ``Names``): each test has
its own users, topic and receiver, so it sees its own deliveries only. The PostgreSQL variant runs
the tests marked ``both_databases`` (the outbox, its leases and the answer's unique client id).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from db.models import WebhookOutbox
from db.records import DueDelivery
from tests.edge.rest.test_topics_rest import Api, api_and_socket, ok, refused
from tests.receiver import Receiver, Reply, receiving
from tests.shared_server import Names, databases_of, own_sockets, shared_server
from tests.support import Client, LiveServer, running
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.asyncio(loop_scope="module")
SECRET = "s3cret-for-tests"
ALL = ["message", "mention", "reaction", "member"]
# The receiver is on 127.0.0.1: let the guard through for it; retries come fast.
ALLOWED = {"webhook_allow_hosts": ["127.0.0.1"], "webhook_retry_base": 0.05}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    databases_of(metafunc)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory, request) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    async with shared_server(tmp_path_factory, request.param, **ALLOWED) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module")
async def live_server(server: LiveServer) -> AsyncIterator[LiveServer]:
    async with own_sockets(server) as live:
        yield live


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def guarded(tmp_path_factory) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    """A server with the default guard: no host is allowed beyond the public internet."""
    async with shared_server(tmp_path_factory) as shared:
        yield shared


@pytest.fixture
def names() -> Names:
    return Names()


@pytest_asyncio.fixture(loop_scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as found:
        yield found


async def owner_of_general(live_server: LiveServer, names: Names) -> tuple[Api, Client]:
    """``names.alice`` and her public topic ``names.general``."""
    api, socket = await api_and_socket(live_server, names.alice)
    ok(await api.post("/api/topics", {"name": names.general}), 201)
    return api, socket


async def hooked(api: Api, url: str, events: list[str], topic: str) -> str:
    body = {"url": url, "events": events, "secret": SECRET}
    created = ok(await api.post(f"/api/topics/{topic}/webhooks", body), 201)
    assert set(created) == {"id"}
    hook_id: str = created["id"]
    return hook_id


def delivered(received: Any, event: str, topic: str) -> dict[str, Any]:
    """A delivery's checks every test shares: headers, signature, envelope; its JSON."""
    assert received.signed_with(SECRET), received.headers
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["User-Agent"] == "Parley-Webhooks"
    assert received.headers["X-Parley-Event"] == event
    data: dict[str, Any] = received.data
    assert data["id"] == received.headers["X-Parley-Delivery"]
    assert data["event"] == event and data["topic"] == topic
    assert data["created_at"].endswith("Z")
    return data


async def outbox_rows(live_server: LiveServer, hook_id: str) -> int:
    """How many deliveries of this webhook the outbox holds."""
    query = select(func.count()).select_from(WebhookOutbox).where(WebhookOutbox.webhook_id == hook_id)
    async with live_server.chat.db.read() as repos:
        return int((await repos.session.execute(query)).scalar_one())


# Each event kind -----------------------------------------------------------------


@pytest.mark.both_databases
async def test_a_new_message_is_posted_signed_with_the_message_as_the_wire_renders_it(
    live_server, receiver, names
):
    alice, socket = await owner_of_general(live_server, names)
    await hooked(alice, receiver.url, ["message"], names.general)

    sent = await socket.ok("message:send", {"topic": names.general, "body": "hello hooks", "client_id": "c1"})

    data = delivered(await receiver.next(), "message", names.general)
    assert set(data) == {"id", "event", "topic", "message", "created_at"}
    assert data["message"] == sent
    assert len(data["id"]) == 32


async def test_a_mention_is_a_mention_event_beside_the_message_event(live_server, receiver, names):
    alice, socket = await owner_of_general(live_server, names)
    _, bob_socket = await api_and_socket(live_server, names.bob)
    await bob_socket.ok("topic:subscribe", {"topic": names.general})
    await hooked(alice, receiver.url, ["mention"], names.general)

    await socket.ok("message:send", {"topic": names.general, "body": "no one here"})
    sent = await socket.ok("message:send", {"topic": names.general, "body": f"hi @{names.bob}"})

    data = delivered(await receiver.next(), "mention", names.general)
    assert data["message"]["id"] == sent["id"] and data["message"]["mentions"] == [names.bob]
    assert [r.headers["X-Parley-Event"] for r in receiver.received] == ["mention"]


async def test_reactions_added_and_removed_carry_the_message_in_its_current_form(
    live_server, receiver, names
):
    alice, socket = await owner_of_general(live_server, names)
    sent = await socket.ok("message:send", {"topic": names.general, "body": "react to me"})
    await hooked(alice, receiver.url, ["reaction"], names.general)

    await socket.ok("reaction:add", {"id": sent["id"], "emoji": "👍"})
    added = delivered(await receiver.next(), "reaction", names.general)
    await socket.ok("reaction:remove", {"id": sent["id"], "emoji": "👍"})
    removed = delivered(await receiver.next(), "reaction", names.general)

    assert added["reaction"] == {"emoji": "👍", "user": names.alice, "action": "added"}
    assert added["message"]["id"] == sent["id"]
    assert [(r["emoji"], r["count"]) for r in added["message"]["reactions"]] == [("👍", 1)]
    assert removed["reaction"] == {"emoji": "👍", "user": names.alice, "action": "removed"}
    assert removed["message"]["reactions"] == []


async def test_joins_leaves_kicks_and_bans_are_member_events(live_server, receiver, names):
    alice, socket = await owner_of_general(live_server, names)
    general = names.general
    await hooked(alice, receiver.url, ["member"], general)
    _, bob = await api_and_socket(live_server, names.bob)
    _, carol = await api_and_socket(live_server, names.carol)

    await bob.ok("topic:subscribe", {"topic": general})
    await bob.ok("topic:unsubscribe", {"topic": general})
    await carol.ok("topic:subscribe", {"topic": general})
    await socket.ok("topic:kick", {"topic": general, "username": names.carol})
    await bob.ok("topic:subscribe", {"topic": general})
    await socket.ok("topic:ban", {"topic": general, "username": names.bob})

    seen = [delivered(await receiver.next(), "member", general)["member"] for _ in range(6)]
    assert seen == [
        {"username": names.bob, "action": "joined"},
        {"username": names.bob, "action": "left"},
        {"username": names.carol, "action": "joined"},
        {"username": names.carol, "action": "kicked"},
        {"username": names.bob, "action": "joined"},
        {"username": names.bob, "action": "banned"},
    ]


async def test_system_messages_and_other_topics_trigger_nothing(live_server, receiver, names):
    alice, socket = await owner_of_general(live_server, names)
    ok(await alice.post("/api/topics", {"name": names.quiet}), 201)
    await hooked(alice, receiver.url, ["message"], names.general)

    await socket.ok("topic:archive", {"topic": names.general})  # a system message in general
    await socket.ok("topic:unarchive", {"topic": names.general})
    await socket.ok("message:send", {"topic": names.quiet, "body": "elsewhere"})
    sent = await socket.ok("message:send", {"topic": names.general, "body": "the only one"})

    assert delivered(await receiver.next(), "message", names.general)["message"]["id"] == sent["id"]
    assert len(receiver.received) == 1


# Retries and the delivery log ---------------------------------------------------------


@pytest.mark.both_databases
async def test_a_500_is_retried_and_the_log_lists_both_attempts_newest_first(live_server, receiver, names):
    alice, socket = await owner_of_general(live_server, names)
    hook_id = await hooked(alice, receiver.url, ["message"], names.general)
    receiver.script = [Reply(500)]

    await socket.ok("message:send", {"topic": names.general, "body": "try twice"})
    first, second = await receiver.next(), await receiver.next()

    assert first.body == second.body and first.signed_with(SECRET) and second.signed_with(SECRET)
    delivery = first.headers["X-Parley-Delivery"]
    assert second.headers["X-Parley-Delivery"] == delivery
    log = await _log_until(alice, names.general, hook_id, lambda d: len(d) == 2 and d[0]["status"] == "ok")
    assert [(d["id"], d["attempt"], d["status"], d["code"], d["event"]) for d in log] == [
        (delivery, 2, "ok", 200, "message"),
        (delivery, 1, "pending", 500, "message"),
    ]
    assert all(set(d) == {"id", "event", "attempt", "at", "status", "code"} for d in log)
    assert log[0]["at"] >= log[1]["at"] and log[0]["at"].endswith("Z")


@pytest.mark.both_databases
async def test_a_4xx_fails_at_once_but_408_and_429_are_retried(live_server, receiver, names):
    alice, socket = await owner_of_general(live_server, names)
    hook_id = await hooked(alice, receiver.url, ["message"], names.general)
    receiver.script = [Reply(408), Reply(429), Reply(404)]

    await socket.ok("message:send", {"topic": names.general, "body": "refused in the end"})
    for _ in range(3):
        await receiver.next()

    log = await _log_until(alice, names.general, hook_id, lambda d: len(d) == 3)
    assert [(d["status"], d["code"]) for d in log] == [("failed", 404), ("pending", 429), ("pending", 408)]
    assert await outbox_rows(live_server, hook_id) == 1  # kept, failed: nothing pending


async def test_a_delivery_the_guard_refuses_fails_at_once_without_a_request(tmp_path, receiver, names):
    """The check is repeated at each delivery: registered while the address was allowed, a
    message sent once it no longer is makes no request, and its attempt fails (no retry)."""
    allowed = settings_for(tmp_path / "data", webhook_allow_hosts=["127.0.0.1"])
    async with running(allowed) as server:
        alice, _ = await owner_of_general(server, names)
        hook_id = await hooked(alice, receiver.url, ["message"], names.general)
    async with running(allowed.model_copy(update={"webhook_allow_hosts": []})) as server:
        alice.http = server.http
        socket = await server.connect(names.alice, alice.headers["Authorization"].removeprefix("Bearer "))
        await socket.ok("message:send", {"topic": names.general, "body": "to a refused address"})
        log = await _log_until(alice, names.general, hook_id, lambda d: len(d) == 1)
    assert [(d["attempt"], d["status"], d["code"]) for d in log] == [(1, "failed", None)]
    assert receiver.received == []


async def test_a_redirect_is_not_followed(live_server, receiver, names):
    alice, socket = await owner_of_general(live_server, names)
    hook_id = await hooked(alice, receiver.url, ["message"], names.general)
    receiver.script = [Reply(307, headers={"Location": receiver.url.replace("/hook", "/elsewhere")})]

    await socket.ok("message:send", {"topic": names.general, "body": "go elsewhere"})
    await receiver.next()

    log = await _log_until(alice, names.general, hook_id, lambda d: len(d) == 1)
    assert [(d["status"], d["code"]) for d in log] == [("failed", 307)]
    assert [r.path for r in receiver.received] == ["/hook"]


async def _log_until(api: Api, topic: str, hook_id: str, done: Any) -> list[dict[str, Any]]:
    """The delivery log once ``done`` holds of it (the worker records an attempt after its answer)."""
    async with asyncio.timeout(10):
        while True:
            found = ok(await api.get(f"/api/topics/{topic}/webhooks/{hook_id}/deliveries"))
            log: list[dict[str, Any]] = found["deliveries"]
            if done(log):
                return log
            await asyncio.sleep(0.05)  # polling the public API: the record is written after the answer


# The answer ------------------------------------------------------------------------


async def test_a_text_answer_is_posted_by_the_webhooks_bot_in_a_thread_and_triggers_nothing(
    live_server, receiver, names
):
    alice, socket = await owner_of_general(live_server, names)
    hook_id = await hooked(alice, receiver.url, ["message"], names.general)
    receiver.default = Reply(200, json={"text": "pong"})

    sent = await socket.ok("message:send", {"topic": names.general, "body": "ping"})
    async with asyncio.timeout(10):
        while (reply := await socket.next("message"))["thread"] != sent["id"]:
            pass

    assert reply["body"] == "pong" and reply["sender"] == f"{names.general}-webhook" and reply["bot"] is True
    assert await outbox_rows(live_server, hook_id) == 1  # the bot's own message made no delivery


async def test_receivers_that_never_answer_slow_no_send_and_no_fan_out(tmp_path, names):
    """Ten webhooks whose receiver holds every request: the worker's slots are all taken, and
    sends are acknowledged and reach the members as before (the send path never waits on HTTP).
    A server of its own: its held slots and the retries that follow must delay no other test."""
    async with running(settings_for(tmp_path / "data", **ALLOWED)) as live_server, receiving() as hanging:
        hanging.default = Reply(hang=True)
        alice, socket = await owner_of_general(live_server, names)
        _, bob = await api_and_socket(live_server, names.bob)
        await bob.ok("topic:subscribe", {"topic": names.general})
        for i in range(10):
            await hooked(alice, f"{hanging.url}/{i}", ["message"], names.general)
        await socket.ok("message:send", {"topic": names.general, "body": "first"})
        for _ in range(8):  # every delivery slot holds a request that gets no answer
            await hanging.next()

        started = asyncio.get_running_loop().time()
        for i in range(20):
            sent = await socket.ok("message:send", {"topic": names.general, "body": f"m{i}"})
            while (await bob.next("message"))["id"] != sent["id"]:
                pass
        took = asyncio.get_running_loop().time() - started
        assert len(hanging.received) == 8  # none was answered: no slot came free
        assert took < 10.0, took  # a delivery's timeout is 10 s: nothing waited for one


@pytest.mark.both_databases
async def test_an_answer_goes_to_the_thread_root_once_however_often_it_is_posted(
    live_server, receiver, names
):
    """A delivery repeated after a crash that followed the answer's post answers the same
    message (``client_id`` ``webhook:<delivery id>``); a trigger that is a reply answers in its
    thread (on the root)."""
    alice, socket = await owner_of_general(live_server, names)
    hook_id = await hooked(alice, receiver.url, ["message"], names.general)
    root = await socket.ok("message:send", {"topic": names.general, "body": "root"})
    reply = await socket.ok("message:send", {"topic": names.general, "body": "reply", "thread": root["id"]})
    received = [await receiver.next(), await receiver.next()]
    delivery = next(r for r in received if r.data["message"]["id"] == reply["id"])
    async with live_server.chat.db.read() as repos:
        hook = next(h for h in await repos.webhooks.active() if h.id == hook_id)
    row = DueDelivery(
        delivery.headers["X-Parley-Delivery"], hook.id, "message", delivery.body.decode(), reply["id"], 0,
        datetime.now(UTC), hook.url, hook.secret, hook.bot_id, hook.topic_id,
    )  # fmt: skip

    await live_server.chat.webhooks.answer(row, "first answer")
    await live_server.chat.webhooks.answer(row, "first answer")  # the repeat after a crash

    messages = ok(await alice.get(f"/api/topics/{names.general}/messages"))["messages"]
    answers = [m for m in messages if m["bot"]]
    assert [(m["body"], m["thread"], m["client_id"]) for m in answers] == [
        ("first answer", root["id"], f"webhook:{row.id}")
    ]


# Registration, listing, removal, who may ----------------------------------------------


async def test_webhooks_are_listed_without_their_secret_and_removed(live_server, receiver, names):
    alice, socket = await owner_of_general(live_server, names)
    general = names.general
    first = await hooked(alice, receiver.url, ["message", "member"], general)
    second = await hooked(alice, receiver.url + "/2", ["reaction"], general)
    joined = delivered(await receiver.next(), "member", general)["member"]  # the second one's bot joined
    assert joined == {"username": f"{general}-webhook2", "action": "joined"}

    listed = ok(await alice.get(f"/api/topics/{general}/webhooks"))["webhooks"]
    assert [(h["id"], h["url"], h["events"]) for h in listed] == [
        (first, receiver.url, ["message", "member"]),
        (second, receiver.url + "/2", ["reaction"]),
    ]
    assert all(set(h) == {"id", "url", "events", "created_at"} for h in listed)

    ok(await alice.http.delete(f"/api/topics/{general}/webhooks/{first}", headers=alice.headers))
    assert [h["id"] for h in ok(await alice.get(f"/api/topics/{general}/webhooks"))["webhooks"]] == [second]
    again = await alice.http.delete(f"/api/topics/{general}/webhooks/{first}", headers=alice.headers)
    refused(again, 404, "not_found")

    sent = await socket.ok("message:send", {"topic": general, "body": "after removal"})
    await socket.ok("reaction:add", {"id": sent["id"], "emoji": "x"})
    assert delivered(await receiver.next(), "reaction", general)
    assert [r.headers["X-Parley-Event"] for r in receiver.received] == ["member", "reaction"]


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://127.0.0.1/x", "events": ["message"], "secret": "s"},
        {"url": "not a url", "events": ["message"], "secret": "s"},
        {"url": "http:///nohost", "events": ["message"], "secret": "s"},
        {"url": "http://127.0.0.1/" + "x" * 2048, "events": ["message"], "secret": "s"},
        {"url": "http://127.0.0.1/", "events": [], "secret": "s"},
        {"url": "http://127.0.0.1/", "events": ["message", "message"], "secret": "s"},
        {"url": "http://127.0.0.1/", "events": ["typing"], "secret": "s"},
        {"url": "http://127.0.0.1/", "events": "message", "secret": "s"},
        {"url": "http://127.0.0.1/", "events": ["message"], "secret": ""},
        {"url": "http://127.0.0.1/", "events": ["message"], "secret": "s" * 257},
        {"url": "http://127.0.0.1/", "events": ["message"]},
    ],
)
async def test_a_bad_registration_is_invalid_and_stores_nothing(live_server, names, body):
    alice, _ = await owner_of_general(live_server, names)
    refused(await alice.post(f"/api/topics/{names.general}/webhooks", body), 422, "invalid")
    assert ok(await alice.get(f"/api/topics/{names.general}/webhooks")) == {"webhooks": []}


async def test_only_owners_and_admins_manage_webhooks_and_private_topics_stay_hidden(
    live_server, receiver, names
):
    alice, socket = await owner_of_general(live_server, names)
    bob, bob_socket = await api_and_socket(live_server, names.bob)
    carol, carol_socket = await api_and_socket(live_server, names.carol)
    general, secret, nowhere = names.general, names.secret, names.nowhere
    body = {"url": receiver.url, "events": ["message"], "secret": SECRET}
    ok(await alice.post("/api/topics", {"name": secret, "private": True}), 201)

    refused(await bob.post(f"/api/topics/{general}/webhooks", body), 403, "forbidden")  # not a member
    await bob_socket.ok("topic:subscribe", {"topic": general})
    refused(await bob.post(f"/api/topics/{general}/webhooks", body), 403, "forbidden")  # a member
    await carol_socket.ok("topic:subscribe", {"topic": general})
    await socket.ok("topic:role", {"topic": general, "username": names.carol, "role": "moderator"})
    refused(await carol.post(f"/api/topics/{general}/webhooks", body), 403, "forbidden")  # a moderator
    await socket.ok("topic:role", {"topic": general, "username": names.carol, "role": "admin"})
    hook_id = ok(await carol.post(f"/api/topics/{general}/webhooks", body), 201)["id"]  # an admin
    refused(await bob.get(f"/api/topics/{general}/webhooks"), 403, "forbidden")
    refused(await bob.get(f"/api/topics/{general}/webhooks/{hook_id}/deliveries"), 403, "forbidden")

    missing = await bob.post(f"/api/topics/{nowhere}/webhooks", body)
    hidden = await bob.post(f"/api/topics/{secret}/webhooks", body)
    refused(missing, 404, "not_found")
    refused(hidden, 404, "not_found")
    said = missing.json()["error"]["message"], hidden.json()["error"]["message"]
    assert said[0].replace(nowhere, "X") == said[1].replace(secret, "X")
    refused(await alice.get(f"/api/topics/{general}/webhooks/" + "0" * 32 + "/deliveries"), 404, "not_found")


# The SSRF guard --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://localhost/hook",
        "https://[fd00:ec2::254]/",
        "http://[2002:7f00:1::]:9/",  # 6to4: the IPv4 inside, 127.0.0.1, decides (issue 52 row 8)
        "http://[fec0::1]/hook",  # site-local
        "http://192.88.99.1/hook",  # the 6to4 relays' anycast
    ],
)
async def test_an_address_webhooks_may_not_reach_is_refused_without_the_allow_list(guarded, names, url):
    async with own_sockets(guarded) as server:
        alice, _ = await owner_of_general(server, names)
        body = {"url": url, "events": ["message"], "secret": "s"}
        response = await alice.post(f"/api/topics/{names.general}/webhooks", body)
        refused(response, 422, "invalid")
        assert "not allowed" in response.json()["error"]["message"]
        assert ok(await alice.get(f"/api/topics/{names.general}/webhooks")) == {"webhooks": []}
