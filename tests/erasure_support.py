"""What the erasure tests share (PROTOCOL.md section 16): the request, and a bounded wait for the
worker to finish a job (the database says when: the account's ``erased_at``)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import col

from db.models import ErasureJob, User
from tests.support import PASSWORD, LiveServer, bearer

FINISHED_WITHIN = 30.0  # seconds an erasure of a few dozen rows may take on a loaded machine


async def erase_me(server: LiveServer, token: str, password: str = PASSWORD) -> httpx.Response:
    """``DELETE /api/users/me`` with ``{"password"}``."""
    return await server.http.request(
        "DELETE", "/api/users/me", json={"password": password}, headers=bearer(token)
    )


async def erasure_state(server: LiveServer, user_id: int) -> tuple[bool, Any]:
    """(a job is pending, the account's ``erased_at``), read from the database."""
    async with server.chat.db.read() as repos:
        job = select(col(ErasureJob.user_id)).where(col(ErasureJob.user_id) == user_id)
        pending = (await repos.session.execute(job)).first() is not None
        when = select(col(User.erased_at)).where(col(User.id) == user_id)
        erased = (await repos.session.execute(when)).scalar_one()
    return pending, erased


async def user_id_of(server: LiveServer, username: str) -> int:
    async with server.chat.db.read() as repos:
        user = await repos.users.by_name(username)
    assert user is not None
    return user.id


async def until_erased(server: LiveServer, user_id: int, within: float = FINISHED_WITHIN) -> None:
    """Wait (bounded) until the worker marked the account erased and its job is gone."""
    async with asyncio.timeout(within):
        while True:
            pending, erased = await erasure_state(server, user_id)
            if erased is not None and not pending:
                return
            await asyncio.sleep(0.05)
