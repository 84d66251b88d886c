"""Custom emoji over REST (PROTOCOL.md section 13) on a real server: owners and admins add and
remove them, every signed-in user lists them and reads their pictures, everyone online gets
``emoji:updated``, each change is audited, and a refused upload (a member, a bad name, a taken
one, too large, not a picture, no name, no file) answers the protocol's error and changes nothing.
Reactions take ``:name:`` as they take a Unicode emoji."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from db.emoji.tables import CustomEmoji
from tests.contract import assert_error
from tests.support import LiveServer, bearer, count, general_with, running, send
from tests.support import test_settings as make_settings


def png(width: int = 300, height: int = 200, color: str = "red", exif: bool = False) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), color)
    if exif:
        data = image.getexif()
        data[0x010E] = "secret description"
        image.save(out, format="PNG", exif=data)
    else:
        image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with running(make_settings(tmp_path / "data")) as live:
        yield live


class Team:
    """olive (the owner: the first account), adam (an admin) and mabel (a member)."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.tokens: dict[str, str] = {}

    async def start(self) -> Team:
        for name in ("olive", "adam", "mabel"):
            self.tokens[name] = await self.server.register(name)
        made = await self.server.http.patch(
            "/api/admin/users/adam", headers=self.auth("olive"), json={"role": "admin"}
        )
        assert made.status_code == 200, made.text
        return self

    def auth(self, name: str) -> dict[str, str]:
        return bearer(self.tokens[name])

    async def upload(
        self, who: str, name: str | None, data: bytes | None, filename: str = "e.png"
    ) -> httpx.Response:
        fields = {} if name is None else {"name": name}
        field = "other" if data is None else "file"  # no file: a multipart body without one
        files = {field: (filename, data or b"x", "image/png")}
        return await self.server.http.post("/api/emoji", headers=self.auth(who), data=fields, files=files)

    async def listed(self, who: str = "mabel") -> list[dict[str, object]]:
        answer = await self.server.http.get("/api/emoji", headers=self.auth(who))
        assert answer.status_code == 200, answer.text
        emoji: list[dict[str, object]] = answer.json()["emoji"]
        return emoji


async def test_an_admin_adds_everyone_lists_and_sees_the_picture_then_it_is_removed(server):
    team = await Team(server).start()
    mabel = await server.connect("mabel", team.tokens["mabel"])
    added = await team.upload("adam", "party_parrot-2", png(300, 200, exif=True))
    assert added.status_code == 201, added.text
    body = added.json()
    assert set(body) == {"name", "url", "by", "created_at"}
    assert body["name"] == "party_parrot-2" and body["by"] == "adam"
    assert body["url"].startswith("/api/emoji/party_parrot-2/image")
    assert await team.listed("mabel") == [body]

    told = await mabel.next("emoji:updated")
    assert told == {"emoji": [body]}

    picture = await server.http.get(body["url"], headers=team.auth("mabel"))
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/png"
    assert picture.headers["x-content-type-options"] == "nosniff"
    shown = Image.open(io.BytesIO(picture.content))
    assert shown.size == (128, 85)  # at most 128 pixels a side, in proportion
    assert not shown.getexif() and "exif" not in shown.info  # re-encoded without metadata
    again = await server.http.get(
        body["url"], headers={**team.auth("mabel"), "If-None-Match": picture.headers["etag"]}
    )
    assert again.status_code == 304
    assert (await server.http.get(body["url"])).status_code == 401  # signed-in users only

    assert (await team.upload("olive", "small", png(16, 16, "blue"))).status_code == 201
    told = await mabel.next("emoji:updated")
    assert [e["name"] for e in told["emoji"]] == ["party_parrot-2", "small"]

    gone = await server.http.delete("/api/emoji/party_parrot-2", headers=team.auth("adam"))
    assert gone.status_code == 204
    told = await mabel.next("emoji:updated")
    assert [e["name"] for e in told["emoji"]] == ["small"]
    assert [e["name"] for e in await team.listed()] == ["small"]
    assert_error(await server.http.get(body["url"], headers=team.auth("mabel")), 404, "not_found")
    assert_error(
        await server.http.delete("/api/emoji/party_parrot-2", headers=team.auth("adam")), 404, "not_found"
    )

    audit = await server.http.get("/api/admin/audit", headers=team.auth("olive"))
    assert audit.status_code == 200, audit.text
    actions = [(e["action"], e["target"], e["actor"]) for e in audit.json()["entries"]]
    assert ("emoji.add", "party_parrot-2", "adam") in actions
    assert ("emoji.add", "small", "olive") in actions
    assert ("emoji.remove", "party_parrot-2", "adam") in actions
    await mabel.close()


async def test_a_member_may_not_add_or_remove(server):
    team = await Team(server).start()
    assert_error(await team.upload("mabel", "nope", png()), 403, "forbidden")
    assert (await team.upload("adam", "kept", png())).status_code == 201
    assert_error(await server.http.delete("/api/emoji/kept", headers=team.auth("mabel")), 403, "forbidden")
    assert [e["name"] for e in await team.listed()] == ["kept"]
    assert await count(server, CustomEmoji) == 1
    assert (await server.http.get("/api/emoji")).status_code == 401


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("Upper", png(), 422, "invalid"),
        ("with space", png(), 422, "invalid"),
        ("a" * 33, png(), 422, "invalid"),
        ("", png(), 422, "invalid"),
        ("émoji", png(), 422, "invalid"),
        (None, png(), 422, "invalid"),  # no name field
        ("nofile", None, 422, "invalid"),  # no file field
        ("empty", b"", 422, "invalid"),
        ("text", b"hello, this is not a picture\n" * 10, 422, "invalid"),
        ("broken", png()[:60], 422, "invalid"),  # a PNG header, no pixels
        ("svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 422, "invalid"),
        ("big", b"\x89PNG\r\n\x1a\n" + bytes(256 * 1024), 413, "too_large"),
    ],
)
async def test_bad_uploads_are_refused_and_change_nothing(server, name, data, status, code):
    team = await Team(server).start()
    mabel = await server.connect("mabel", team.tokens["mabel"])
    assert_error(await team.upload("adam", name, data), status, code)
    assert await team.listed() == []
    assert await count(server, CustomEmoji) == 0
    assert mabel.pending("emoji:updated") == []
    await mabel.close()


async def test_a_taken_name_is_a_conflict_and_keeps_the_first(server):
    team = await Team(server).start()
    first = await team.upload("adam", "dup", png(20, 20, "green"))
    assert first.status_code == 201
    assert_error(await team.upload("olive", "dup", png(40, 40, "blue")), 409, "conflict")
    assert await team.listed() == [first.json()]
    picture = await server.http.get(first.json()["url"], headers=team.auth("mabel"))
    assert Image.open(io.BytesIO(picture.content)).size == (20, 20)


async def test_a_demoted_admin_is_refused_at_once(server):
    team = await Team(server).start()
    demoted = await server.http.patch(
        "/api/admin/users/adam", headers=team.auth("olive"), json={"role": "member"}
    )
    assert demoted.status_code == 200, demoted.text
    assert_error(await team.upload("adam", "late", png()), 403, "forbidden")
    assert await team.listed() == []


async def test_reactions_take_a_custom_emoji_shortcode(server):
    team = await Team(server).start()
    assert (await team.upload("adam", "parley", png(32, 32))).status_code == 201
    adam = await server.connect("adam", team.tokens["adam"])
    mabel = await server.connect("mabel", team.tokens["mabel"])
    await general_with(adam, mabel)
    sent = await send(adam, {"topic": "general", "body": "custom :parley: here"})
    reacted = await mabel.ok("reaction:add", {"id": sent["id"], "emoji": ":parley:"})
    assert reacted["reactions"][0]["emoji"] == ":parley:"
    assert reacted["reactions"][0]["users"] == ["mabel"]
    await adam.close()
    await mabel.close()
