"""The recovery service (server/chat/connections/recovery.py) called directly: pids, windows,
offsets, refreshes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from db.models import RecoverySession
from server.chat.connections.recovery import Granted, Recovery, RecoveryService, message_id
from server.chat.service import Chat
from tests.support import statements


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        ("42", 42),
        (42, 42),
        ("0", 0),
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),
        ("12abc", None),
        ("-1", None),
        (-1, None),
        ("", None),
        ("٣", None),  # a digit, not an ASCII one
        (True, None),
        (None, None),
        (1.5, None),
        ({"id": 1}, None),
    ],
)
def test_an_offset_names_a_message_id_or_nothing(offset: Any, expected: int | None):
    assert message_id(offset) == expected


async def user_id(chat: Chat, name: str) -> int:
    created = await chat.users.create(name, "password123")
    assert created.id is not None
    return created.id


async def seen_at_ago(chat: Chat, pid: str, seconds: float) -> None:
    async with chat.db.write() as repos:
        statement = update(RecoverySession).where(col(RecoverySession.pid) == pid)
        await repos.session.execute(statement.values(seen_at=datetime.now(UTC) - timedelta(seconds=seconds)))


async def pids(chat: Chat) -> set[str]:
    async with chat.db.read() as repos:
        return set((await repos.session.execute(select(col(RecoverySession.pid)))).scalars())


async def test_a_pid_is_resumed_by_its_own_user_within_the_window_only(chat: Chat):
    recovery: RecoveryService = chat.recovery
    alice, bob = await user_id(chat, "alice"), await user_id(chat, "bob")
    first = await recovery.grant(alice, Recovery())
    assert first is not None and first.after_id is None and len(first.pid) >= 16

    assert await recovery.grant(alice, Recovery(first.pid, "7")) == Granted(first.pid, 7)
    for asked in (Recovery(first.pid, "x"), Recovery(first.pid), Recovery("unknown", "7"), Recovery(7, "7")):
        fresh = await recovery.grant(alice, asked)
        assert fresh is not None and fresh.after_id is None and fresh.pid != first.pid
    stolen = await recovery.grant(bob, Recovery(first.pid, "7"))
    assert stolen is not None and stolen.pid != first.pid

    await seen_at_ago(chat, first.pid, recovery.window + 1)
    expired = await recovery.grant(alice, Recovery(first.pid, "7"))
    assert expired is not None and expired.pid != first.pid


async def test_a_refresh_marks_the_open_pids_in_one_statement_and_forgets_expired_ones(chat: Chat):
    recovery = chat.recovery
    alice = await user_id(chat, "alice")
    granted = [await recovery.grant(alice, Recovery()) for _ in range(3)]
    open_one, closed_one, old_one = (g.pid for g in granted if g is not None)
    recovery.opened(open_one)
    for pid in (open_one, closed_one):
        await seen_at_ago(chat, pid, recovery.window - 1)
    await seen_at_ago(chat, old_one, recovery.window + 1)

    with statements(chat.db) as seen:
        await recovery.refresh()
    assert sum(s.lstrip().upper().startswith("UPDATE") for s in seen) == 1
    assert await pids(chat) == {open_one, closed_one}
    await seen_at_ago(chat, closed_one, recovery.window + 1)
    await seen_at_ago(chat, open_one, recovery.window + 1)
    await recovery.refresh()  # the open one is seen again before the expired ones go
    assert await pids(chat) == {open_one}


async def test_closing_the_last_socket_of_a_pid_starts_its_window(chat: Chat):
    recovery = chat.recovery
    alice = await user_id(chat, "alice")
    granted = await recovery.grant(alice, Recovery())
    assert granted is not None
    recovery.opened(granted.pid)
    await seen_at_ago(chat, granted.pid, recovery.window + 1)
    await recovery.closed(granted.pid)
    await recovery.refresh()
    assert await pids(chat) == {granted.pid}
    resumed = await recovery.grant(alice, Recovery(granted.pid, "1"))
    assert resumed == Granted(granted.pid, 1)
