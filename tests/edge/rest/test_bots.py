"""Bot accounts and API tokens over REST and Socket.IO (PROTOCOL.md section 12)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import socketio

from db.models import BotToken, Message, User
from tests.bots_support import Api, bot_with_token, ok, refused, user_api
from tests.contract import error_code, shown
from tests.support import WAIT, Client, LiveServer, bearer, count_rows, running_on, send
from tests.support import test_settings as make_settings

# One server a database for the module: each test has its own users, bots and topics (``names``).
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    async with running_on(make_settings(tmp_path_factory.mktemp("bots") / "data"), request.param) as server:
        yield server


class Names:
    """``names.alice`` is ``alice-<suffix>``, one suffix a test: its own users and topics."""

    def __init__(self) -> None:
        self.suffix = uuid.uuid4().hex[:6]

    def __getattr__(self, name: str) -> str:
        return f"{name.replace('_', '-')}-{self.suffix}"


@pytest.fixture
def names() -> Names:
    return Names()


async def disconnected(client: Client) -> None:
    await asyncio.wait_for(client.sio.wait(), WAIT)
    assert not client.connected


async def refused_connect(live_server: LiveServer, token: str) -> dict:
    """A CONNECT with ``token`` that must be refused: the ``connect_error`` data."""
    client = socketio.AsyncClient(reconnection=False)
    errors: list[dict] = []

    async def on_error(data: dict) -> None:
        errors.append(data)

    client.on("connect_error", on_error)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(live_server.url, auth={"token": token}, wait_timeout=WAIT)
    await client.disconnect()
    assert len(errors) == 1, errors
    return errors[0]


# Bots ----------------------------------------------------------------------------------


async def test_a_user_creates_and_lists_bots_whose_profiles_say_bot(live_server, names):
    alice = await user_api(live_server, names.alice)

    created = ok(await alice.post("/api/bots", {"username": names.ci_bot}), 201)

    assert created == {"username": names.ci_bot, "bot": True, "owner": names.alice}
    assert ok(await alice.get("/api/bots")) == {"bots": [created]}
    assert ok(await alice.get(f"/api/users/{names.ci_bot}"))["bot"] is True
    assert ok(await alice.get("/api/users/me"))["bot"] is False
    bob = await user_api(live_server, names.bob)
    assert ok(await bob.get("/api/bots")) == {"bots": []}


async def test_bot_names_follow_the_sign_up_rules_and_bad_requests_store_nothing(live_server, names):
    alice = await user_api(live_server, names.alice)
    ok(await alice.post("/api/topics", {"name": names.general}), 201)
    before = await count_rows(live_server, User, BotToken)

    refused(await alice.post("/api/bots", {"username": "x"}), 422, "invalid")
    refused(await alice.post("/api/bots", {"username": "no spaces"}), 422, "invalid")
    refused(await alice.post("/api/bots", {}), 422, "invalid")
    refused(await alice.post("/api/bots", {"username": names.alice.upper()}), 409, "conflict")
    refused(await alice.post("/api/bots", {"username": names.general.capitalize()}), 409, "conflict")
    refused(await live_server.http.post("/api/bots", json={"username": names.anon_bot}), 401, "unauthorized")

    assert await count_rows(live_server, User, BotToken) == before


async def test_a_bot_cannot_own_bots(live_server, names):
    alice = await user_api(live_server, names.alice)
    _, token = await bot_with_token(alice, names.helper)
    bot = Api(live_server, token)

    refused(await bot.post("/api/bots", {"username": names.grandchild}), 403, "forbidden")
    assert ok(await bot.get("/api/bots")) == {"bots": []}


async def test_a_bot_cannot_log_in_and_learns_what_a_wrong_password_says(live_server, names):
    alice = await user_api(live_server, names.alice)
    ok(await alice.post("/api/bots", {"username": names.helper}), 201)

    as_bot = await live_server.http.post("/api/auth/login", json={"username": names.helper, "password": "!"})
    wrong = await live_server.http.post(
        "/api/auth/login", json={"username": names.alice, "password": "nope1234"}
    )

    refused(as_bot, 401, "unauthorized")
    assert as_bot.json() == wrong.json()


# Tokens --------------------------------------------------------------------------------


async def test_tokens_are_shown_once_listed_without_secret_and_only_to_the_owner(live_server, names):
    alice = await user_api(live_server, names.alice)
    bob = await user_api(live_server, names.bob)
    token_id, token = await bot_with_token(alice, names.helper, "deploys")

    assert token.startswith("pb_") and len(token) > 40
    listed = ok(await alice.get(f"/api/bots/{names.helper}/tokens"))
    assert [(t["id"], t["label"]) for t in listed["tokens"]] == [(token_id, "deploys")]
    assert set(listed["tokens"][0]) == {"id", "label", "created_at"}
    assert token not in str(listed)
    for path in (
        f"/api/bots/{names.helper}/tokens",
        f"/api/bots/{names.nobody}/tokens",
        f"/api/bots/{names.alice}/tokens",
    ):
        refused(await bob.post(path, {"label": "x"}), 404, "not_found")
        refused(await bob.get(path), 404, "not_found")
    refused(await bob.delete(f"/api/bots/{names.helper}/tokens/{token_id}"), 404, "not_found")
    refused(await alice.post(f"/api/bots/{names.helper}/tokens", {"label": "x" * 65}), 422, "invalid")
    async with live_server.chat.db.read() as repos:
        stored = await repos.bots.tokens_of((await repos.users.by_name(names.helper)).id)
    assert [t.id for t in stored] == [token_id]


async def test_a_bot_token_works_as_a_bearer_token(live_server, names):
    alice = await user_api(live_server, names.alice)
    _, token = await bot_with_token(alice, names.helper)

    me = ok(await Api(live_server, token).get("/api/users/me"))

    assert (me["username"], me["bot"]) == (names.helper, True)
    refused(await Api(live_server, token + "x").get("/api/users/me"), 401, "unauthorized")
    refused(await Api(live_server, token).post("/api/auth/refresh"), 401, "unauthorized")


async def test_a_bot_connects_subscribes_and_sends_messages_marked_bot(live_server, names):
    alice = await user_api(live_server, names.alice)
    _, token = await bot_with_token(alice, names.helper)
    owner = await live_server.connect(names.alice, alice.token)
    await owner.ok("topic:create", {"name": names.general})
    bot = await live_server.connect(names.helper, token)

    await bot.ok("topic:subscribe", {"topic": names.general})
    sent = await send(bot, {"topic": names.general, "body": "build passed"})
    mine = await send(owner, {"topic": names.general, "body": "thanks"})

    assert sent["bot"] is True and sent["sender"] == names.helper
    assert (await owner.next("message")) == sent
    assert mine["bot"] is False
    history = ok(await alice.get(f"/api/topics/{names.general}/messages"))["messages"]
    assert [(m["sender"], m["bot"]) for m in history] == [(names.helper, True), (names.alice, False)]
    members = ok(await alice.get(f"/api/topics/{names.general}/members"))["members"]
    # A member is {"username", "role", "online"} (PROTOCOL.md section 3) with section 14's
    # "display_name", "avatar" and "availability": the profile says "bot". A public topic shares
    # no presence, so alice sees only her own: the connected bot shows offline to her (section 4's
    # presence rule).
    assert [shown(m) for m in members] == [
        {
            "username": names.alice,
            "role": "owner",
            "online": True,
            "display_name": "",
            "avatar": None,
            "availability": "online",
        },
        {
            "username": names.helper,
            "role": "member",
            "online": False,
            "display_name": "",
            "avatar": None,
            "availability": None,
        },
    ]
    refresh = await bot.call("auth:refresh", {"token": token})
    assert error_code(refresh) == "unauthorized"


async def test_a_bot_obeys_bans_and_mutes(live_server, names):
    alice = await user_api(live_server, names.alice)
    _, token = await bot_with_token(alice, names.helper)
    owner = await live_server.connect(names.alice, alice.token)
    await owner.ok("topic:create", {"name": names.general})
    bot = await live_server.connect(names.helper, token)
    await bot.ok("topic:subscribe", {"topic": names.general})
    before = await count_rows(live_server, Message)

    await owner.ok("topic:mute", {"topic": names.general, "username": names.helper})
    assert error_code(await bot.call("message:send", {"topic": names.general, "body": "hi"})) == "forbidden"
    await owner.ok("topic:ban", {"topic": names.general, "username": names.helper})
    assert error_code(await bot.call("topic:subscribe", {"topic": names.general})) == "forbidden"

    assert await count_rows(live_server, Message) == tuple(n + 2 for n in before)  # the two system messages


async def test_revoking_a_token_closes_its_sockets_and_no_other(live_server, names):
    alice = await user_api(live_server, names.alice)
    first_id, first = await bot_with_token(alice, names.helper)
    second = ok(await alice.post(f"/api/bots/{names.helper}/tokens", {"label": "other"}), 201)["token"]
    doomed = await live_server.connect(names.helper, first)
    kept = await live_server.connect(names.helper, second)

    assert ok(await alice.delete(f"/api/bots/{names.helper}/tokens/{first_id}")) == {}

    await disconnected(doomed)
    assert "topics" in await kept.ok("topic:list")
    assert (await refused_connect(live_server, first))["data"]["code"] == "unauthorized"
    refused(await Api(live_server, first).get("/api/users/me"), 401, "unauthorized")
    refused(await alice.delete(f"/api/bots/{names.helper}/tokens/{first_id}"), 404, "not_found")
    assert [t["label"] for t in ok(await alice.get(f"/api/bots/{names.helper}/tokens"))["tokens"]] == [
        "other"
    ]


async def test_disabling_a_bot_closes_its_sockets_and_revokes_its_tokens(live_server, names):
    alice = await user_api(live_server, names.alice)
    _, token = await bot_with_token(alice, names.helper)
    bot = await live_server.connect(names.helper, token)

    assert ok(await alice.delete(f"/api/bots/{names.helper}")) == {}

    await disconnected(bot)
    assert (await refused_connect(live_server, token))["data"]["code"] == "unauthorized"
    assert ok(await alice.get("/api/bots")) == {"bots": []}
    refused(await alice.delete(f"/api/bots/{names.helper}"), 404, "not_found")


async def test_a_bot_token_opens_the_echo_namespace_and_the_query_string_too(live_server, names):
    alice = await user_api(live_server, names.alice)
    _, token = await bot_with_token(alice, names.helper)
    echo = socketio.AsyncClient(reconnection=False)
    by_query = socketio.AsyncClient(reconnection=False)

    await echo.connect(live_server.url, namespaces=["/echo"], auth={"token": token}, wait_timeout=WAIT)
    await by_query.connect(f"{live_server.url}?token={token}", wait_timeout=WAIT)

    assert echo.connected and "/echo" in echo.namespaces and by_query.connected
    await echo.disconnect()
    await by_query.disconnect()


async def test_a_logout_with_a_bot_token_revokes_the_bots_tokens_on_rest_and_socket_io(live_server, names):
    """``POST /api/auth/logout`` revokes every token issued to the caller so far (PROTOCOL.md
    section 6): for a bot, its API tokens, which no token version covers."""
    alice = await user_api(live_server, names.alice)
    _, token = await bot_with_token(alice, names.helper)
    other = ok(await alice.post(f"/api/bots/{names.helper}/tokens", {"label": "other"}), 201)["token"]
    socket = await live_server.connect(names.helper, token)
    elsewhere = await live_server.connect(names.helper, other)

    response = await live_server.http.post("/api/auth/logout", headers=bearer(token))
    assert response.status_code == 204, response.text

    await disconnected(socket)
    await disconnected(elsewhere)
    for revoked in (token, other):
        refused(await Api(live_server, revoked).get("/api/users/me"), 401, "unauthorized")
        assert (await refused_connect(live_server, revoked))["data"]["code"] == "unauthorized"
    assert ok(await alice.get(f"/api/bots/{names.helper}/tokens"))["tokens"] == []
    assert "topics" in ok(await alice.get("/api/topics"))  # the owner's own session is untouched
