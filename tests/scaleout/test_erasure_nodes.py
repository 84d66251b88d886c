"""Erasure across two nodes (PROTOCOL.md section 16): asked on node A, the account's sockets on
both nodes close at once, its tokens are refused by both, and a member on node B sees each of its
messages deleted live, then finds them as tombstones sent by ``[deleted]``; and nothing of it stays at
rest that the other node wrote (issue 52: the shared exports directory, the preview cache, the
tables)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from db.dump import dump
from db.models import LinkPreview
from tests.bots_support import Api
from tests.chat.operators.test_erasure_at_rest import NAME, SETTLED, WORDS, scanned
from tests.edge.rest.test_erasure import closed, history
from tests.erasure_support import erase_me, until_erased, user_id_of
from tests.exports_support import exported
from tests.preview_site import serving
from tests.scaleout.conftest import two_nodes
from tests.support import LiveServer, bearer, polled, send

pytestmark = pytest.mark.redis

WAIT = 10.0


async def test_erasure_on_one_node_closes_sockets_on_both_and_tombstones_live(
    nodes: tuple[LiveServer, LiveServer],
) -> None:
    a, b = nodes
    token = await a.register("alice")
    on_a, on_b = await a.connect("alice", token), await b.connect("alice", token)
    bob = await b.user("bob")
    await on_a.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    sent = [await send(on_a, {"topic": "general", "body": f"words {i}"}) for i in range(3)]
    for _ in sent:
        await bob.next("message")

    user_id = await user_id_of(a, "alice")
    response = await erase_me(a, token)
    assert response.status_code == 202, response.text
    await asyncio.gather(closed(on_a), closed(on_b))
    for node in (a, b):
        refused = await node.http.get("/api/users/me", headers=bearer(token))
        assert refused.status_code == 401

    deleted = {(await bob.next("message:deleted", WAIT))["id"] for _ in sent}
    assert deleted == {m["id"] for m in sent}
    await until_erased(a, user_id)
    bob_token = (await b.chat.users.issue_token("bob")).token
    texts = [m for m in await history(b, bob_token) if m["type"] == "text"]
    assert [(m["sender"], m["body"], m["deleted"]) for m in texts] == [("[deleted]", "", True)] * 3


async def test_an_erasure_on_one_node_leaves_nothing_at_rest_that_the_other_node_wrote(
    tmp_path: Path,
) -> None:
    """Issue 52's probe on two nodes: Alice writes through node B (her words, a link whose preview
    either node fetches, an export either node builds into the shared exports directory) and is
    erased through node A. Afterwards neither node's data directory, the shared files directory
    nor a dump of every PostgreSQL table holds her words or her URL (her name stays reserved, in
    ``users`` and the audit log's row, as on one node)."""
    async with serving() as site:
        url = site.at("/og-" + "wanderingnarwhal")
        shared = tmp_path / "shared-files"
        overrides = {"previews": True, "preview_allow_hosts": ["127.0.0.1"], "files_dir": shared}
        async with two_nodes(tmp_path, default_topics=[], **overrides) as (a, b):
            token = await b.register(NAME)
            alice = await b.connect(NAME, token)
            await alice.ok("topic:create", {"name": "general"})
            await alice.ok("message:send", {"topic": "general", "body": f"{WORDS[0]} see {url}"})
            await alice.ok("message:send", {"topic": "general", "body": f"{WORDS[1]} {WORDS[2]}"})
            await polled(lambda: previewed(a, url), SETTLED)
            export = await exported(Api(b, token))
            assert WORDS[0].encode() in export.raw
            await alice.close()
            needles = [word.encode() for word in WORDS] + [url.encode(), b"wanderingnarwhal"]
            folders = [a.app.state.settings.data_dir, b.app.state.settings.data_dir, shared]
            before = await found_at_rest(a, folders, tmp_path / "before", needles)
            assert set(before) == set(needles), before  # the scan sees each of them

            user_id = await user_id_of(a, NAME)
            assert (await erase_me(a, token)).status_code == 202
            await until_erased(a, user_id)
            assert await found_at_rest(a, folders, tmp_path / "after", needles) == {}


async def previewed(node: LiveServer, url: str) -> bool:
    async with node.chat.db.read() as repos:
        found = (await repos.session.execute(select(LinkPreview))).scalars()
        return any(row.url == url and row.state == "ready" for row in found)


async def found_at_rest(
    node: LiveServer, folders: list[Path], out: Path, needles: list[bytes]
) -> dict[bytes, list[str]]:
    """The needles in every file under ``folders`` and in a dump of every table."""
    out.mkdir(parents=True)
    await dump(node.chat.db.engine, out)
    found: dict[bytes, list[str]] = {}
    for root in (*folders, out):
        for needle, files in scanned(root, needles).items():
            found.setdefault(needle, []).extend(f"{root.name}/{name}" for name in files)
    return found
