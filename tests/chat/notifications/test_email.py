"""Email notifications (PROTOCOL.md section 15) end to end: a real server on both databases sends
to a real SMTP server (``tests/smtp_server.py``, aiosmtpd) and the tests read what it received.

The address and its verification link (once, not after it expired or the address changed, no
sign-in needed); nothing without SMTP settings; STARTTLS with a login; a 4xx retried and a 5xx
failed; digests: after the delay, grouped, both MIME parts, escaped HTML, the unsubscribe link
and RFC 8058's one-click POST, nothing for what was read meanwhile, at most one per interval,
nothing while connected, nothing to an unverified address.

One server and one SMTP server per database serve the module: each test has users of its own
(``alice`` is ``alice7`` in one test, ``alice8`` in the next) and reads the mail sent to their
addresses (``Mailbox``), whatever else arrived meanwhile. A test that needs other settings or
scripts the SMTP server's replies runs its own.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import re
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import pytest_asyncio
from sqlmodel import select

from db.models import EmailPending, MailOutbox
from server.chat.notifications.tokens import MailTokens
from server.config import Settings
from tests.edge.rest.test_topics_rest import Api, api_and_socket, ok, refused
from tests.smtp_server import WAIT, Mail, SmtpServer, smtp_server
from tests.support import JWT_SECRET, Client, LiveServer, bearer, running, running_on, send
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.asyncio(loop_scope="module")
SENDER = "Parley <parley@example.com>"
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NUMBERS = itertools.count(1)


def mail_settings(data_dir: Path, smtp: SmtpServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_url": smtp.url(),
        "smtp_from": SENDER,
        "email_delay": 0.2,  # a digest 0.2 s after the send (or the last socket's close)
        "push_delay": 0.05,  # the notifier decides 0.05 s after the send
        "webhook_retry_base": 0.1,  # the outboxes' first retry 0.1-0.25 s later
    }
    return settings_for(data_dir, **{**values, **overrides})


class Mailbox:
    """The module's SMTP server, read per recipient: ``next_to`` waits for the next mail to an
    address and keeps the others' mail, which other tests' users are sent meanwhile."""

    def __init__(self, smtp: SmtpServer) -> None:
        self.smtp = smtp
        self._unread: defaultdict[str, deque[Mail]] = defaultdict(deque)

    def _keep(self, mail: Mail) -> None:
        for address in mail.recipients:
            self._unread[address].append(mail)

    async def next_to(self, address: str, timeout: float = WAIT) -> Mail:
        async with asyncio.timeout(timeout):
            while not self._unread[address]:
                self._keep(await self.smtp.recorder.next(timeout=timeout))
        return self._unread[address].popleft()

    async def unread(self, *addresses: str) -> int:
        """Mails to ``addresses`` accepted and not yet taken with ``next_to`` (without waiting)."""
        for _ in range(self.smtp.recorder.pending()):
            self._keep(await self.smtp.recorder.next())
        return sum(len(self._unread[address]) for address in addresses)

    def to(self, address: str) -> list[Mail]:
        """Every mail accepted for ``address``, read or not."""
        return [mail for mail in self.smtp.recorder.mails if address in mail.recipients]


@pytest.fixture(scope="module", params=DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def smtp(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SmtpServer]:
    with smtp_server(tmp_path_factory.mktemp("smtp")) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def mailbox(smtp: SmtpServer) -> Mailbox:
    return Mailbox(smtp)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live_server(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer, database: str
) -> AsyncIterator[LiveServer]:
    settings = mail_settings(tmp_path_factory.mktemp("email") / "data", smtp)
    async with running_on(settings, database) as server:
        yield server


def named(name: str) -> str:
    """A user name of this test's own (the module's server is shared): ``alice`` -> ``alice7``."""
    return f"{name}{next(NUMBERS)}"


def address_of(name: str) -> str:
    return f"{name}@example.com"


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


async def verified(live_server: LiveServer, api: Api, mailbox: Mailbox, address: str) -> None:
    ok(await api.http.put("/api/users/me/email", json={"email": address}, headers=api.headers))
    mail = await mailbox.next_to(address)
    assert mail.recipients == [address]
    assert (await live_server.http.get(path_of(verify_link(mail)))).status_code == 200


async def outbox(live_server: LiveServer, *users: int) -> list[MailOutbox]:
    """The mail outbox's rows (those of ``users`` when given)."""
    async with live_server.chat.db.read() as repos:
        rows = list((await repos.session.execute(select(MailOutbox))).scalars())
    return [row for row in rows if not users or row.user_id in users]


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


async def test_the_verification_link_works_once_without_signing_in(live_server, mailbox):
    name = named("alice")
    alice, _ = await api_and_socket(live_server, name)
    stored_as = f"{name.capitalize()}@example.com"  # the domain lower-cased, the local part kept

    stored = ok(
        await alice.http.put(
            "/api/users/me/email", json={"email": f"{name.capitalize()}@Example.COM"}, headers=alice.headers
        )
    )

    assert stored["email_address"] == stored_as and stored["email_verified"] is False
    assert stored["email_available"] is True
    mail = await mailbox.next_to(stored_as)
    assert mail.recipients == [stored_as] and mail.sender == "parley@example.com"
    assert mail.tls is False  # this server offers no STARTTLS (the TLS variants are below)
    assert mail.message["From"] == SENDER and mail.message["To"] == stored_as
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


async def test_an_address_is_never_shown_to_others(live_server, mailbox):
    name = named("alice")
    alice, _ = await api_and_socket(live_server, name)
    bob, _ = await api_and_socket(live_server, named("bob"))
    await verified(live_server, alice, mailbox, address_of(name))

    for response in (await bob.get(f"/api/users/{name}"), await bob.get("/api/users", q=name)):
        assert address_of(name) not in response.text
    assert ok(await bob.get("/api/users/me/notifications"))["email_address"] is None


async def test_a_link_for_a_replaced_address_or_an_expired_one_is_refused(live_server, mailbox):
    name = named("alice")
    old_address, new_address = f"old-{name}@example.com", f"new-{name}@example.com"
    alice, _ = await api_and_socket(live_server, name)
    ok(await alice.http.put("/api/users/me/email", json={"email": old_address}, headers=alice.headers))
    old = verify_link(await mailbox.next_to(old_address))
    ok(await alice.http.put("/api/users/me/email", json={"email": new_address}, headers=alice.headers))
    new = verify_link(await mailbox.next_to(new_address))
    # Made with the server's own signing code and secret, expired an hour ago.
    past = datetime.now(UTC) - timedelta(hours=1)
    expired = MailTokens(JWT_SECRET).verification(user_id(alice), new_address, "0" * 32, past)
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
    assert mine["email_address"] == new_address and mine["email_verified"] is True


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
async def test_a_bad_address_is_invalid_and_sends_nothing(live_server, address):
    alice, _ = await api_and_socket(live_server, named("alice"))

    answer = await alice.http.put("/api/users/me/email", json={"email": address}, headers=alice.headers)

    refused(answer, 422, "invalid")
    assert ok(await alice.get("/api/users/me/notifications"))["email_address"] is None
    assert await outbox(live_server, user_id(alice)) == []


async def test_without_smtp_settings_an_address_is_invalid(tmp_path):
    async with running(settings_for(tmp_path / "plain")) as server:
        token = await server.register("alice")
        answer = await server.http.put(
            "/api/users/me/email", json={"email": "alice@example.com"}, headers=bearer(token)
        )
        refused(answer, 422, "invalid")
        mine = (await server.http.get("/api/users/me/notifications", headers=bearer(token))).json()
        assert mine["email_available"] is False and mine["email_address"] is None


async def test_setting_an_address_needs_a_bearer_token(live_server):
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


async def test_verification_mails_are_limited_per_user(live_server):
    name = named("alice")
    alice, _ = await api_and_socket(live_server, name)
    for n in range(5):
        ok(
            await alice.http.put(
                "/api/users/me/email", json={"email": f"{name}-{n}@example.com"}, headers=alice.headers
            )
        )

    sixth = await alice.http.put(
        "/api/users/me/email", json={"email": f"{name}-5@example.com"}, headers=alice.headers
    )

    refused(sixth, 429, "rate_limited")
    assert int(sixth.headers["Retry-After"]) > 0
    assert ok(await alice.get("/api/users/me/notifications"))["email_address"] == f"{name}-4@example.com"


async def test_a_4xx_is_retried_and_a_5xx_fails_for_good(tmp_path, database):
    """The SMTP server's replies are scripted (the next ``DATA``s, whoever sends them): a server
    and an SMTP server of the test's own."""
    with smtp_server(tmp_path) as smtp:
        async with running_on(mail_settings(tmp_path / "data", smtp), database) as live_server:
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
DIGEST_WAIT = 30.0


async def mailed(live_server: LiveServer, mailbox: Mailbox, name: str) -> tuple[Api, Client]:
    """``name`` with a verified address ``<name>@example.com``, still connected."""
    api, client = await api_and_socket(live_server, name)
    await verified(live_server, api, mailbox, address_of(name))
    return api, client


async def pending_rows(live_server: LiveServer, *users: int) -> list[EmailPending]:
    """The rows waiting for a digest, of ``users``."""
    async with live_server.chat.db.read() as repos:
        rows = list((await repos.session.execute(select(EmailPending))).scalars())
    return [row for row in rows if row.user_id in users]


async def rows_for(live_server: LiveServer, user: int, count: int) -> None:
    """Wait (bounded) until the notifier wrote ``count`` digest rows for ``user``."""
    async with asyncio.timeout(15):
        while len(await pending_rows(live_server, user)) < count:
            await asyncio.sleep(0.05)


async def test_a_digest_after_the_delay_lists_the_unread_messages_grouped_by_conversation(
    live_server, mailbox
):
    alice_name, bob_name, carol_name = named("alice"), named("bob"), named("carol")
    general_name = named("general")
    alice_api, alice = await mailed(live_server, mailbox, alice_name)
    _, bob = await api_and_socket(live_server, bob_name)
    _, carol = await api_and_socket(live_server, carol_name)
    await alice.ok("topic:create", {"name": general_name})
    await bob.ok("topic:subscribe", {"topic": general_name})
    first = await send(bob, {"to": alice_name, "body": "hello <script>alert(1)</script> & <b>bold</b>"})
    mention = await send(bob, {"topic": general_name, "body": f"@{alice_name} look here"})
    await send(bob, {"topic": general_name, "body": "nobody is mentioned"})  # notifies nobody
    from_carol = await send(carol, {"to": alice_name, "body": "from carol"})
    long = await send(bob, {"to": alice_name, "body": "x" * 250})
    await rows_for(live_server, user_id(alice_api), 4)  # decided while she is connected: no digest yet

    await alice.close()  # no socket: the digest comes once email_delay passed
    mail = await mailbox.next_to(address_of(alice_name), timeout=DIGEST_WAIT)

    assert mail.recipients == [address_of(alice_name)] and mail.message["From"] == SENDER
    assert mail.message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.message.iter_parts()] == ["text/plain", "text/html"]
    unsubscribe = mail.message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{BASE}/api/notifications/unsubscribe?token=") and unsubscribe.endswith(
        ">"
    )
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = mail.part("plain"), mail.part("html")
    link = {m["id"]: f"{BASE}/#topic=%40{bob_name}&message={m['id']}" for m in (first, long)}
    link[mention["id"]] = f"{BASE}/#topic={general_name}&message={mention['id']}"
    link[from_carol["id"]] = f"{BASE}/#topic=%40{carol_name}&message={from_carol['id']}"
    for each in link.values():
        assert each in text and each.replace("&", "&amp;") in html
    assert "nobody is mentioned" not in text
    # Grouped by conversation, in the order of each one's oldest message: @bob (two), general, @carol.
    at_bob, general, at_carol = (
        text.index(f"\n{name}\n") for name in (f"@{bob_name}", general_name, f"@{carol_name}")
    )
    assert at_bob < text.index(link[first["id"]]) < text.index(link[long["id"]]) < general
    assert general < text.index(link[mention["id"]]) < at_carol < text.index(link[from_carol["id"]])
    assert "x" * 200 in text and "x" * 201 not in text  # the first 200 characters
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold" in html
    assert "<script>alert(1)</script> & <b>bold</b>" in text  # plain text is as written
    assert unsubscribe[1:-1] in text and unsubscribe[1:-1].replace("&", "&amp;") in html
    assert await pending_rows(live_server, user_id(alice_api)) == []  # the listed rows are gone
    assert ok(await alice_api.get("/api/users/me/notifications"))["email"] is True


ONE_CLICK = {
    "content": b"List-Unsubscribe=One-Click",
    "headers": {"Content-Type": "application/x-www-form-urlencoded"},
}


async def unsubscribe_link(live_server: LiveServer, mailbox: Mailbox) -> tuple[Api, str]:
    """A user with email on and the unsubscribe link of a digest just sent to them."""
    alice_name = named("alice")
    alice_api, alice = await mailed(live_server, mailbox, alice_name)
    _, bob = await api_and_socket(live_server, named("bob"))
    await alice.close()
    await send(bob, {"to": alice_name, "body": "hi"})
    mail = await mailbox.next_to(address_of(alice_name), timeout=DIGEST_WAIT)
    link = path_of(mail.message["List-Unsubscribe"][1:-1])
    assert path_of(link) in mail.part("plain")
    return alice_api, link


async def email_on(api: Api) -> bool:
    return bool(ok(await api.get("/api/users/me/notifications"))["email"])


async def test_the_one_click_post_turns_email_off_without_signing_in(live_server, mailbox):
    alice_api, link = await unsubscribe_link(live_server, mailbox)

    one_click = await live_server.http.post(link, **ONE_CLICK)

    assert one_click.status_code == 200 and "off" in one_click.text and "back on" in one_click.text
    assert await email_on(alice_api) is False


async def test_opening_the_link_changes_nothing_and_shows_a_button_that_posts(live_server, mailbox):
    """Mail scanners and link unfurlers open every link of a mail: a GET must not unsubscribe."""
    alice_api, link = await unsubscribe_link(live_server, mailbox)

    page = await live_server.http.get(link)  # a scanner, or a person opening the link in the body

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert await email_on(alice_api) is True
    form = re.search(r'<form method="post" action="([^"]+)">', page.text)
    assert form is not None and html.unescape(form[1]) == link
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in page.text
    assert re.search(r"<button[^>]*>[^<]*[Uu]nsubscribe", page.text)
    pressed = await live_server.http.post(  # the button, as a browser submits the form
        html.unescape(form[1]), data={"List-Unsubscribe": "One-Click"}
    )
    assert pressed.status_code == 200 and "off" in pressed.text
    assert await email_on(alice_api) is False


async def test_a_link_from_before_email_was_turned_back_on_is_refused(live_server, mailbox):
    alice_api, link = await unsubscribe_link(live_server, mailbox)
    assert (await live_server.http.post(link, **ONE_CLICK)).status_code == 200
    ok(
        await alice_api.http.put(
            "/api/users/me/notifications", json={"email": True}, headers=alice_api.headers
        )
    )

    again = await live_server.http.post(link, **ONE_CLICK)
    opened = await live_server.http.get(link)

    assert again.status_code == 400 and "no longer" in again.text
    assert opened.status_code == 400 and "<form" not in opened.text
    assert await email_on(alice_api) is True


async def test_an_expired_link_is_refused_and_changes_nothing(live_server, mailbox):
    alice_api, link = await unsubscribe_link(live_server, mailbox)
    claims = jwt.decode(parse_qs(urlsplit(link).query)["token"][0], JWT_SECRET, algorithms=["HS256"])
    assert claims["exp"] > datetime.now(UTC).timestamp() + 59 * 86400  # valid about 60 days
    # The same link, signed with the server's secret, expired a minute ago.
    expired = jwt.encode({**claims, "exp": int(datetime.now(UTC).timestamp()) - 60}, JWT_SECRET)

    posted = await live_server.http.post(
        "/api/notifications/unsubscribe", params={"token": expired}, **ONE_CLICK
    )
    opened = await live_server.http.get("/api/notifications/unsubscribe", params={"token": expired})

    assert posted.status_code == 400 and "expired" in posted.text
    assert opened.status_code == 400 and "expired" in opened.text and "<form" not in opened.text
    assert await email_on(alice_api) is True


async def test_a_forged_link_is_refused(live_server):
    for method in ("GET", "POST"):
        forged = await live_server.http.request(
            method, "/api/notifications/unsubscribe", params={"token": "x.y.z"}
        )
        assert forged.status_code == 400 and "not valid" in forged.text


async def test_messages_read_meanwhile_are_left_out(live_server, mailbox):
    alice_name, bob_name = named("alice"), named("bob")
    alice_api, alice = await mailed(live_server, mailbox, alice_name)
    _, bob = await api_and_socket(live_server, bob_name)
    read = await send(bob, {"to": alice_name, "body": "read on the phone"})
    unread = await send(bob, {"to": alice_name, "body": "still unread"})
    await rows_for(live_server, user_id(alice_api), 2)  # both decided: rows wait for the digest
    await alice.ok("read", {"with": bob_name, "seq": read["seq"]})  # read after the notifier's decision

    await alice.close()
    mail = await mailbox.next_to(address_of(alice_name), timeout=DIGEST_WAIT)

    text = mail.part("plain")
    assert f"message={unread['id']}" in text and "still unread" in text
    assert f"message={read['id']}" not in text and "read on the phone" not in text


async def test_no_digest_while_connected_within_the_interval_or_to_an_unverified_address(
    live_server, mailbox
):
    """Carol (verified, offline) is the yardstick: her digest comes from a message sent after the
    others, so by then the sweep has passed over theirs."""
    dana, erin, fred, carol_name = named("dana"), named("erin"), named("fred"), named("carol")
    connected_api, _connected = await mailed(live_server, mailbox, dana)  # stays connected
    spaced_api, spaced = await mailed(live_server, mailbox, erin)  # gets one digest, then another message
    unverified, unverified_socket = await api_and_socket(live_server, fred)
    ok(
        await unverified.http.put(
            "/api/users/me/email", json={"email": address_of(fred)}, headers=unverified.headers
        )
    )
    await mailbox.next_to(address_of(fred))  # fred's verification mail, never opened
    _, carol = await mailed(live_server, mailbox, carol_name)
    _, bob = await api_and_socket(live_server, named("bob"))
    for client in (spaced, unverified_socket, carol):
        await client.close()
    await send(bob, {"to": erin, "body": "first"})
    digest = await mailbox.next_to(address_of(erin), timeout=DIGEST_WAIT)
    assert digest.recipients == [address_of(erin)] and "first" in digest.part("plain")

    await send(bob, {"to": dana, "body": "you are here"})
    await send(bob, {"to": erin, "body": "second, within the interval"})
    await send(bob, {"to": fred, "body": "to an unverified address"})
    await send(bob, {"to": carol_name, "body": "the yardstick"})
    yardstick = await mailbox.next_to(address_of(carol_name), timeout=DIGEST_WAIT)

    assert yardstick.recipients == [address_of(carol_name)] and "the yardstick" in yardstick.part("plain")
    assert await mailbox.unread(*(address_of(name) for name in (dana, erin, fred, carol_name))) == 0
    assert len(mailbox.to(address_of(dana))) == 1  # the verification only
    assert len(mailbox.to(address_of(erin))) == 2  # the verification and the first digest
    assert len(mailbox.to(address_of(fred))) == 1  # the verification only
    everyone = (user_id(connected_api), user_id(spaced_api), user_id(unverified))
    waiting = {row.user_id for row in await pending_rows(live_server, *everyone)}
    assert waiting == {user_id(connected_api), user_id(spaced_api)}  # kept for later; fred's never written


async def test_do_not_disturb_holds_the_digest_back_and_it_comes_once_lifted(live_server, mailbox):
    alice_name, carol_name = named("alice"), named("carol")
    alice_api, alice = await mailed(live_server, mailbox, alice_name)
    carol_api, carol = await mailed(live_server, mailbox, carol_name)
    _, bob = await api_and_socket(live_server, named("bob"))
    await alice.ok("availability:set", {"availability": "dnd"})
    for client in (alice, carol):
        await client.close()
    await send(bob, {"to": alice_name, "body": "while you were busy"})
    await send(bob, {"to": carol_name, "body": "the yardstick"})
    yardstick = await mailbox.next_to(address_of(carol_name), timeout=DIGEST_WAIT)
    assert yardstick.recipients == [address_of(carol_name)]
    both = (user_id(alice_api), user_id(carol_api))
    assert {row.user_id for row in await pending_rows(live_server, *both)} == {user_id(alice_api)}  # kept

    again = await live_server.connect(alice_name, alice_api.headers["Authorization"].removeprefix("Bearer "))
    await again.ok("availability:set", {"availability": "auto"})
    await again.close()
    mail = await mailbox.next_to(address_of(alice_name), timeout=DIGEST_WAIT)

    assert mail.recipients == [address_of(alice_name)] and "while you were busy" in mail.part("plain")
