"""Files through the web page (PROTOCOL.md section 11): attach an image and a text file, send, and
see the thumbnail (fetched with the token) and the download link in another browser context;
paste an image; the lightbox; the limit checked before uploading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.files_support import png
from tests.web.conftest import PHONE

pytestmark = pytest.mark.browser


async def test_an_image_and_a_text_file_reach_the_other_side(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await alice.register("alice")
    await alice.create_topic("general")
    await bob.register("bob")
    await bob.join("general")

    await alice.by("file-input").set_input_files(
        [
            {"name": "cat.png", "mimeType": "image/png", "buffer": png(640, 480)},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"the plan\n"},
        ]
    )
    chips = alice.by("attachment")
    await expect(chips).to_have_count(2)
    await expect(alice.page.locator('[data-testid="attachment"][data-status="done"]')).to_have_count(2)
    await alice.send("two files")

    message = bob.message("two files")
    thumb = message.get_by_test_id("file-thumbnail-img")
    await expect(thumb).to_have_attribute("src", lambda_blob())
    assert await thumb.evaluate("img => img.decode().then(() => img.naturalWidth)") == 320
    link = message.get_by_test_id("file-link")
    await expect(link.get_by_test_id("file-name")).to_have_text("notes.txt")
    async with bob.page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    assert download.suggested_filename == "notes.txt"
    assert (await download.path()).read_bytes() == b"the plan\n"

    await message.get_by_test_id("file-thumbnail").click()
    full = bob.by("lightbox-img")
    await expect(full).to_have_attribute("src", lambda_blob())
    assert await full.evaluate("img => img.decode().then(() => img.naturalWidth)") == 640
    await bob.page.keyboard.press("Escape")
    await expect(bob.by("lightbox")).to_have_count(0)
    await bob.screenshot()


async def test_a_pasted_image_is_uploaded_with_a_progress_bar_and_sent_without_text(new_page) -> None:
    alice = await new_page("alice", viewport=PHONE)
    bob = await new_page("bob")
    await alice.register("alice")
    await alice.create_topic("general")
    await bob.register("bob")
    await bob.join("general")

    await alice.by("composer").evaluate(
        """async (box) => {
            const canvas = document.createElement("canvas");
            canvas.width = 200; canvas.height = 100;
            canvas.getContext("2d").fillRect(0, 0, 200, 100);
            const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
            const data = new DataTransfer();
            data.items.add(new File([blob], "pasted.png", { type: "image/png" }));
            const init = { clipboardData: data, bubbles: true, cancelable: true };
            box.dispatchEvent(new ClipboardEvent("paste", init));
        }"""
    )
    await expect(alice.by("upload-progress")).to_have_count(1)
    await expect(alice.page.locator('[data-testid="attachment"][data-status="done"]')).to_have_count(1)
    await alice.by("composer").press("Enter")
    thumb = bob.page.locator('[data-testid="message"] [data-testid="file-thumbnail-img"]')
    await expect(thumb).to_have_count(1)
    await expect(thumb).to_have_attribute("src", lambda_blob())
    await expect(alice.by("attachments")).to_be_hidden()
    await alice.screenshot()


async def test_a_file_over_the_limit_is_refused_before_uploading(
    new_page, live_server, tmp_path: Path
) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("general")
    # A file on disk, which Chromium reads itself: 10 MB as a buffer cross the driver's pipe in
    # base64, which took more than the 10 s bound on a loaded machine.
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x00" * (10 * 1024 * 1024 + 1))
    await alice.by("file-input").set_input_files(big)
    await expect(alice.by("composer-error")).to_contain_text("big.bin is too large")
    await expect(alice.by("attachment")).to_have_count(0)
    await expect(alice.by("attach")).to_be_visible()


def lambda_blob() -> re.Pattern[str]:
    """An object URL: the bytes were fetched with the token, not by the <img> itself."""
    return re.compile(r"^blob:")
