"""Custom emoji across nodes (PROTOCOL.md section 13): an emoji added through node A reaches a
socket on node B as ``emoji:updated``, node B lists it and serves its picture (kept in the
database, not in one node's files), and its removal through B reaches a socket on A."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.support import bearer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (64, 64), (255, 200, 0, 255)).save(out, format="PNG")
    return out.getvalue()


async def test_an_emoji_added_on_one_node_reaches_the_other(nodes):
    node_a, node_b = nodes
    olive_token = await node_a.register("olive")  # the first account: the owner
    olive = await node_a.connect("olive", olive_token)
    mabel_token = await node_b.register("mabel")
    mabel = await node_b.connect("mabel", mabel_token)

    added = await node_a.http.post(
        "/api/emoji",
        headers=bearer(olive_token),
        data={"name": "shipit"},
        files={"file": ("shipit.png", png(), "image/png")},
    )
    assert added.status_code == 201, added.text
    told = await mabel.next("emoji:updated")
    assert told == {"emoji": [added.json()]}

    listed = await node_b.http.get("/api/emoji", headers=bearer(mabel_token))
    assert listed.json() == {"emoji": [added.json()]}
    picture = await node_b.http.get(added.json()["url"], headers=bearer(mabel_token))
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(picture.content)).size == (64, 64)

    removed = await node_b.http.delete("/api/emoji/shipit", headers=bearer(olive_token))
    assert removed.status_code == 204
    assert await olive.next("emoji:updated") == {"emoji": [added.json()]}  # her own add first
    assert await olive.next("emoji:updated") == {"emoji": []}
