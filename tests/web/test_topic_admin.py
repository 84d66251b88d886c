"""An operator renames or deletes a topic someone has open: the page follows without a reload.

The operator service is called in process (``parley topic rename`` and ``delete`` call the
same one): it records ``TopicRenamed`` / ``TopicDeleted`` and the hub tells the members'
sockets, as for the command.
"""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.web.chat_page import ChatPage

pytestmark = pytest.mark.browser


async def test_a_renamed_topic_stays_open_under_its_new_name(new_page, live_server) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("ops")
    await alice.send("before the rename")

    await live_server.chat.topic_admin.rename("ops", "operations")

    await expect(alice.topic("operations")).to_be_visible()
    await expect(alice.topic("ops")).to_have_count(0)
    await expect(alice.by("current-topic")).to_have_text("operations")
    await expect(alice.topic("operations")).to_have_attribute("aria-current", "page")
    await expect(alice.message("before the rename")).to_be_visible()

    await alice.send("after the rename")
    page = await live_server.http.get(
        "/api/topics/operations/messages", headers={"Authorization": f"Bearer {await token(alice)}"}
    )
    assert page.status_code == 200, page.text
    assert [m["body"] for m in page.json()["messages"]] == ["before the rename", "after the rename"]
    assert await alice.evaluate("sessionStorage.getItem('parley.session.topic')") == "operations"

    await alice.page.reload()  # the page came back to the topic under its new name
    await alice.expect_open("operations")
    await expect(alice.message("after the rename")).to_be_visible()


async def test_a_deleted_topic_leaves_the_page_with_a_notice(new_page, live_server) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("keep")
    await alice.create_topic("ops")
    await alice.send("soon gone")

    await live_server.chat.topic_admin.delete("ops")

    await expect(alice.topic("ops")).to_have_count(0)
    await expect(alice.by("toast")).to_contain_text("#ops was deleted.")
    await expect(alice.by("current-topic")).to_have_text("Parley")  # nothing open, as after leaving
    await expect(alice.message("soon gone")).to_have_count(0)
    await expect(alice.topic("keep")).to_be_visible()
    await alice.open_topic("keep")
    await alice.send("still here")


async def token(chat_page: ChatPage) -> str:
    """The page's login token, as it keeps it in memory (section 19: the session is the cookie)."""
    value: str = await chat_page.test_hook("chat.env.creds.token")
    return value
