"""The Admin UI shows rooms by name: a room keeps the name last shown while its label is looked up
again (each stats tick forgets the labels, and a socket connecting meanwhile is described then)."""

from __future__ import annotations

import asyncio

from server.chat.kernel.ratelimit import per_window
from server.edge.engine.admin import AdminUI


class Names:
    """The Admin UI's ``room_names``: ``topic:1`` is the lobby; after the first call each lookup
    waits until ``release`` is set (a slow database), and says when it started (``asked``)."""

    def __init__(self) -> None:
        self.calls = 0
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, rooms: list[str]) -> dict[str, str]:
        self.calls += 1
        if self.calls > 1:
            self.asked.set()
            await self.release.wait()
        return {room: "topic:lobby" for room in rooms if room == "topic:1"}


def admin_ui(names: Names) -> AdminUI:
    # The labels need nothing of the server: it is only kept for the namespace's handlers.
    return AdminUI(
        None,  # type: ignore[arg-type]
        "admin",
        "a long enough admin password",
        failures=per_window(5, 60.0),
        client_address=lambda _environ: "127.0.0.1",
        room_names=names,
    )


async def test_a_room_keeps_its_name_while_the_tick_looks_it_up_again() -> None:
    names = Names()
    admin = admin_ui(names)
    await admin.relabel(["topic:1"])
    assert admin.label("topic:1") == "topic:lobby"

    tick = asyncio.ensure_future(admin.relabel(["topic:1"]))
    await names.asked.wait()  # the tick forgot the labels and waits for the names

    assert admin.label("topic:1") == "topic:lobby"  # a socket described now: by name, not by id
    names.release.set()
    await tick
    assert admin.label("topic:1") == "topic:lobby"
