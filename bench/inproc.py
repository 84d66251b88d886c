"""The chat as the in-process benchmarks run it (``bench.sends``, ``bench.sessions``): no sockets.

A migrated database (SQLite in a temporary directory, or ``database``), the chat built and started
as the server builds it, stopped and disposed at the end.
"""

from __future__ import annotations

import pathlib
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from db.migrate import upgrade
from server.chat.service import Chat
from server.chat_factory import build_chat
from server.config import Settings


@asynccontextmanager
async def started_chat(database: str | None, serving: bool = False, **settings: Any) -> AsyncIterator[Chat]:
    """The started chat (``serving``: with a server's own parts, its workers); ``settings`` add to
    or replace the benchmarks' own."""
    extra = {"database_url": database} if database else {}
    chosen = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=pathlib.Path(tempfile.mkdtemp()),
        jwt_secret="x" * 40,
        bcrypt_rounds=4,
        **{**extra, **settings},
    )
    chat = build_chat(chosen, serving=serving)
    await upgrade(chat.db.engine)
    await chat.start()
    try:
        yield chat
    finally:
        await chat.stop()
        await chat.db.dispose()
