"""Incoming webhooks (PROTOCOL.md section 12): owners and admins make them, anyone with the URL
posts into the topic as the hook's bot, through the normal send path.

One server per module and database (tests/edge/rest/test_topics_rest.py ``Names``): each test has
its own users, bots and topic. The PostgreSQL variant runs the tests marked ``both_databases``
(the bot's name taken, the idempotency key's unique row).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import orjson
import pytest
import pytest_asyncio

from db.models import Hook, Message, User
from tests.bots_support import Api, ok, refused, user_api
from tests.contract import shown
from tests.shared_server import Names, databases_of, own_sockets, shared_server
from tests.support import LiveServer, count_rows, running
from tests.support import test_settings as settings_for

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


async def owner_with_topic(live_server, names: Names, private: bool = False):
    """``names.alice``, owner of ``names.general``, and a socket of hers."""
    alice = await user_api(live_server, names.alice)
    ok(await alice.post("/api/topics", {"name": names.general, "private": private}), 201)
    return alice, await live_server.connect(names.alice, alice.token)


async def hook_url(alice: Api, topic: str, body: dict | None = None) -> str:
    made = ok(await alice.post(f"/api/topics/{topic}/hooks", body or {}), 201)
    assert set(made) == {"id", "url"} and made["url"].startswith("/hooks/")
    return made["url"]


@pytest.mark.both_databases
async def test_a_hook_posts_as_a_bot_made_for_it_and_every_member_sees_it(live_server, names):
    alice, socket = await owner_with_topic(live_server, names)

    url = await hook_url(alice, names.general)
    posted = await live_server.http.post(url, json={"text": f"deployed v2 @{names.alice}"})

    stored = ok(posted)
    assert set(stored) == {"id", "seq"}
    message = await socket.next("message")
    assert (message["id"], message["seq"], message["sender"], message["bot"]) == (
        stored["id"],
        stored["seq"],
        f"{names.general}-hook",
        True,
    )
    assert message["mentions"] == [names.alice]
    members = ok(await alice.get(f"/api/topics/{names.general}/members"))["members"]
    hook_member = {
        "username": f"{names.general}-hook",
        "role": "member",
        "online": False,
        "display_name": "",
        "avatar": None,
        "availability": None,  # a public topic shares no presence (sections 4 and 14)
    }
    assert hook_member in [shown(m) for m in members]
    listed = ok(await alice.get(f"/api/topics/{names.general}/hooks"))["hooks"]
    assert [(h["bot"], set(h)) for h in listed] == [(f"{names.general}-hook", {"id", "bot", "created_at"})]
    assert url.removeprefix("/hooks/") not in str(listed)
    assert await hook_url(alice, names.general) != url
    assert [h["bot"] for h in ok(await alice.get(f"/api/topics/{names.general}/hooks"))["hooks"]] == [
        f"{names.general}-hook",
        f"{names.general}-hook-2",
    ]


async def test_a_hook_posts_as_a_named_bot_of_the_caller_only(live_server, names):
    alice, _ = await owner_with_topic(live_server, names)
    bob = await user_api(live_server, names.bob)
    ok(await alice.post("/api/bots", {"username": names.deployer}), 201)
    ok(await bob.post("/api/bots", {"username": names.bobsbot}), 201)
    before = await count_rows(live_server, Hook, User)

    refused(await alice.post(f"/api/topics/{names.general}/hooks", {"bot": names.bobsbot}), 422, "invalid")
    refused(await alice.post(f"/api/topics/{names.general}/hooks", {"bot": names.bob}), 422, "invalid")
    refused(await alice.post(f"/api/topics/{names.general}/hooks", {"bot": "x"}), 422, "invalid")
    assert await count_rows(live_server, Hook, User) == before

    url = await hook_url(alice, names.general, {"bot": names.deployer})
    assert ok(await live_server.http.post(url, json={"text": "hi"}))["seq"] >= 1
    assert [h["bot"] for h in ok(await alice.get(f"/api/topics/{names.general}/hooks"))["hooks"]] == [
        names.deployer
    ]


async def test_only_owners_and_admins_manage_hooks(live_server, names):
    alice, owner = await owner_with_topic(live_server, names)
    bob = await user_api(live_server, names.bob)
    carol = await user_api(live_server, names.carol)
    ok(await bob.post(f"/api/topics/{names.general}/subscribe"))
    ok(await alice.post("/api/topics", {"name": names.secret, "private": True}), 201)
    before = await count_rows(live_server, Hook, User)

    refused(await bob.post(f"/api/topics/{names.general}/hooks", {}), 403, "forbidden")
    refused(await carol.post(f"/api/topics/{names.general}/hooks", {}), 403, "forbidden")
    refused(await bob.get(f"/api/topics/{names.general}/hooks"), 403, "forbidden")
    refused(await bob.post(f"/api/topics/{names.secret}/hooks", {}), 404, "not_found")
    refused(await bob.post(f"/api/topics/{names.nowhere}/hooks", {}), 404, "not_found")
    assert await count_rows(live_server, Hook, User) == before

    await owner.ok("topic:role", {"topic": names.general, "username": names.bob, "role": "admin"})
    made = ok(await bob.post(f"/api/topics/{names.general}/hooks", {}), 201)
    refused(await carol.delete(f"/api/topics/{names.general}/hooks/{made['id']}"), 403, "forbidden")
    assert ok(await alice.delete(f"/api/topics/{names.general}/hooks/{made['id']}")) == {}
    refused(await alice.delete(f"/api/topics/{names.general}/hooks/{made['id']}"), 404, "not_found")
    refused(await live_server.http.post(made["url"], json={"text": "late"}), 404, "not_found")
    assert ok(await alice.get(f"/api/topics/{names.general}/hooks")) == {"hooks": []}


async def test_slack_form_payloads_and_thread_replies(live_server, names):
    alice, socket = await owner_with_topic(live_server, names)
    url = await hook_url(alice, names.general)
    root = await socket.ok("message:send", {"topic": names.general, "body": "deploy?"})
    reply = await socket.ok("message:send", {"topic": names.general, "body": "now", "thread": root["id"]})

    form = urlencode(
        {"payload": orjson.dumps({"text": "done", "thread": reply["id"], "username": "x"}).decode()}
    )
    posted = ok(
        await live_server.http.post(
            url, content=form, headers={"content-type": "application/x-www-form-urlencoded"}
        )
    )

    history = ok(await alice.get(f"/api/topics/{names.general}/messages"))["messages"]
    answer = next(m for m in history if m["id"] == posted["id"])
    assert (answer["body"], answer["thread"], answer["bot"]) == ("done", root["id"], True)


@pytest.mark.both_databases
async def test_a_retried_post_with_an_idempotency_key_stores_nothing_new(live_server, names):
    alice, _ = await owner_with_topic(live_server, names)
    url = await hook_url(alice, names.general)
    headers = {"Idempotency-Key": "build-42"}

    first = ok(await live_server.http.post(url, json={"text": "build 42 passed"}, headers=headers))
    again = ok(await live_server.http.post(url, json={"text": "build 42 passed"}, headers=headers))
    other = ok(await live_server.http.post(url, json={"text": "build 43"}))

    assert again == first and other["seq"] == first["seq"] + 1
    refused(
        await live_server.http.post(url, json={"text": "x"}, headers={"Idempotency-Key": "k" * 65}),
        422,
        "invalid",
    )


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b'{"body": "no text"}', "application/json"),
        (b'{"text": 5}', "application/json"),
        (b'{"text": "  "}', "application/json"),
        (b'{"text": "ok", "thread": "1"}', "application/json"),
        (b'{"text": "ok", "thread": 999999}', "application/json"),
        (b"text=hello", "application/x-www-form-urlencoded"),
        (b"payload=%7Bnope", "application/x-www-form-urlencoded"),
    ],
)
async def test_bad_posts_are_422_invalid_and_store_nothing(live_server, names, content, content_type):
    alice, _ = await owner_with_topic(live_server, names)
    url = await hook_url(alice, names.general)
    before = await count_rows(live_server, Message)

    refused(
        await live_server.http.post(url, content=content, headers={"content-type": content_type}),
        422,
        "invalid",
    )
    refused(
        await live_server.http.post(
            "/hooks/unknown", content=content, headers={"content-type": content_type}
        ),
        404,
        "not_found",
    )

    assert await count_rows(live_server, Message) == before


async def test_an_oversized_post_is_413_and_the_secret_never_reaches_the_log(live_server, names, caplog):
    alice, _ = await owner_with_topic(live_server, names)
    url = await hook_url(alice, names.general)
    caplog.set_level(logging.INFO)

    refused(await live_server.http.post(url, json={"text": "x" * (65 * 1024)}), 413, "too_large")
    ok(await live_server.http.post(url, json={"text": "fine"}))
    refused(await live_server.http.post("/hooks/unknown-secret", json={"text": "x"}), 404, "not_found")

    server_lines = [f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name != "httpx"]
    assert server_lines and not any(url.removeprefix("/hooks/") in line for line in server_lines)


async def test_posts_past_the_hooks_rate_are_429(tmp_path):
    async with running(settings_for(tmp_path / "data", hook_posts_per_minute=2)) as server:
        alice = await user_api(server, "alice")
        ok(await alice.post("/api/topics", {"name": "general"}), 201)
        url = await hook_url(alice, "general")
        other = await hook_url(alice, "general")

        for n in range(2):
            ok(await server.http.post(url, json={"text": f"post {n}"}))
        limited = await server.http.post(url, json={"text": "one too many"})

        refused(limited, 429, "rate_limited")
        ok(await server.http.post(other, json={"text": "another hook has its own budget"}))
