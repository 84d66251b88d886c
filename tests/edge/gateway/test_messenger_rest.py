"""The messenger's REST dialect (PROTOCOL.md 7.2) spoken as the original Go client speaks it.

Capitalised field names and ``Authorization: Bearer``, over a real uvicorn and SQLite. Every
answer is ``{"Message", "Data"}``; each refusal is checked for its status, that shape, and that
nothing was stored. A message sent here is a message like any other: Socket.IO clients get it
live, and Socket.IO messages show up here.

One server per module and database (``server``); each test has its own users (``names``), so a
count of rows is compared with the same count before the test's own step. The tests marked
``both_databases`` run on PostgreSQL too; those that change the server's settings or break its
schema have a server of their own.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from db.models import Membership, Message, Topic, User
from server.chat.kernel.schemas import Target
from tests.contract import utc
from tests.edge.sio.logs import captured
from tests.shared_server import Names, databases_of, own_sockets, shared_server
from tests.support import PASSWORD, LiveServer, bearer, count_rows, running, send
from tests.support import test_settings as make_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

M = "/compat/messenger"
ROWS = (User, Topic, Membership, Message)


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


def ok(response: httpx.Response, status: int = 200) -> Any:
    """A success: ``status`` and exactly ``{"Message": text, "Data": ...}``; returns ``Data``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"Message", "Data"}, body
    assert isinstance(body["Message"], str) and body["Message"].strip(), body
    return body["Data"]


def refused(response: httpx.Response, status: int) -> str:
    """A refusal in the messenger's shape (``Data`` null, no traceback); returns ``Message``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"Message", "Data"}, body
    assert body["Data"] is None, body
    assert isinstance(body["Message"], str) and body["Message"].strip(), body
    assert "Traceback" not in response.text and 'File "' not in response.text
    message: str = body["Message"]
    return message


async def sign_up(live: LiveServer, name: str) -> str:
    """``POST /user`` as the Go client does; the token."""
    token: str = ok(await live.http.post(f"{M}/user", json={"Username": name, "Password": PASSWORD}), 201)
    return token


async def conversation(live: LiveServer, token: str, recipient: str) -> int:
    opened = await live.http.post(f"{M}/conversation", json={"Recipient": recipient}, headers=bearer(token))
    conversation_id: int = ok(opened)
    return conversation_id


async def post(live: LiveServer, token: str, conversation_id: int, message: str) -> int:
    sent = await live.http.post(
        f"{M}/message", json={"ConversationId": conversation_id, "Message": message}, headers=bearer(token)
    )
    message_id: int = ok(sent, 201)
    return message_id


async def listed(live: LiveServer, token: str, conversation_id: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = ok(
        await live.http.get(f"{M}/message/{conversation_id}", headers=bearer(token))
    )
    return messages


async def alice_and_bob(live: LiveServer, names: Names) -> tuple[str, str, int]:
    """Both signed up (``names.alice``, ``names.bobby``); alice opened their conversation.
    (alice's token, bob's token, its id)"""
    alice, bob = await sign_up(live, names.alice), await sign_up(live, names.bobby)
    return alice, bob, await conversation(live, alice, names.bobby)


# Accounts ---------------------------------------------------------------------------------------


async def test_sign_up_answers_201_with_a_token_that_works_here_and_on_socketio(live_server, names):
    [users] = await count_rows(live_server, User)
    token = await sign_up(live_server, names.alice)

    assert ok(await live_server.http.get(f"{M}/conversation", headers=bearer(token))) == []
    client = await live_server.connect(names.alice, token)
    assert client.connected
    assert await count_rows(live_server, User) == (users + 1,)


async def test_a_taken_username_is_409_and_stores_nothing(live_server, names):
    await sign_up(live_server, names.alice)
    before = await count_rows(live_server, *ROWS)

    response = await live_server.http.post(
        f"{M}/user", json={"Username": names.alice.upper(), "Password": PASSWORD}
    )

    assert "taken" in refused(response, 409)
    assert await count_rows(live_server, *ROWS) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"Password": PASSWORD}, "Username"),
        ({"Username": "alice"}, "Password"),
        ({"Username": "a b", "Password": PASSWORD}, "Username"),
        ({"Username": "alice", "Password": "short"}, "Password"),
        ({"Username": 5, "Password": PASSWORD}, "Username"),
    ],
)
async def test_a_bad_sign_up_is_422_naming_the_field_and_stores_nothing(live_server, payload, field):
    before = await count_rows(live_server, User)

    response = await live_server.http.post(f"{M}/user", json=payload)

    assert refused(response, 422).startswith(field)
    assert await count_rows(live_server, User) == before


async def test_login_gives_a_token_and_a_wrong_password_and_an_unknown_user_the_same_401(live_server, names):
    await sign_up(live_server, names.alice)

    token = ok(
        await live_server.http.post(f"{M}/user/login", json={"Username": names.alice, "Password": PASSWORD})
    )
    wrong = await live_server.http.post(
        f"{M}/user/login", json={"Username": names.alice, "Password": "x" * 9}
    )
    unknown = await live_server.http.post(
        f"{M}/user/login", json={"Username": names.nobody, "Password": PASSWORD}
    )

    assert ok(await live_server.http.get(f"{M}/conversation", headers=bearer(token))) == []
    assert refused(wrong, 401) == refused(unknown, 401)


async def test_field_names_match_in_any_case(live_server, names):
    created = await live_server.http.post(f"{M}/user", json={"username": names.alice, "PASSWORD": PASSWORD})
    ok(created, 201)
    await sign_up(live_server, names.bobby)
    token = ok(
        await live_server.http.post(f"{M}/user/login", json={"uSeRnAmE": names.alice, "password": PASSWORD})
    )
    opened = await live_server.http.post(
        f"{M}/conversation", json={"recipient": names.bobby}, headers=bearer(token)
    )
    conversation_id = ok(opened)

    sent = await live_server.http.post(
        f"{M}/message", json={"conversationid": conversation_id, "MESSAGE": "hi"}, headers=bearer(token)
    )
    edited = await live_server.http.put(
        f"{M}/message", json={"messageId": ok(sent, 201), "message": "hi!"}, headers=bearer(token)
    )

    ok(edited)
    assert [m["Message"] for m in await listed(live_server, token, conversation_id)] == ["hi!"]


async def test_sign_ups_and_failed_logins_past_the_limit_are_429_with_retry_after(tmp_path: Path):
    settings = make_settings(tmp_path / "data", register_per_hour=1, login_per_hour=1)
    async with running(settings) as live:
        await sign_up(live, "alice")
        again = await live.http.post(f"{M}/user", json={"Username": "bobby", "Password": PASSWORD})
        wrong = await live.http.post(f"{M}/user/login", json={"Username": "alice", "Password": "x" * 9})
        right = await live.http.post(f"{M}/user/login", json={"Username": "alice", "Password": PASSWORD})

        for response in (again, right):
            assert "try later" in refused(response, 429)
            assert int(response.headers["Retry-After"]) >= 1
        refused(wrong, 401)
        assert await count_rows(live, User) == (1,)


async def test_logout_revokes_the_token(live_server, names):
    token = await sign_up(live_server, names.alice)

    assert ok(await live_server.http.post(f"{M}/user/logout", headers=bearer(token))) is None

    assert "revoked" in refused(await live_server.http.get(f"{M}/conversation", headers=bearer(token)), 401)


async def test_a_profile_shows_presence_only_to_someone_who_shares_a_conversation(live_server, names):
    alice, bob, _ = await alice_and_bob(live_server, names)
    stranger = await sign_up(live_server, names.carol)
    await live_server.connect(names.bobby, bob)

    seen = ok(await live_server.http.get(f"{M}/user/{names.bobby.upper()}", headers=bearer(alice)))
    hidden = ok(await live_server.http.get(f"{M}/user/{names.bobby}", headers=bearer(stranger)))

    assert set(seen) == {"Username", "LoggedOn", "LastOnline", "Created"}
    assert (seen["Username"], seen["LoggedOn"]) == (names.bobby, True)
    utc(seen["Created"])
    assert hidden == {**seen, "LoggedOn": False, "LastOnline": None}
    assert "ghost" in refused(await live_server.http.get(f"{M}/user/ghost", headers=bearer(alice)), 404)


# Conversations ----------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_a_conversation_is_opened_once_and_listed_for_both_with_its_last_message(live_server, names):
    [topics] = await count_rows(live_server, Topic)
    alice, bob, conversation_id = await alice_and_bob(live_server, names)

    assert await conversation(live_server, alice, names.bobby.upper()) == conversation_id
    assert await conversation(live_server, bob, names.alice) == conversation_id
    before = ok(await live_server.http.get(f"{M}/conversation", headers=bearer(bob)))
    first = await post(live_server, alice, conversation_id, "one")
    await post(live_server, bob, conversation_id, "two")
    last = await post(live_server, alice, conversation_id, "three")
    await live_server.http.delete(f"{M}/message/{last}", headers=bearer(alice))
    after = ok(await live_server.http.get(f"{M}/conversation", headers=bearer(bob)))

    assert before == [{"ConversationId": conversation_id, "Recipient": names.alice, "LastMessage": None}]
    [entry] = after
    assert (entry["ConversationId"], entry["Recipient"]) == (conversation_id, names.alice)
    assert entry["LastMessage"] == (await listed(live_server, bob, conversation_id))[-1]
    assert (entry["LastMessage"]["Sender"], entry["LastMessage"]["Message"]) == (names.bobby, "two")
    assert entry["LastMessage"]["MessageId"] == first + 1
    assert await count_rows(live_server, Topic) == (topics + 1,)  # the one conversation


@pytest.mark.parametrize(
    ("payload", "status", "says"),
    [
        ({"Recipient": "ghost"}, 404, "ghost"),
        ({"Recipient": "{alice}"}, 422, "another user"),  # the caller
        ({}, 422, "Recipient"),
        ({"Recipient": 5}, 422, "Recipient"),
        ({"Recipient": "no body"}, 422, "Recipient"),
    ],
)
async def test_a_bad_recipient_is_refused_and_opens_nothing(live_server, names, payload, status, says):
    token = await sign_up(live_server, names.alice)
    await sign_up(live_server, names.bobby)
    if payload.get("Recipient") == "{alice}":
        payload = {"Recipient": names.alice}
    before = await count_rows(live_server, *ROWS)

    response = await live_server.http.post(f"{M}/conversation", json=payload, headers=bearer(token))

    assert says in refused(response, status)
    assert await count_rows(live_server, *ROWS) == before


@pytest.mark.both_databases
async def test_a_conversation_of_others_or_a_topic_id_is_answered_as_a_missing_one(live_server, names):
    alice = await sign_up(live_server, names.alice)
    carol, _ = await sign_up(live_server, names.carol), await sign_up(live_server, names.dave)
    theirs = await conversation(live_server, carol, names.dave)
    await post(live_server, carol, theirs, "private")
    async with live_server.chat.db.read() as repos:
        lobby = await repos.topics.by_name("lobby")
    assert lobby is not None and lobby.id is not None
    before = await count_rows(live_server, *ROWS)

    for conversation_id in (theirs, lobby.id, theirs + 100):  # ids only grow, one test at a time
        read = await live_server.http.get(f"{M}/message/{conversation_id}", headers=bearer(alice))
        sent = await live_server.http.post(
            f"{M}/message", json={"ConversationId": conversation_id, "Message": "hi"}, headers=bearer(alice)
        )
        for response in (read, sent):
            assert refused(response, 404) == f"no conversation with id {conversation_id}"
    assert await count_rows(live_server, *ROWS) == before


# Messages ---------------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_messages_are_listed_oldest_first_with_their_fields(live_server, names):
    alice, bob, conversation_id = await alice_and_bob(live_server, names)

    first = await post(live_server, alice, conversation_id, "hello")
    second = await post(live_server, bob, conversation_id, "hi alice")
    ok(
        await live_server.http.put(
            f"{M}/message", json={"MessageId": first, "Message": "hello!"}, headers=bearer(alice)
        )
    )

    messages = await listed(live_server, bob, conversation_id)
    assert [(m["MessageId"], m["Sender"], m["Message"]) for m in messages] == [
        (first, names.alice, "hello!"),
        (second, names.bobby, "hi alice"),
    ]
    assert all(
        set(m) == {"MessageId", "ConversationId", "Sender", "Message", "Created", "Edited"} for m in messages
    )
    assert {m["ConversationId"] for m in messages} == {conversation_id}
    assert utc(messages[0]["Edited"]) >= utc(messages[0]["Created"])
    assert messages[1]["Edited"] is None
    assert await listed(live_server, alice, conversation_id) == messages


def _payloads(conversation_id: int) -> list[tuple[Any, str]]:
    """Bad ``POST /message`` bodies (JSON, or raw bytes) and what the refusal must name."""
    return [
        (b"not json", "JSON"),
        (b"", "JSON"),
        (b'["ConversationId", 1]', "object"),
        ({"Message": "hi"}, "ConversationId"),
        ({"ConversationId": str(conversation_id), "Message": "hi"}, "ConversationId"),
        ({"ConversationId": True, "Message": "hi"}, "ConversationId"),
        ({"ConversationId": conversation_id}, "Message"),
        ({"ConversationId": conversation_id, "Message": 5}, "Message"),
        ({"ConversationId": conversation_id, "Message": ""}, "Message"),
        ({"ConversationId": conversation_id, "Message": " \n\t\u200b "}, "Message"),
        ({"ConversationId": conversation_id, "Message": "x" * 4001}, "Message"),
    ]


async def test_a_bad_message_is_422_naming_the_problem_and_stores_nothing(live_server, names):
    alice, _, conversation_id = await alice_and_bob(live_server, names)
    before = await count_rows(live_server, *ROWS)

    for payload, says in _payloads(conversation_id):
        if isinstance(payload, bytes):
            response = await live_server.http.post(f"{M}/message", content=payload, headers=bearer(alice))
        else:
            response = await live_server.http.post(f"{M}/message", json=payload, headers=bearer(alice))
        assert says in refused(response, 422), payload

    assert await count_rows(live_server, *ROWS) == before
    assert await listed(live_server, alice, conversation_id) == []


async def test_a_message_of_4000_characters_is_taken_and_a_body_past_the_limit_is_413(live_server, names):
    alice, _, conversation_id = await alice_and_bob(live_server, names)

    await post(live_server, alice, conversation_id, "é" * 4000)
    too_large = await live_server.http.post(
        f"{M}/message",
        json={"ConversationId": conversation_id, "Message": "x" * 70_000},
        headers=bearer(alice),
    )

    refused(too_large, 413)
    assert [len(m["Message"]) for m in await listed(live_server, alice, conversation_id)] == [4000]


async def test_only_the_sender_edits_and_a_refused_edit_changes_nothing(live_server, names):
    alice, bob, conversation_id = await alice_and_bob(live_server, names)
    message_id = await post(live_server, alice, conversation_id, "original")
    before = await listed(live_server, alice, conversation_id)

    by_bob = await live_server.http.put(
        f"{M}/message", json={"MessageId": message_id, "Message": "hijacked"}, headers=bearer(bob)
    )
    empty = await live_server.http.put(
        f"{M}/message", json={"MessageId": message_id, "Message": " "}, headers=bearer(alice)
    )
    missing = await live_server.http.put(
        f"{M}/message", json={"MessageId": message_id + 100, "Message": "x"}, headers=bearer(alice)
    )

    assert "sender" in refused(by_bob, 403)
    assert refused(empty, 422).startswith("Message")
    assert refused(missing, 404) == f"no message with id {message_id + 100}"
    assert await listed(live_server, alice, conversation_id) == before


async def test_a_deleted_message_is_gone_from_the_list_and_only_its_sender_deletes_it(live_server, names):
    alice, bob, conversation_id = await alice_and_bob(live_server, names)
    kept = await post(live_server, alice, conversation_id, "kept")
    gone = await post(live_server, alice, conversation_id, "gone")

    refused(await live_server.http.delete(f"{M}/message/{gone}", headers=bearer(bob)), 403)
    assert ok(await live_server.http.delete(f"{M}/message/{gone}", headers=bearer(alice))) is None
    again = await live_server.http.delete(f"{M}/message/{gone}", headers=bearer(alice))
    not_a_number = await live_server.http.delete(f"{M}/message/abc", headers=bearer(alice))

    refused(again, 404)
    assert refused(not_a_number, 422).startswith("Id")
    assert [m["MessageId"] for m in await listed(live_server, bob, conversation_id)] == [kept]


async def test_the_list_holds_the_newest_1000_messages(live_server, names):
    alice, _, conversation_id = await alice_and_bob(live_server, names)
    actor = await live_server.chat.users.authenticate(alice)
    peer = await live_server.chat.conversations.peer(actor, conversation_id)

    # Through the service itself, as a transport would: 1001 sends in a few group commits.
    sent = await asyncio.gather(
        *(live_server.chat.messages.send(actor, Target(user=peer), f"m{i}") for i in range(1001))
    )

    messages = await listed(live_server, alice, conversation_id)
    assert [m["MessageId"] for m in messages] == sorted(m.id for m in sent)[1:]


# Tokens -----------------------------------------------------------------------------------------

BEARER_ROUTES = [
    ("POST", "/user/logout", None),
    ("GET", "/user/alice", None),
    ("POST", "/conversation", {"Recipient": "bobby"}),
    ("GET", "/conversation", None),
    ("POST", "/message", {"ConversationId": 2, "Message": "hi"}),
    ("PUT", "/message", {"MessageId": 1, "Message": "hi"}),
    ("DELETE", "/message/1", None),
    ("GET", "/message/2", None),
]


@pytest.mark.parametrize("kind", ["missing", "not bearer", "bad", "revoked"])
async def test_every_bearer_route_refuses_a_missing_bad_or_revoked_token_with_401(live_server, names, kind):
    alice, _, conversation_id = await alice_and_bob(live_server, names)
    await post(live_server, alice, conversation_id, "hi")
    revoked = await sign_up(live_server, names.carol)
    ok(await live_server.http.post(f"{M}/user/logout", headers=bearer(revoked)))
    headers = {
        "missing": {},
        "not bearer": {"Authorization": f"Basic {alice}"},
        "bad": bearer("not-a-token"),
        "revoked": bearer(revoked),
    }[kind]
    before = await count_rows(live_server, *ROWS)

    for method, path, payload in BEARER_ROUTES:
        response = await live_server.http.request(method, f"{M}{path}", json=payload, headers=headers)
        refused(response, 401)

    assert await count_rows(live_server, *ROWS) == before
    assert [m["Message"] for m in await listed(live_server, alice, conversation_id)] == ["hi"]


# Across transports ------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_a_messenger_message_reaches_socketio_and_a_socketio_message_is_listed_here(live_server, names):
    alice, bob_token, conversation_id = await alice_and_bob(live_server, names)
    bob = await live_server.connect(names.bobby, bob_token)

    message_id = await post(live_server, alice, conversation_id, "from the messenger")
    event = await bob.next("message")
    topics = (await bob.ok("topic:list", {}))["topics"]
    reply = await send(bob, {"to": names.alice, "body": "from socket.io"})

    assert (event["id"], event["topic"], event["kind"]) == (message_id, "@" + names.alice, "direct")
    assert (event["sender"], event["body"]) == (names.alice, "from the messenger")
    assert [t["unread"] for t in topics if t["name"] == "@" + names.alice] == [1]
    messages = await listed(live_server, alice, conversation_id)
    assert [(m["MessageId"], m["Sender"], m["Message"]) for m in messages] == [
        (message_id, names.alice, "from the messenger"),
        (reply["id"], names.bobby, "from socket.io"),
    ]
    assert messages[1]["Created"] == reply["created_at"]


# Errors and the schema --------------------------------------------------------------------------


async def test_an_unexpected_error_is_500_with_a_logged_reference_and_no_traceback(tmp_path: Path):
    # A server of its own: the test breaks its schema.
    async with running(make_settings(tmp_path / "data")) as live:
        alice, _, _ = await alice_and_bob(live, Names())
        async with live.chat.db.engine.begin() as connection:  # a real failure: the table is gone
            await connection.execute(text("ALTER TABLE messages RENAME TO messages_gone"))

        with captured("parley") as logged:
            response = await live.http.get(f"{M}/conversation", headers=bearer(alice))

    reference = re.search(r"reference (\w+)", refused(response, 500))
    assert reference is not None
    [failed] = [r for r in logged.records if r.levelno >= logging.ERROR]
    assert (failed.getMessage(), failed.reference) == ("request failed", reference.group(1))  # type: ignore[attr-defined]
    assert failed.exc_info is not None


async def test_the_routes_are_documented_under_their_tag_with_their_bodies(live_server):
    paths = (await live_server.http.get("/openapi.json")).json()["paths"]

    operations = {
        (method.upper(), path.removeprefix(M)): operation
        for path, item in paths.items()
        if path.startswith(M)
        for method, operation in item.items()
    }
    assert set(operations) == {
        ("POST", "/user"),
        ("POST", "/user/login"),
        ("POST", "/user/logout"),
        ("GET", "/user/{username}"),
        ("POST", "/conversation"),
        ("GET", "/conversation"),
        ("POST", "/message"),
        ("PUT", "/message"),
        ("DELETE", "/message/{Id}"),
        ("GET", "/message/{Id}"),
    }
    assert all(operation["tags"] == ["compat: messenger"] for operation in operations.values())
    bodies = {
        key: set(op["requestBody"]["content"]["application/json"]["schema"]["properties"])
        for key, op in operations.items()
        if "requestBody" in op
    }
    assert bodies == {
        ("POST", "/user"): {"Username", "Password"},
        ("POST", "/user/login"): {"Username", "Password"},
        ("POST", "/conversation"): {"Recipient"},
        ("POST", "/message"): {"ConversationId", "Message"},
        ("PUT", "/message"): {"MessageId", "Message"},
    }
    assert "security" not in operations[("POST", "/user")]
    assert "security" in operations[("GET", "/conversation")]
