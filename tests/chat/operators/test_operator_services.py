"""The operator services called directly: which events each records, and what they refuse."""

from __future__ import annotations

import pytest

from db.reads import Credentials
from server.chat.accounts.schemas import LoginIn
from server.chat.accounts.users import KnownUsers
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.events import (
    MembershipChanged,
    SessionsRevoked,
    TopicDeleted,
    TopicRenamed,
    UserDeleted,
)
from tests.support import PASSWORD


async def test_enabling_an_active_user_closes_nothing_and_disabling_twice_revokes_once(chat, sink, make_user):
    alice = await make_user("alice")
    sink.clear()
    await chat.accounts.enable("alice")
    assert sink.of(SessionsRevoked) == []
    await chat.accounts.disable("alice")
    await chat.accounts.disable("alice")
    assert sink.of(SessionsRevoked) == [SessionsRevoked(alice.id)]
    with pytest.raises(ChatError) as refused:
        await chat.users.login(LoginIn(username="alice", password=PASSWORD))
    assert refused.value.code is ErrorCode.UNAUTHORIZED and "disabled" in refused.value.message
    await chat.accounts.enable("alice")
    assert (await chat.users.login(LoginIn(username="alice", password=PASSWORD))).token


async def test_deleting_a_user_records_the_leaves_the_revocation_and_the_name_to_forget(
    chat, sink, make_user
):
    alice = await make_user("alice")
    sink.clear()
    deleted = await chat.accounts.delete("alice")
    assert deleted.placeholder == f"[deleted {alice.id}]"
    assert sink.of(SessionsRevoked) == [SessionsRevoked(alice.id)]
    assert sink.of(UserDeleted) == [UserDeleted(alice.id, "alice")]
    assert [event.joined for event in sink.of(MembershipChanged)] == [False]  # the default lobby
    with pytest.raises(ChatError) as missing:
        await chat.users.issue_token(deleted.placeholder)
    assert missing.value.code is ErrorCode.NOT_FOUND


async def test_rename_and_delete_record_events_and_the_directory_forgets_the_old_name(chat, sink, make_user):
    alice = await make_user("alice")
    await chat.topics.create(alice, "ops")
    assert (await chat.directory.topic("ops")) is not None  # cached by name
    sink.clear()
    await chat.topic_admin.rename("OPS", "Operations")
    [renamed] = sink.of(TopicRenamed)
    assert (renamed.old_name, renamed.name) == ("ops", "Operations")
    assert await chat.directory.topic("ops") is None
    info = await chat.directory.topic("operations")
    assert info is not None and info.name == "Operations"
    await chat.topic_admin.delete("operations")
    assert [event.name for event in sink.of(TopicDeleted)] == ["Operations"]
    assert await chat.directory.topic("operations") is None
    with pytest.raises(ChatError) as protected:
        await chat.topic_admin.delete("lobby")
    assert protected.value.code is ErrorCode.FORBIDDEN


def test_the_token_cache_never_keeps_a_disabled_user():
    """So ``enable`` lets a connection in at once, before its event reaches a server (relay: ~1 s)."""
    known = KnownUsers(max_age=60)
    known.remember(Credentials(1, "alice", 5, active=False), known.generation())
    assert known.get(1) is None
    known.remember(Credentials(1, "alice", 5), known.generation())
    assert known.get(1) is not None
