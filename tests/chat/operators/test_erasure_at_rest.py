"""Erasure leaves nothing at rest (PROTOCOL.md section 16, issue 52 row 2), on SQLite and on
PostgreSQL.

A real server with previews (a local site), pushes (a local push service) and email (a local SMTP
server) on. Alice posts words no one else uses and a link, DMs Bob (offline, with a push
subscription and a verified address: a push and a digest are written, and sent), asks for her
export; then erases her account through ``DELETE /api/users/me``. Afterwards every file of the data
directory (the database, its ``-wal`` and ``-shm``, uploads, exports; a ZIP is read entry by entry,
since deflate hides its text) and a dump of every table (the only look PostgreSQL's files allow)
hold none of her words, her URL or her name. Before the erasure the same scan finds each of them:
the scan can see what it looks for.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from db.dump import dump
from db.models import LinkPreview, MailOutbox, PushOutbox
from tests.bots_support import Api, ok
from tests.erasure_support import erase_me, until_erased, user_id_of
from tests.exports_support import exported
from tests.preview_site import Site, serving
from tests.push_service import PushService, push_service
from tests.smtp_server import SmtpServer, smtp_server
from tests.support import LiveServer, polled, running_on
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases

# What only Alice wrote (ASCII: a mail's text part stays readable as 7-bit) and her name.
WORDS = ("quixoticzebra", "flummoxedpangolin", "bamboozledaardvark")
NAME = "alicezyx"
SETTLED = 20.0
# The name stays reserved (the account's ``username_key``) and the audit log's ``user.erase`` row
# names it (PROTOCOL.md section 16): only the database may hold it, in those two tables. The WAL
# may too: a write after the erasure's checkpoint (the audit row itself, a sign-in's counter) copies
# a page of those tables into it, the name with it. The other needles must be gone from it.
NAME_KEPT = {"parley.db", "parley.db-wal", "dump:users.jsonl", "dump:audit_log.jsonl"}


@pytest_asyncio.fixture
async def outside(tmp_path: Path) -> AsyncIterator[tuple[Site, PushService, SmtpServer]]:
    async with serving() as site, push_service() as pushes:
        with smtp_server(tmp_path / "smtp") as smtp:
            yield site, pushes, smtp


@pytest_asyncio.fixture
async def server(
    tmp_path: Path, database: str, outside: tuple[Site, PushService, SmtpServer]
) -> AsyncIterator[LiveServer]:
    _site, _pushes, smtp = outside
    settings = settings_for(
        tmp_path / "data",
        previews=True,
        preview_allow_hosts=["127.0.0.1"],
        push_delay=0.05,
        push_allow_hosts=["127.0.0.1"],
        smtp_url=smtp.url(),
        smtp_from="Parley <parley@example.com>",
        email_delay=0.2,
        webhook_retry_base=0.1,
    )
    async with running_on(settings, database) as live:
        yield live


def occurrences(data: bytes, needles: list[bytes]) -> set[bytes]:
    """The needles in ``data``, and in each entry of it when it is a ZIP (deflate hides text)."""
    found = {needle for needle in needles if needle in data}
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                found |= occurrences(archive.read(name), needles)
    return found


def scanned(root: Path, needles: list[bytes]) -> dict[bytes, list[str]]:
    """Which needles each file under ``root`` holds (files read whole, as bytes)."""
    where: dict[bytes, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            for needle in occurrences(path.read_bytes(), needles):
                where.setdefault(needle, []).append(str(path.relative_to(root)))
    return where


async def at_rest(server: LiveServer, folder: Path, needles: list[bytes]) -> dict[bytes, list[str]]:
    """The needles in the data directory's files and in a dump of every table."""
    dumped = folder / "dump"
    dumped.mkdir(parents=True)
    await dump(server.chat.db.engine, dumped)
    found = scanned(server.app.state.settings.data_dir, needles)
    for needle, files in scanned(dumped, needles).items():
        found.setdefault(needle, []).extend(f"dump:{name}" for name in files)
    return found


async def rows(server: LiveServer, model: Any) -> list[Any]:
    async with server.chat.db.read() as repos:
        return list((await repos.session.execute(select(model))).scalars())


async def test_an_erased_persons_words_urls_and_name_are_in_no_file_afterwards(
    server: LiveServer, outside: tuple[Site, PushService, SmtpServer], tmp_path: Path
) -> None:
    site, pushes, smtp = outside
    url = site.at("/og-" + "wanderingnarwhal")
    alice_token = await server.register(NAME)
    alice, alice_socket = Api(server, alice_token), await server.connect(NAME, alice_token)
    bob_token = await server.register("bob")
    bob = Api(server, bob_token)
    pushes.public_key = ok(await bob.get("/api/push/key"))["public_key"]
    ok(await bob.post("/api/push/subscriptions", pushes.browser("bob").subscription), 201)
    ok(await bob.http.put("/api/users/me/email", json={"email": "bob@example.com"}, headers=bob.headers))
    verification = await smtp.recorder.next()
    text = verification.message.get_body(("plain",))
    assert text is not None
    [link] = [word for word in text.get_content().split() if "verify?" in word]
    assert (await server.http.get(link[link.index("/api/") :])).status_code == 200

    await alice_socket.ok("topic:create", {"name": "general"})
    ok(await bob.post("/api/topics/general/subscribe"))
    said = await alice_socket.ok("message:send", {"topic": "general", "body": f"{WORDS[0]} see {url}"})
    edited = f"{WORDS[1]} was here first"
    await alice_socket.ok("message:send", {"topic": "general", "body": "a draft to edit"})
    ok(
        await alice.http.put(
            f"/api/messages/{said['id']}", json={"body": f"{WORDS[0]} {url} {edited}"}, headers=alice.headers
        )
    )
    await alice_socket.ok("message:send", {"to": "bob", "body": f"{WORDS[2]} for bob only"})

    async def notified() -> bool:  # a push and a digest to Bob were written and sent
        pushed = [r for r in await rows(server, PushOutbox) if r.status != "pending"]
        mailed = [r for r in await rows(server, MailOutbox) if r.kind == "digest" and r.status == "ok"]
        return bool(pushed) and bool(mailed)

    await polled(notified, SETTLED)
    await polled(lambda: _previewed(server, url), SETTLED)
    export = await exported(alice)
    assert WORDS[0].encode() in export.raw
    await alice_socket.close()
    needles = [word.encode() for word in (*WORDS, NAME)] + [url.encode(), b"wanderingnarwhal"]
    before = await at_rest(server, tmp_path / "before", needles)
    assert set(before) == set(needles), before  # the scan sees each of them

    user_id = await user_id_of(server, NAME)
    assert (await erase_me(server, alice_token)).status_code == 202
    await until_erased(server, user_id)

    after = await at_rest(server, tmp_path / "after", needles)
    kept = after.pop(NAME.encode(), [])
    assert after == {}, after
    assert set(kept) <= NAME_KEPT, kept
    assert [p.name for p in server.app.state.settings.resolved_exports_dir.glob("*")] == []


async def _previewed(server: LiveServer, url: str) -> bool:
    """The URL's preview is in the cache, fetched."""
    return any(row.url == url and row.state == "ready" for row in await rows(server, LinkPreview))
