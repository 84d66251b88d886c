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

from db.models import MailOutbox
from server.chat.notifications.tokens import MailTokens
from server.config import Settings
from tests.edge.rest.test_topics_rest import Api, api_and_socket, ok, refused
from tests.smtp_server import Mail, SmtpServer, smtp_server
from tests.support import JWT_SECRET, LiveServer, bearer, running
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
