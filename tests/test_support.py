"""The test support itself: a finished live server can be freed (tests/support.py)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from tests.support import forget_apps, running
from tests.support import test_settings as settings_for


async def test_a_finished_servers_chat_is_freed_once_fastapis_caches_forget_its_app(tmp_path: Path) -> None:
    # One test process hosts hundreds of apps: one kept alive by FastAPI's module-level caches
    # holds its chat service, engine and Socket.IO server, and pytest took 27 s to exit.
    async with running(settings_for(tmp_path / "data")) as server:
        assert (await server.http.get("/docs")).status_code == 200  # its endpoints were classified
        chat = weakref.ref(server.chat)
    del server
    forget_apps()
    gc.collect()
    assert chat() is None
