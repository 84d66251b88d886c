"""Link previews end to end (PROTOCOL.md section 13): a real server fetches pages from a real local
site after the send is acknowledged, pushes ``message:previews`` to the members, keeps the previews
on the message for every later rendering, serves the picture itself to readers only, fetches a URL
once however many messages carry it, survives a restart with URLs queued, and lets the sender
remove them."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from db.models import LinkPreview
from tests.edge.rest.test_topics_rest import Api, api_and_socket, ok
from tests.preview_site import Site, serving, waiting
from tests.support import PASSWORD, Client, LiveServer, count, running
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with serving() as found:
        yield found


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Previews on, the local site let through the guard."""
    return settings_for(tmp_path / "data", previews=True, preview_allow_hosts=["127.0.0.1"])


async def general(live_server: LiveServer) -> tuple[Api, Client, Api, Client]:
    alice_api, alice = await api_and_socket(live_server, "alice")
    bob_api, bob = await api_and_socket(live_server, "bob")
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    return alice_api, alice, bob_api, bob


async def previews_of(client: Client, message_id: int) -> list[dict[str, Any]]:
    """The next ``message:previews`` for ``message_id`` (others are skipped)."""
    while True:
        event = await client.next("message:previews")
        if event["id"] == message_id:
            previews: list[dict[str, Any]] = event["previews"]
            return previews


async def test_a_link_gets_a_preview_after_the_ack_and_every_rendering_carries_it(live_server, site):
    _, alice, bob_api, bob = await general(live_server)
    url = site.at("/og-notes")
    body = f"The **release** is on Friday, see {url} and run `make run`"

    sent = await alice.ok("message:send", {"topic": "general", "body": body})

    assert sent["links"] == [url] and sent["previews"] == []
    pushed = await previews_of(bob, sent["id"])
    assert pushed == await previews_of(alice, sent["id"])
    (preview,) = pushed
    assert preview["url"] == url
    assert preview["title"] == "Release notes /og-notes"
    assert preview["description"] == "Notes & plans for the release"
    assert preview["site_name"] == "Example Notes"
    image = preview["image"]
    assert image["url"].startswith("/api/previews/") and image["url"].endswith("/image")
    assert (image["width"], image["height"]) == (640, 336)  # 1200x630 made at most 640 wide

    history = ok(await bob_api.get("/api/topics/general/messages"))
    assert [m["previews"] for m in history["messages"] if m["id"] == sent["id"]] == [pushed]
    found = ok(await bob_api.get("/api/search", q="release"))
    assert [m["message"]["previews"] for m in found["hits"]] == [pushed]
    picture = await bob_api.http.get(image["url"], headers=bob_api.headers)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(picture.content)).size == (640, 336)
    assert site.hits["/og-notes"] == 1 and site.hits["/card.png"] == 1


async def test_the_picture_is_for_readers_only(live_server, site):
    alice_api, alice = await api_and_socket(live_server, "alice")
    carol_api, _carol = await api_and_socket(live_server, "carol")
    await alice.ok("topic:create", {"name": "secret", "private": True})
    sent = await alice.ok("message:send", {"topic": "secret", "body": f"see {site.at('/og-private')}"})
    (preview,) = await previews_of(alice, sent["id"])
    url = preview["image"]["url"]

    assert (await alice_api.http.get(url, headers=alice_api.headers)).status_code == 200
    refused = await carol_api.http.get(url, headers=carol_api.headers)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert (await alice_api.http.get(url)).status_code == 401  # signed in only


async def test_the_send_never_waits_for_the_page(live_server, site):
    """The site holds the page until the ack came back: a send that waited would never finish."""
    _, alice, _, bob = await general(live_server)

    sent = await alice.ok("message:send", {"topic": "general", "body": f"slow {site.at('/held')}"})
    await site.arrived.wait()
    assert sent["previews"] == []
    site.release.set()

    (preview,) = await previews_of(bob, sent["id"])
    assert preview["title"] == "Held page" and preview["image"] is None


async def test_a_url_in_fifty_messages_is_fetched_once(live_server, site):
    _, alice, _, bob = await general(live_server)
    url = site.at("/og-popular")

    sent = [await alice.ok("message:send", {"topic": "general", "body": f"#{i} {url}"}) for i in range(50)]

    pending = {message["id"] for message in sent}
    while pending:
        event = await bob.next("message:previews")
        assert event["previews"][0]["title"] == "Release notes /og-popular"
        pending.discard(event["id"])
    assert site.hits["/og-popular"] == 1 and site.hits["/card.png"] == 1
    assert await count(live_server, LinkPreview) == 1
    assert await waiting(live_server) == 0


async def test_pages_without_a_preview_give_none_and_no_error(live_server, site):
    _, alice, _, bob = await general(live_server)
    links = [site.at("/no-title"), site.at("/missing"), site.at("/title-only")]

    sent = await alice.ok("message:send", {"topic": "general", "body": " ".join(links)})

    (preview,) = await previews_of(bob, sent["id"])
    assert preview == {
        "url": links[2],
        "title": "Just a title",
        "description": "",
        "site_name": "",
        "image": None,
    }
    assert sent["links"] == links


async def test_only_the_first_three_links_get_previews(live_server, site):
    _, alice, _, bob = await general(live_server)
    links = [site.at(f"/og-{i}") for i in range(6)]

    sent = await alice.ok("message:send", {"topic": "general", "body": " ".join(links)})

    assert sent["links"] == links[:5]
    assert [p["url"] for p in await previews_of(bob, sent["id"])] == links[:3]
    assert site.hits["/og-3"] == 0


async def test_an_edit_makes_the_previews_of_the_new_links(live_server, site):
    _, alice, _, bob = await general(live_server)
    sent = await alice.ok("message:send", {"topic": "general", "body": f"old {site.at('/og-old')}"})
    await previews_of(bob, sent["id"])

    edited = await alice.ok("message:edit", {"id": sent["id"], "body": f"new {site.at('/og-new')}"})

    assert edited["links"] == [site.at("/og-new")]
    (preview,) = await previews_of(bob, sent["id"])
    assert preview["url"] == site.at("/og-new")
    cleared = await alice.ok("message:edit", {"id": sent["id"], "body": "no link any more"})
    assert cleared["links"] == []
    assert await previews_of(bob, sent["id"]) == []


async def test_the_sender_removes_the_previews_for_good(live_server, site):
    alice_api, alice, bob_api, bob = await general(live_server)
    sent = await alice.ok("message:send", {"topic": "general", "body": f"see {site.at('/og-drop')}"})
    await previews_of(bob, sent["id"])

    refused = await bob.call("message:previews:remove", {"id": sent["id"]})
    assert refused["error"]["code"] == "forbidden"
    removed = await bob_api.http.delete(f"/api/messages/{sent['id']}/previews", headers=bob_api.headers)
    assert removed.status_code == 403
    await alice.ok("message:previews:remove", {"id": sent["id"]})

    assert await previews_of(bob, sent["id"]) == []
    history = ok(await bob_api.get("/api/topics/general/messages"))
    assert [m["previews"] for m in history["messages"] if m["id"] == sent["id"]] == [[]]
    await alice.ok("message:edit", {"id": sent["id"], "body": f"again {site.at('/og-drop2')}"})
    other = await alice.ok("message:send", {"topic": "general", "body": f"later {site.at('/og-later')}"})
    await previews_of(bob, other["id"])  # the worker got past the edit's job: it brought none back
    history = ok(await bob_api.get("/api/topics/general/messages"))
    assert [m["previews"] for m in history["messages"] if m["id"] == sent["id"]] == [[]]
    assert site.hits["/og-drop2"] == 0
    rest = await alice_api.http.delete(f"/api/messages/{other['id']}/previews", headers=alice_api.headers)
    assert rest.status_code == 200
    assert await previews_of(bob, other["id"]) == []


async def test_previews_off_fetches_nothing(tmp_path, site):
    settings = settings_for(tmp_path / "data", previews=False, preview_allow_hosts=["127.0.0.1"])
    async with running(settings) as server:
        _, alice = await api_and_socket(server, "alice")
        await alice.ok("topic:create", {"name": "general"})
        sent = await alice.ok("message:send", {"topic": "general", "body": f"see {site.at('/og-off')}"})
        assert sent["links"] == [site.at("/og-off")]
        assert server.chat.preview_worker is None
    assert site.hits["/og-off"] == 0


async def test_urls_queued_at_a_restart_are_fetched_after_it(tmp_path, site):
    """The server stops while the site holds the page: the job stays queued (its fetch claim is
    void) and the next start fetches it again and shows the preview."""
    settings = settings_for(tmp_path / "data", previews=True, preview_allow_hosts=["127.0.0.1"])
    async with running(settings) as server:
        _, alice = await api_and_socket(server, "alice")
        await alice.ok("topic:create", {"name": "general"})
        sent = await alice.ok("message:send", {"topic": "general", "body": f"held {site.at('/held')}"})
        await site.arrived.wait()  # the fetch is under way when the server stops
        assert await waiting(server) == 1
    site.release.set()
    async with running(settings) as server:
        login = {"username": "alice", "password": PASSWORD}
        api = Api(server, ok(await server.http.post("/api/auth/login", json=login))["token"])
        async with asyncio.timeout(20):
            while await waiting(server):
                await asyncio.sleep(0.05)
        history = ok(await api.get("/api/topics/general/messages"))
    assert [m["previews"][0]["title"] for m in history["messages"] if m["id"] == sent["id"]] == ["Held page"]
    assert site.hits["/held"] == 2


async def test_a_member_who_was_offline_gets_the_previews_with_the_backlog(live_server, site):
    _, alice, bob_api, bob = await general(live_server)
    await bob.close()
    sent = await alice.ok("message:send", {"topic": "general", "body": f"missed {site.at('/og-missed')}"})
    await previews_of(alice, sent["id"])

    again = await live_server.connect("bob", bob_api.headers["Authorization"].removeprefix("Bearer "))

    while (message := await again.next("message"))["id"] != sent["id"]:
        pass
    assert [p["title"] for p in message["previews"]] == ["Release notes /og-missed"]


async def test_a_direct_message_gets_previews_named_as_each_side_sees_it(live_server, site):
    _, alice = await api_and_socket(live_server, "alice")
    _, bob = await api_and_socket(live_server, "bob")

    sent = await alice.ok("message:send", {"to": "bob", "body": f"for you {site.at('/og-dm')}"})

    to_bob = await bob.next("message:previews")
    to_alice = await alice.next("message:previews")
    assert (to_bob["topic"], to_alice["topic"]) == ("@alice", "@bob")
    assert to_bob["id"] == to_alice["id"] == sent["id"]
    assert to_bob["previews"] == to_alice["previews"] and len(to_bob["previews"]) == 1
