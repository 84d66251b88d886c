"""Who may fetch a preview's picture (PROTOCOL.md section 13): anyone who may read a message
carrying it, however many messages of other conversations carry it too. A URL posted many times
in one private topic must not make its picture answer 404 to the readers of another conversation
that carries the same URL (the cache gives them the same picture)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.chat.previews.test_previews import previews_of
from tests.edge.rest.test_topics_rest import api_and_socket
from tests.preview_site import Site, serving
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases

POISON = 21  # more messages than the server ever looked at to find one the reader may read


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with serving() as found:
        yield found


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Previews on, the local site let through the guard."""
    return settings_for(tmp_path / "data", previews=True, preview_allow_hosts=["127.0.0.1"])


async def test_a_url_posted_many_times_in_one_private_topic_does_not_hide_its_picture_from_others(
    live_server, site
):
    alice_api, alice = await api_and_socket(live_server, "alice")
    bob_api, bob = await api_and_socket(live_server, "bob")
    url = site.at("/og-shared")
    await alice.ok("topic:create", {"name": "alices-room", "private": True})
    for i in range(POISON):
        sent = await alice.ok("message:send", {"topic": "alices-room", "body": f"#{i} {url}"})
    (alices,) = await previews_of(alice, sent["id"])

    await bob.ok("topic:create", {"name": "bobs-room", "private": True})
    mine = await bob.ok("message:send", {"topic": "bobs-room", "body": f"look {url}"})
    (bobs,) = await previews_of(bob, mine["id"])

    assert bobs["image"]["url"] == alices["image"]["url"]  # one cached picture for the URL
    picture = await bob_api.http.get(bobs["image"]["url"], headers=bob_api.headers)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    mallory_api, _ = await api_and_socket(live_server, "mallory")
    refused = await mallory_api.http.get(bobs["image"]["url"], headers=mallory_api.headers)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert (await alice_api.http.get(alices["image"]["url"], headers=alice_api.headers)).status_code == 200
    assert site.hits["/og-shared"] == 1
