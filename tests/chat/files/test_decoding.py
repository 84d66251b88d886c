"""The pictures' own worker (issue 52, ``server/chat/files/decoding.py``): decodes wait in a pool of
their own, so a login's bcrypt never queues behind them, and the memory a burst of decodes took goes
back to the operating system afterwards.

The pictures are the issue's 16-bit RGBA zeros, small enough to pass the budget (3000 x 3000: 36 MB
as Pillow's RGBA), so that each is really decoded; the server runs in this process.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from server.chat.files.decoding import decoded
from server.chat.files.images import inspect
from tests.chat.files.test_images import MiB, zeros_png
from tests.files_support import leftovers, upload
from tests.support import PASSWORD, polled, running
from tests.support import test_settings as make_settings

SIDE = 3000
BURST = 8


def resident() -> int:
    """This process's resident memory now, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def test_a_login_answers_while_a_burst_of_uploaded_pictures_waits_to_be_decoded(tmp_path: Path) -> None:
    picture = zeros_png(SIDE)
    async with running(make_settings(tmp_path)) as server:
        token = await server.register("uploader")
        await server.register("reader")
        uploads = [asyncio.create_task(upload(server, token, picture, f"{n}.png")) for n in range(BURST)]

        async def all_received() -> bool:  # every body is in: its decode is asked for next
            sizes = [path.stat().st_size for path in leftovers(server) if path.name.startswith("upload-")]
            return sizes.count(len(picture)) == BURST or any(task.done() for task in uploads)

        await polled(all_received, within=30)
        started = time.perf_counter()
        login = await server.http.post("/api/auth/login", json={"username": "reader", "password": PASSWORD})
        took = time.perf_counter() - started
        answered = sum(task.done() for task in uploads)
        responses = await asyncio.gather(*uploads)
    assert login.status_code == 200, login.text
    assert took < 2.0
    assert answered <= 1  # the login did not wait for the pictures (behind them: 3 of 8 at least)
    assert [response.json()["image"]["width"] for response in responses] == [SIDE] * BURST


async def test_the_memory_a_burst_of_decodes_took_goes_back(tmp_path: Path) -> None:
    path = tmp_path / "zeros.png"
    path.write_bytes(zeros_png(SIDE))
    await decoded(inspect, path, "image/png")  # the pool's thread and Pillow's decoders are made
    before = resident()
    pictures = await asyncio.gather(*(decoded(inspect, path, "image/png") for _ in range(4)))
    assert all(picture is not None and picture.width == SIDE for picture in pictures)
    assert resident() - before < 16 * MiB  # each decode held 36 MB
