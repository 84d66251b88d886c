"""Reports (PROTOCOL.md section 10): ``message:report`` and ``POST /api/messages/{id}/report``.

Any reader of a message may report it (1-500 characters of reason); the report is stored with the
reporter, the message, the reason and the time; the reporter gets ``{}`` and nobody else is told.
A message the reporter may not read is ``not_found``, word for word as one that does not exist.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from db.models import Report
from tests.contract import error_code
from tests.support import Client, LiveServer, bearer, count_rows, send

pytestmark = pytest.mark.both_databases


async def stored_reports(live_server: LiveServer) -> list[tuple[int, int, str]]:
    async with live_server.chat.db.read() as repos:
        rows = await repos.session.execute(
            select(Report.reporter_id, Report.message_id, Report.reason).order_by(Report.id)  # type: ignore[arg-type]
        )
        return [(int(a), int(b), str(c)) for a, b, c in rows.all()]


async def user_id(live_server: LiveServer, name: str) -> int:
    return (await live_server.chat.directory.user(name)).id


async def secret_message(owner: Client) -> dict[str, Any]:
    await owner.ok("topic:create", {"name": "secret", "private": True})
    return await send(owner, {"topic": "secret", "body": "members only"})


async def test_a_reader_reports_a_message_and_nobody_else_hears_of_it(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    bob_token = await live_server.register("bob")
    bob = await live_server.connect("bob", bob_token)
    await alice.ok("topic:create", {"name": "general"})
    sent = await send(alice, {"topic": "general", "body": "something rude"})
    heard = {client: set(client.events) | {"message"} for client in (alice, bob)}

    # bob has not subscribed: a public topic's messages are readable by anyone.
    assert await bob.ok("message:report", {"id": sent["id"], "reason": "rude"}) == {}
    rest = await live_server.http.post(
        f"/api/messages/{sent['id']}/report", json={"reason": "really rude"}, headers=bearer(bob_token)
    )
    assert rest.status_code == 200 and rest.json() == {}

    bob_id = await user_id(live_server, "bob")
    assert await stored_reports(live_server) == [
        (bob_id, sent["id"], "rude"),
        (bob_id, sent["id"], "really rude"),
    ]
    marker = await send(alice, {"topic": "general", "body": "marker"})
    assert (await alice.next("message"))["id"] == sent["id"]
    assert (await alice.next("message"))["id"] == marker["id"]
    for client, names in heard.items():
        assert set(client.events) <= names  # no event about the report


async def test_a_message_the_reporter_may_not_read_is_not_found_like_a_missing_one(
    live_server: LiveServer,
) -> None:
    alice = await live_server.user("alice")
    carol_token = await live_server.register("carol")
    carol = await live_server.connect("carol", carol_token)
    hidden = await secret_message(alice)

    unreadable = await carol.call("message:report", {"id": hidden["id"], "reason": "x"})
    missing = await carol.call("message:report", {"id": 999_999, "reason": "x"})
    assert error_code(unreadable) == error_code(missing) == "not_found"
    assert unreadable["error"]["message"].replace(str(hidden["id"]), "N") == missing["error"][
        "message"
    ].replace("999999", "N")
    rest = await live_server.http.post(
        f"/api/messages/{hidden['id']}/report", json={"reason": "x"}, headers=bearer(carol_token)
    )
    assert rest.status_code == 404 and rest.json()["error"]["code"] == "not_found"
    assert await count_rows(live_server, Report) == (0,)

    # A member of the private topic may report it.
    await alice.ok("topic:invite", {"topic": "secret", "username": "carol"})
    assert await carol.ok("message:report", {"id": hidden["id"], "reason": "x"}) == {}
    assert await count_rows(live_server, Report) == (1,)


async def test_a_bad_reason_is_invalid_and_stores_nothing(live_server: LiveServer) -> None:
    alice_token = await live_server.register("alice")
    alice = await live_server.connect("alice", alice_token)
    sent = await send(alice, {"topic": "lobby", "body": "hi"})

    for reason in ("", "x" * 501, 5, None, "nul\x00"):
        ack = await alice.call("message:report", {"id": sent["id"], "reason": reason})
        assert error_code(ack) == "invalid", reason
    assert error_code(await alice.call("message:report", {"id": sent["id"]})) == "invalid"
    rest = await live_server.http.post(
        f"/api/messages/{sent['id']}/report", json={"reason": ""}, headers=bearer(alice_token)
    )
    assert rest.status_code == 422 or rest.json()["error"]["code"] == "invalid"
    assert await count_rows(live_server, Report) == (0,)
    assert await alice.ok("message:report", {"id": sent["id"], "reason": "x" * 500}) == {}


async def test_a_deleted_message_cannot_be_reported(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    sent = await send(alice, {"topic": "lobby", "body": "oops"})
    await alice.ok("message:delete", {"id": sent["id"]})
    assert error_code(await alice.call("message:report", {"id": sent["id"], "reason": "x"})) == "not_found"
