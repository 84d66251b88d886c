"""The workspace's ``Roles`` in the composition (PROTOCOL.md section 19): built by the rules'
assembly, a hub sink at ``SEND_PATH``, loaded at the start, ``chat.roles``; the first human
account owns the workspace (a bot never does), and a role change reaches every service's checks."""

from __future__ import annotations

import asyncio

import pytest

from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError
from server.chat.kernel.events import NewsMissed, RoleChanged
from server.chat.kernel.wiring import Stage
from server.chat.rules.authority import Standing
from server.chat.rules.workspace import Roles
from server.chat_factory import build_chat
from tests.holds import held_statements
from tests.support import PASSWORD, WAIT

PRIVILEGED = "SELECT users.id, users.role"  # Roles.load's read


async def test_roles_are_a_send_path_sink_loaded_at_the_start_and_shared(chat):
    assert isinstance(chat.roles, Roles)
    assert (Stage.SEND_PATH, chat.roles) in chat.wiring.sinks
    assert "workspace roles" in chat.wiring.parts
    assert chat.directory.roles is chat.roles
    assert chat.moderation.roles is chat.roles and chat.workspace_users.roles is chat.roles
    assert chat.hooks.roles is chat.roles and chat.webhooks.roles is chat.roles


async def test_the_first_human_account_owns_and_the_others_are_members(chat, sink):
    first = await chat.users.create("olive", PASSWORD)
    assert first.role == "owner"
    bot = await chat.bots.create_bot(Actor(first.id, first.username), "helper")
    second = await chat.users.create("mabel", PASSWORD)
    assert second.role == "member"
    assert sink.of(RoleChanged) == [RoleChanged(first.id, "owner")]
    assert chat.roles.of(first.id) == "owner" and chat.roles.of(second.id) == "member"
    async with chat.db.read() as repos:
        assert await repos.users.privileged() == {first.id: "owner"}
        stored_bot = await repos.users.by_name(bot.username)
    assert stored_bot is not None and stored_bot.role == "member"


async def test_a_bot_created_first_does_not_own_the_workspace(chat):
    olive = await chat.users.create("olive", PASSWORD)
    async with chat.db.write() as repos:
        await repos.users.set_role(olive.id, "member")  # as if nobody owned it yet
    bot = await chat.bots.create_bot(Actor(olive.id, olive.username), "helper")
    async with chat.db.read() as repos:
        stored = await repos.users.by_name(bot.username)
    assert stored is not None and stored.role == "member"
    assert (await chat.users.create("mabel", PASSWORD)).role == "owner"


async def test_a_node_started_later_reads_the_roles_and_news_missed_reads_them_again(chat, chat_settings):
    olive = await chat.users.create("olive", PASSWORD)
    other = build_chat(chat_settings)
    await other.start()
    try:
        assert other.roles.of(olive.id) == "owner"
        async with chat.db.write() as repos:  # a change whose event this node never heard
            await repos.users.set_role(olive.id, "admin")
        assert other.roles.of(olive.id) == "owner"
        await other.roles.deliver(NewsMissed())
        assert other.roles.of(olive.id) == "admin"
        await other.roles.deliver(RoleChanged(olive.id, "member"))
        assert other.roles.of(olive.id) == "member" and other.roles.owners() == 0
    finally:
        await other.stop()
        await other.db.dispose()


async def test_a_role_change_told_while_news_missed_reads_the_roles_again_stands(chat):
    """A demotion told while the roles are read again is at least as fresh as that read: an admin
    demoted meanwhile must not stay one on this node until the next missed news."""
    await chat.users.create("olive", PASSWORD)
    mabel = await chat.users.create("mabel", PASSWORD)
    await chat.workspace_users.set_role("mabel", "admin")
    async with held_statements(chat.db, PRIVILEGED) as held:
        missed = asyncio.ensure_future(chat.hub.tell_here(NewsMissed()))
        await held.wait()  # the read has begun: mabel is an admin in it
        await chat.workspace_users.set_role("mabel", "member")
        await held.release()
        await asyncio.wait_for(missed, WAIT)
    assert chat.roles.of(mabel.id) == "member"


def test_standing_is_raised_only_in_public_topics():
    roles = Roles(db=None)  # type: ignore[arg-type]
    roles.set(7, "admin")
    member = Standing()
    assert roles.standing(member, 7, "public").role == "admin"
    assert roles.standing(member, 7, "private") is member
    assert roles.standing(member, 8, "public") is member
    assert roles.acts_in(7, "public") and not roles.acts_in(7, "private") and not roles.acts_in(8, "public")
    muted = Standing(muted=True)
    assert roles.standing(muted, 7, "public").muted  # a mute stays


async def test_a_demotion_counts_at_once_for_a_moderation_action(chat, make_user):
    await make_user("olive")  # the owner
    mabel, _max = await make_user("mabel"), await make_user("max")
    await chat.workspace_users.set_role("mabel", "admin")
    await chat.moderation.mute(mabel, "lobby", "max", None)
    await chat.workspace_users.set_role("mabel", "member")
    with pytest.raises(ChatError) as refused:
        await chat.moderation.unmute(mabel, "lobby", "max")
    assert refused.value.code.value == "forbidden"
