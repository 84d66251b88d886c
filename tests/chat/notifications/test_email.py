"""Email notifications (PROTOCOL.md section 15) end to end: a real server on both databases sends
to a real SMTP server (``tests/smtp_server.py``, aiosmtpd) and the tests read what it received.

The address and its verification link (once, not after it expired or the address changed, no
sign-in needed); nothing without SMTP settings; STARTTLS with a login; a 4xx retried and a 5xx
failed; digests: after the delay, grouped, both MIME parts, escaped HTML, the unsubscribe link
and RFC 8058's one-click POST, nothing for what was read meanwhile, at most one per interval,
nothing while connected, nothing to an unverified address.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from sqlmodel import select

from db.models import EmailPending, MailOutbox
from server.chat.notifications.tokens import MailTokens
from server.config import Settings
from tests.edge.rest.test_topics_rest import Api, api_and_socket, ok, refused
from tests.smtp_server import Mail, SmtpServer, smtp_server
from tests.support import JWT_SECRET, Client, LiveServer, bearer, running, send
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases
SENDER = "Parley <parley@example.com>"


def mail_settings(data_dir: Path, smtp: SmtpServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_url": smtp.url(),
        "smtp_from": SENDER,
        "email_delay": 0.5,
        "push_delay": 0.2,
        "webhook_retry_base": 0.1,  # the outboxes' first retry 0.1-0.25 s later
    }
    return settings_for(data_dir, **{**values, **overrides})


@pytest.fixture
async def smtp(tmp_path: Path) -> AsyncIterator[SmtpServer]:
    with smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, smtp: SmtpServer) -> Settings:
    return mail_settings(tmp_path / "data", smtp)


def user_id(api: Api) -> int:
    token = api.headers["Authorization"].removeprefix("Bearer ")
    return int(jwt.decode(token, options={"verify_signature": False})["sub"])


def path_of(link: str) -> str:
    """A link of a mail, on the server under test (the mail's base is the settings' host:port)."""
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def verify_link(mail: Mail) -> str:
    text = mail.part("plain")
    [link] = [line.strip() for line in text.splitlines() if "/api/users/me/email/verify?token=" in line]
    assert link in mail.part("html")
    return link


async def verified(live_server: LiveServer, api: Api, smtp: SmtpServer, address: str) -> None:
    ok(await api.http.put("/api/users/me/email", json={"email": address}, headers=api.headers))
    mail = await smtp.recorder.next()
    assert mail.recipients == [address]
    assert (await live_server.http.get(path_of(verify_link(mail)))).status_code == 200


async def outbox(live_server: LiveServer) -> list[MailOutbox]:
    async with live_server.chat.db.read() as repos:
        return list((await repos.session.execute(select(MailOutbox))).scalars())


async def settled(live_server: LiveServer) -> list[MailOutbox]:
    """The outbox once no mail is pending: the worker records an outcome just after the SMTP
    server's reply, which the test may see first (a bounded wait on the stored state)."""
    async with asyncio.timeout(15):
        while True:
            rows = await outbox(live_server)
            if all(row.status != "pending" for row in rows):
                return rows
            await asyncio.sleep(0.05)


# The address ---------------------------------------------------------------------------------


async def test_the_verification_link_works_once_without_signing_in(live_server, smtp):
    alice, _ = await api_and_socket(live_server, "alice")

    stored = ok(
        await alice.http.put(
            "/api/users/me/email", json={"email": "Alice@Example.COM"}, headers=alice.headers
        )
    )

    assert stored["email_address"] == "Alice@example.com" and stored["email_verified"] is False
    assert stored["email_available"] is True
    mail = await smtp.recorder.next()
    assert mail.recipients == ["Alice@example.com"] and mail.sender == "parley@example.com"
    assert mail.tls is False  # this server offers no STARTTLS (the TLS variants are below)
    assert mail.message["From"] == SENDER and mail.message["To"] == "Alice@example.com"
    assert mail.message.get_content_type() == "multipart/alternative"
    assert "List-Unsubscribe" not in mail.message  # it was asked for
    link = verify_link(mail)
    assert link.startswith("http://127.0.0.1:8000/api/users/me/email/verify?token=")  # host:port
    assert not ok(await alice.get("/api/users/me/notifications"))["email_verified"]

    first = await live_server.http.get(path_of(link))  # no bearer token: the mail client's click

    assert first.status_code == 200 and first.headers["content-type"].startswith("text/html")
    assert "verified" in first.text
    assert ok(await alice.get("/api/users/me/notifications"))["email_verified"] is True
    again = await live_server.http.get(path_of(link))
    assert again.status_code == 400 and "not valid" in again.text


async def test_an_address_is_never_shown_to_others(live_server, smtp):
    alice, _ = await api_and_socket(live_server, "alice")
    bob, _ = await api_and_socket(live_server, "bob")
    await verified(live_server, alice, smtp, "alice@example.com")

    for response in (await bob.get("/api/users/alice"), await bob.get("/api/users", q="alice")):
        assert "alice@example.com" not in response.text
    assert ok(await bob.get("/api/users/me/notifications"))["email_address"] is None


async def test_a_link_for_a_replaced_address_or_an_expired_one_is_refused(live_server, smtp):
    alice, _ = await api_and_socket(live_server, "alice")
    ok(await alice.http.put("/api/users/me/email", json={"email": "old@example.com"}, headers=alice.headers))
    old = verify_link(await smtp.recorder.next())
    ok(await alice.http.put("/api/users/me/email", json={"email": "new@example.com"}, headers=alice.headers))
    new = verify_link(await smtp.recorder.next())
    # Made with the server's own signing code and secret, expired an hour ago.
    past = datetime.now(UTC) - timedelta(hours=1)
    expired = MailTokens(JWT_SECRET).verification(user_id(alice), "new@example.com", "0" * 32, past)
    login_token = alice.headers["Authorization"].removeprefix("Bearer ")

    replaced = await live_server.http.get(path_of(old))
    too_old = await live_server.http.get("/api/users/me/email/verify", params={"token": expired})
    not_ours = await live_server.http.get("/api/users/me/email/verify", params={"token": login_token})

    assert replaced.status_code == 400 and "not valid" in replaced.text
    assert too_old.status_code == 400 and "expired" in too_old.text
    assert not_ours.status_code == 400
    assert ok(await alice.get("/api/users/me/notifications"))["email_verified"] is False
    assert (await live_server.http.get(path_of(new))).status_code == 200
    mine = ok(await alice.get("/api/users/me/notifications"))
    assert mine["email_address"] == "new@example.com" and mine["email_verified"] is True


@pytest.mark.parametrize(
    "address",
    [
        "",
        "alice",
        "alice@",
        "@example.com",
        "a b@example.com",
        "alice@localhost",
        "a@b@example.com",
        "x" * 65 + "@example.com",
        "alice@exa_mple.com",
    ],
)
async def test_a_bad_address_is_invalid_and_sends_nothing(live_server, smtp, address):
    alice, _ = await api_and_socket(live_server, "alice")

    answer = await alice.http.put("/api/users/me/email", json={"email": address}, headers=alice.headers)

    refused(answer, 422, "invalid")
    assert ok(await alice.get("/api/users/me/notifications"))["email_address"] is None
    assert await outbox(live_server) == []


async def test_without_smtp_settings_an_address_is_invalid(tmp_path):
    async with running(settings_for(tmp_path / "plain")) as server:
        token = await server.register("alice")
        answer = await server.http.put(
            "/api/users/me/email", json={"email": "alice@example.com"}, headers=bearer(token)
        )
        refused(answer, 422, "invalid")
        mine = (await server.http.get("/api/users/me/notifications", headers=bearer(token))).json()
        assert mine["email_available"] is False and mine["email_address"] is None


async def test_setting_an_address_needs_a_bearer_token(live_server, smtp):
    answer = await live_server.http.put("/api/users/me/email", json={"email": "alice@example.com"})
    refused(answer, 401, "unauthorized")


# Sending -------------------------------------------------------------------------------------


async def test_mail_goes_over_starttls_and_logs_in(tmp_path):
    login = ("parley", "s3cret:/@")
    with smtp_server(tmp_path, tls=True, login=login) as smtp:
        assert smtp.certificate is not None
        url = f"smtp://parley:s3cret%3A%2F%40@127.0.0.1:{smtp.port}"
        settings = mail_settings(tmp_path / "data", smtp, smtp_url=url, smtp_ca_file=smtp.certificate)
        async with running(settings) as server:
            token = await server.register("alice")
            answer = await server.http.put(
                "/api/users/me/email", json={"email": "alice@example.com"}, headers=bearer(token)
            )
            assert answer.status_code == 200, answer.text

            mail = await smtp.recorder.next()

    assert mail.tls is True and mail.user == "parley"
    assert mail.recipients == ["alice@example.com"]


async def test_mail_goes_over_implicit_tls_with_smtps(tmp_path):
    with smtp_server(tmp_path, implicit=True) as smtp:
        assert smtp.certificate is not None
        url = f"smtps://127.0.0.1:{smtp.port}"
        settings = mail_settings(tmp_path / "data", smtp, smtp_url=url, smtp_ca_file=smtp.certificate)
        async with running(settings) as server:
            token = await server.register("alice")
            answer = await server.http.put(
                "/api/users/me/email", json={"email": "alice@example.com"}, headers=bearer(token)
            )
            assert answer.status_code == 200, answer.text

            mail = await smtp.recorder.next()

    assert mail.tls is True and mail.recipients == ["alice@example.com"]


async def test_verification_mails_are_limited_per_user(live_server, smtp):
    alice, _ = await api_and_socket(live_server, "alice")
    for n in range(5):
        ok(
            await alice.http.put(
                "/api/users/me/email", json={"email": f"a{n}@example.com"}, headers=alice.headers
            )
        )

    sixth = await alice.http.put(
        "/api/users/me/email", json={"email": "a5@example.com"}, headers=alice.headers
    )

    refused(sixth, 429, "rate_limited")
    assert int(sixth.headers["Retry-After"]) > 0
    assert ok(await alice.get("/api/users/me/notifications"))["email_address"] == "a4@example.com"


async def test_a_4xx_is_retried_and_a_5xx_fails_for_good(live_server, smtp):
    alice, _ = await api_and_socket(live_server, "alice")
    smtp.recorder.script = ["451 4.3.0 try again later", "550 5.1.1 no such mailbox"]

    ok(
        await alice.http.put(
            "/api/users/me/email", json={"email": "first@example.com"}, headers=alice.headers
        )
    )
    assert await smtp.recorder.attempt() == "451 4.3.0 try again later"
    assert await smtp.recorder.attempt() == "550 5.1.1 no such mailbox"  # the retry, refused
    ok(
        await alice.http.put(
            "/api/users/me/email", json={"email": "second@example.com"}, headers=alice.headers
        )
    )
    mail = await smtp.recorder.next()

    assert mail.recipients == ["second@example.com"]
    rows = {row.to_address: row for row in await settled(live_server)}
    assert rows["first@example.com"].status == "failed" and rows["first@example.com"].attempts == 2
    assert rows["second@example.com"].status == "ok" and rows["second@example.com"].attempts == 1
    assert smtp.recorder.mails == [mail]


# Digests -------------------------------------------------------------------------------------

BASE = "http://127.0.0.1:8000"  # the settings' host and port: the test server has no public URL


async def mailed(live_server: LiveServer, smtp: SmtpServer, name: str) -> tuple[Api, Client]:
    """``name`` with a verified address ``<name>@example.com``, still connected."""
    api, client = await api_and_socket(live_server, name)
    await verified(live_server, api, smtp, f"{name}@example.com")
    return api, client


async def pending_rows(live_server: LiveServer) -> list[EmailPending]:
    async with live_server.chat.db.read() as repos:
        return list((await repos.session.execute(select(EmailPending))).scalars())


async def rows_for(live_server: LiveServer, user: int, count: int) -> None:
    """Wait (bounded) until the notifier wrote ``count`` digest rows for ``user``."""
    async with asyncio.timeout(15):
        while len([row for row in await pending_rows(live_server) if row.user_id == user]) < count:
            await asyncio.sleep(0.05)


def mails_to(smtp: SmtpServer, address: str) -> list[Mail]:
    return [mail for mail in smtp.recorder.mails if address in mail.recipients]


async def test_a_digest_after_the_delay_lists_the_unread_messages_grouped_by_conversation(live_server, smtp):
    alice_api, alice = await mailed(live_server, smtp, "alice")
    _, bob = await api_and_socket(live_server, "bob")
    _, carol = await api_and_socket(live_server, "carol")
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    first = await send(bob, {"to": "alice", "body": "hello <script>alert(1)</script> & <b>bold</b>"})
    mention = await send(bob, {"topic": "general", "body": "@alice look here"})
    await send(bob, {"topic": "general", "body": "nobody is mentioned"})  # notifies nobody
    from_carol = await send(carol, {"to": "alice", "body": "from carol"})
    long = await send(bob, {"to": "alice", "body": "x" * 250})
    await rows_for(live_server, user_id(alice_api), 4)  # decided while she is connected: no digest yet

    await alice.close()  # no socket: the digest comes once email_delay passed
    mail = await smtp.recorder.next(timeout=30)

    assert mail.recipients == ["alice@example.com"] and mail.message["From"] == SENDER
    assert mail.message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.message.iter_parts()] == ["text/plain", "text/html"]
    unsubscribe = mail.message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{BASE}/api/notifications/unsubscribe?token=") and unsubscribe.endswith(
        ">"
    )
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = mail.part("plain"), mail.part("html")
    link = {m["id"]: f"{BASE}/#topic=%40bob&message={m['id']}" for m in (first, long)}
    link[mention["id"]] = f"{BASE}/#topic=general&message={mention['id']}"
    link[from_carol["id"]] = f"{BASE}/#topic=%40carol&message={from_carol['id']}"
    for each in link.values():
        assert each in text and each.replace("&", "&amp;") in html
    assert "nobody is mentioned" not in text
    # Grouped by conversation, in the order of each one's oldest message: @bob (two), general, @carol.
    at_bob, general, at_carol = (text.index(f"\n{name}\n") for name in ("@bob", "general", "@carol"))
    assert at_bob < text.index(link[first["id"]]) < text.index(link[long["id"]]) < general
    assert general < text.index(link[mention["id"]]) < at_carol < text.index(link[from_carol["id"]])
    assert "x" * 200 in text and "x" * 201 not in text  # the first 200 characters
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold" in html
    assert "<script>alert(1)</script> & <b>bold</b>" in text  # plain text is as written
    assert unsubscribe[1:-1] in text and unsubscribe[1:-1].replace("&", "&amp;") in html
    assert await pending_rows(live_server) == []  # the listed rows are gone
    assert ok(await alice_api.get("/api/users/me/notifications"))["email"] is True


async def test_the_unsubscribe_link_and_the_one_click_post_turn_email_off_without_signing_in(
    live_server, smtp
):
    alice_api, alice = await mailed(live_server, smtp, "alice")
    _, bob = await api_and_socket(live_server, "bob")
    await alice.close()
    await send(bob, {"to": "alice", "body": "hi"})
    mail = await smtp.recorder.next(timeout=30)
    link = path_of(mail.message["List-Unsubscribe"][1:-1])

    one_click = await live_server.http.post(
        link,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert one_click.status_code == 200
    assert ok(await alice_api.get("/api/users/me/notifications"))["email"] is False
    ok(
        await alice_api.http.put(
            "/api/users/me/notifications", json={"email": True}, headers=alice_api.headers
        )
    )
    page = await live_server.http.get(link)  # a person opens the link in the mail's body
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "off" in page.text and "back on" in page.text
    assert ok(await alice_api.get("/api/users/me/notifications"))["email"] is False
    forged = await live_server.http.get("/api/notifications/unsubscribe", params={"token": "x.y.z"})
    assert forged.status_code == 400


async def test_messages_read_meanwhile_are_left_out(live_server, smtp):
    alice_api, alice = await mailed(live_server, smtp, "alice")
    _, bob = await api_and_socket(live_server, "bob")
    read = await send(bob, {"to": "alice", "body": "read on the phone"})
    unread = await send(bob, {"to": "alice", "body": "still unread"})
    await rows_for(live_server, user_id(alice_api), 2)  # both decided: rows wait for the digest
    await alice.ok("read", {"with": "bob", "seq": read["seq"]})  # read after the notifier's decision

    await alice.close()
    mail = await smtp.recorder.next(timeout=30)

    text = mail.part("plain")
    assert f"message={unread['id']}" in text and "still unread" in text
    assert f"message={read['id']}" not in text and "read on the phone" not in text


async def test_no_digest_while_connected_within_the_interval_or_to_an_unverified_address(live_server, smtp):
    """Carol (verified, offline) is the yardstick: her digest comes from a message sent after the
    others, so by then the sweep has passed over theirs."""
    connected_api, _connected = await mailed(live_server, smtp, "dana")  # stays connected
    spaced_api, spaced = await mailed(live_server, smtp, "erin")  # gets one digest, then another message
    unverified, unverified_socket = await api_and_socket(live_server, "fred")
    ok(
        await unverified.http.put(
            "/api/users/me/email", json={"email": "fred@example.com"}, headers=unverified.headers
        )
    )
    await smtp.recorder.next()  # fred's verification mail, never opened
    _, carol = await mailed(live_server, smtp, "carol")
    _, bob = await api_and_socket(live_server, "bob")
    for client in (spaced, unverified_socket, carol):
        await client.close()
    await send(bob, {"to": "erin", "body": "first"})
    digest = await smtp.recorder.next(timeout=30)
    assert digest.recipients == ["erin@example.com"] and "first" in digest.part("plain")

    await send(bob, {"to": "dana", "body": "you are here"})
    await send(bob, {"to": "erin", "body": "second, within the interval"})
    await send(bob, {"to": "fred", "body": "to an unverified address"})
    await send(bob, {"to": "carol", "body": "the yardstick"})
    yardstick = await smtp.recorder.next(timeout=30)

    assert yardstick.recipients == ["carol@example.com"] and "the yardstick" in yardstick.part("plain")
    assert smtp.recorder.pending() == 0
    assert len(mails_to(smtp, "dana@example.com")) == 1  # the verification only
    assert len(mails_to(smtp, "erin@example.com")) == 2  # the verification and the first digest
    assert len(mails_to(smtp, "fred@example.com")) == 1  # the verification only
    waiting = {row.user_id for row in await pending_rows(live_server)}
    assert waiting == {user_id(connected_api), user_id(spaced_api)}  # kept for later; fred's never written


async def test_do_not_disturb_holds_the_digest_back_and_it_comes_once_lifted(live_server, smtp):
    alice_api, alice = await mailed(live_server, smtp, "alice")
    _, carol = await mailed(live_server, smtp, "carol")
    _, bob = await api_and_socket(live_server, "bob")
    await alice.ok("availability:set", {"availability": "dnd"})
    for client in (alice, carol):
        await client.close()
    await send(bob, {"to": "alice", "body": "while you were busy"})
    await send(bob, {"to": "carol", "body": "the yardstick"})
    assert (await smtp.recorder.next(timeout=30)).recipients == ["carol@example.com"]
    assert {row.user_id for row in await pending_rows(live_server)} == {user_id(alice_api)}  # kept

    again = await live_server.connect("alice", alice_api.headers["Authorization"].removeprefix("Bearer "))
    await again.ok("availability:set", {"availability": "auto"})
    await again.close()
    mail = await smtp.recorder.next(timeout=30)

    assert mail.recipients == ["alice@example.com"] and "while you were busy" in mail.part("plain")
