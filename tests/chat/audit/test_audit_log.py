"""The audit log (PROTOCOL.md section 16) through the chat services, on SQLite and PostgreSQL:
every moderation action, every change of a bot, hook or webhook and every operator change writes
exactly one row naming who, what, on what and where, in the action's own transaction; an action
that fails (or changes nothing) writes none."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from server.chat.audit.schemas import AuditEntryOut
from server.chat.integrations.schemas import WebhookIn
from server.chat.kernel.actors import CLI, Actor, Doer, admin_ui
from server.chat.kernel.errors import ChatError
from server.chat.kernel.facts import Acted
from server.chat.kernel.schemas import Target
from server.chat.service import Chat
from server.config import Settings
from tests.databases import fresh_postgres_database, postgres_url
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases
MakeUser = Callable[[str], Awaitable[Actor]]


@pytest.fixture
async def chat_settings(tmp_path: Path, database: str) -> AsyncIterator[Settings]:
    """The chat on a fresh SQLite file or PostgreSQL database; webhooks may name 127.0.0.1."""
    extra: dict[str, Any] = {"webhook_allow_hosts": ["127.0.0.1"]}
    if database == "postgres":
        async with fresh_postgres_database(postgres_url(), migrated=True) as url:
            yield settings_for(tmp_path / "data", database_url=url, **extra)
    else:
        yield settings_for(tmp_path / "data", **extra)


class Log:
    """The rows written since the last look, oldest first."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.seen = 0

    async def new(self) -> list[AuditEntryOut]:
        entries = [e for e in (await self.chat.audit.newest(1000)).entries if e.id > self.seen]
        self.seen = max([self.seen, *(e.id for e in entries)])
        return entries[::-1]

    async def one(self) -> AuditEntryOut:
        """The one row the last action wrote (exactly one)."""
        entries = await self.new()
        assert len(entries) == 1, [(e.action, e.target) for e in entries]
        return entries[0]

    async def none(self) -> None:
        assert await self.new() == []


def row(entry: AuditEntryOut) -> tuple[str, int | None, str, str | None, str | None]:
    return (entry.actor, entry.actor_id, entry.action, entry.target, entry.topic)


@pytest.fixture
async def log(chat: Chat) -> Log:
    return Log(chat)


@pytest.fixture
async def plaza(chat: Chat, make_user: MakeUser, log: Log) -> dict[str, Actor]:
    """owner made ``plaza``; mod is its moderator, member and other are members."""
    people = {name: await make_user(name) for name in ("owner", "mod", "member", "other")}
    await chat.topics.create(people["owner"], "plaza")
    for name in ("mod", "member", "other"):
        await chat.topics.subscribe(people[name], "plaza")
    await chat.moderation.role(people["owner"], "plaza", "mod", "moderator")
    await log.new()  # the set-up's rows (the role) are not the test's
    return people


async def test_each_moderation_action_writes_one_row_naming_actor_action_target_and_topic(
    chat: Chat, plaza: dict[str, Actor], log: Log
) -> None:
    owner, mod = plaza["owner"], plaza["mod"]
    await chat.moderation.role(owner, "plaza", "member", "moderator")
    entry = await log.one()
    assert row(entry) == ("owner", owner.id, "topic.role", "member", "plaza")
    assert entry.details == {"role": "moderator", "was": "member"}
    await chat.moderation.role(owner, "plaza", "member", "member")
    await log.one()

    await chat.moderation.mute(mod, "plaza", "member", 5)
    entry = await log.one()
    assert row(entry) == ("mod", mod.id, "topic.mute", "member", "plaza") and "until" in entry.details
    await chat.moderation.unmute(mod, "plaza", "member")
    assert row(await log.one()) == ("mod", mod.id, "topic.unmute", "member", "plaza")

    await chat.moderation.kick(mod, "plaza", "member", "spam")
    entry = await log.one()
    assert row(entry) == ("mod", mod.id, "topic.kick", "member", "plaza")
    assert entry.details == {"reason": "spam"}

    await chat.moderation.ban(mod, "plaza", "other", "again", None)
    entry = await log.one()
    assert row(entry) == ("mod", mod.id, "topic.ban", "other", "plaza")
    assert entry.details == {"reason": "again"}
    await chat.moderation.unban(mod, "plaza", "other")
    assert row(await log.one()) == ("mod", mod.id, "topic.unban", "other", "plaza")

    await chat.moderation.archive(owner, "plaza")
    assert row(await log.one()) == ("owner", owner.id, "topic.archive", None, "plaza")
    await chat.moderation.unarchive(owner, "plaza")
    assert row(await log.one()) == ("owner", owner.id, "topic.unarchive", None, "plaza")

    await chat.moderation.update(owner, "plaza", "square", "where people meet")
    entry = await log.one()
    assert row(entry) == ("owner", owner.id, "topic.update", None, "plaza")  # the name it had
    assert entry.details == {"name": "square", "description": "where people meet"}
    assert entry.at.endswith("Z") or "+00:00" in entry.at


async def test_a_refused_or_empty_action_writes_no_row(chat: Chat, plaza: dict[str, Actor], log: Log) -> None:
    owner, mod, member = plaza["owner"], plaza["mod"], plaza["member"]
    attempts = [
        chat.moderation.kick(member, "plaza", "owner", None),  # forbidden: a lower rank
        chat.moderation.kick(mod, "plaza", "owner", None),
        chat.moderation.ban(mod, "plaza", "nobody-here", None, None),  # no such user
        chat.moderation.role(mod, "plaza", "member", "admin"),
        chat.moderation.archive(mod, "plaza"),
        chat.moderation.update(owner, "plaza", "owner", None),  # a user's name: conflict
    ]
    for attempt in attempts:
        with pytest.raises(ChatError):
            await attempt
    await chat.moderation.unban(mod, "plaza", "member")  # not banned: nothing to lift
    await chat.moderation.unmute(mod, "plaza", "member")  # not muted
    await chat.moderation.role(owner, "plaza", "member", "member")  # the role it has
    await chat.moderation.unarchive(owner, "plaza")  # not archived
    await log.none()


async def test_a_moderators_deletion_is_audited_and_a_senders_own_is_not(
    chat: Chat, plaza: dict[str, Actor], log: Log
) -> None:
    mod, member = plaza["mod"], plaza["member"]
    own = await chat.messages.send(member, Target(topic="plaza"), "mine")
    await chat.messages.delete(member, own.id)
    await log.none()
    other = await chat.messages.send(member, Target(topic="plaza"), "rude")
    await chat.messages.delete(mod, other.id)
    entry = await log.one()
    assert row(entry) == ("mod", mod.id, "message.delete", str(other.id), "plaza")
    assert entry.details == {"sender": "member", "seq": other.seq}
    third = await chat.messages.send(mod, Target(topic="plaza"), "a moderator's")
    with pytest.raises(ChatError):
        await chat.messages.delete(member, third.id)  # forbidden
    await log.none()


async def test_a_report_is_audited_without_its_text_and_its_resolution_names_the_operator(
    chat: Chat, plaza: dict[str, Actor], log: Log
) -> None:
    member, other = plaza["member"], plaza["other"]
    sent = await chat.messages.send(member, Target(topic="plaza"), "rude")
    await chat.reports.report(other, sent.id, "a secret reason")
    entry = await log.one()
    assert row(entry) == ("other", other.id, "message.report", str(sent.id), None)
    assert "a secret reason" not in entry.model_dump_json()
    assert await chat.messages.remove(sent.id, by=admin_ui("admin"))
    entry = await log.one()
    assert row(entry) == ("admin-ui:admin", None, "message.remove", str(sent.id), "plaza")
    assert not await chat.messages.remove(sent.id)  # deleted already: no change, no row
    await log.none()
    await chat.accounts.disable("member", by=admin_ui("admin"))
    assert row(await log.one()) == ("admin-ui:admin", None, "user.disable", "member", None)


async def test_bots_tokens_hooks_and_webhooks_are_audited_without_their_secrets(
    chat: Chat, plaza: dict[str, Actor], log: Log
) -> None:
    owner = plaza["owner"]
    await chat.bots.create(owner, "helper")
    entry = await log.one()
    assert row(entry) == ("owner", owner.id, "bot.create", "helper", None)
    assert entry.details == {"owner": "owner"}
    made = await chat.bots.create_token(owner, "helper", "ci")
    entry = await log.one()
    assert row(entry) == ("owner", owner.id, "bot.token.create", "helper", None)
    assert entry.details == {"token_id": made.id, "label": "ci"}
    await chat.bots.revoke_token(owner, "helper", made.id)
    assert row(await log.one()) == ("owner", owner.id, "bot.token.revoke", "helper", None)
    with pytest.raises(ChatError):
        await chat.bots.revoke_token(owner, "helper", made.id)  # revoked already: not_found
    await log.none()

    hook = await chat.hooks.create(owner, "plaza", "helper")
    entry = await log.one()
    assert row(entry) == ("owner", owner.id, "hook.create", hook.id, "plaza")
    assert entry.details == {"bot": "helper"}
    await chat.hooks.revoke(owner, "plaza", hook.id)
    assert row(await log.one()) == ("owner", owner.id, "hook.revoke", hook.id, "plaza")

    data = WebhookIn(url="http://127.0.0.1:9/in", events=["message"], secret="s3cret-value")
    created = await chat.webhooks.register(owner, "plaza", data)
    bot, webhook = await log.new()  # its bot, made for it, then the webhook
    assert row(bot) == ("owner", owner.id, "bot.create", "plaza-webhook", None)
    assert row(webhook) == ("owner", owner.id, "webhook.create", created.id, "plaza")
    assert webhook.details == {"url": "http://127.0.0.1:9/in", "events": ["message"], "bot": "plaza-webhook"}
    await chat.webhooks.remove(owner, "PLAZA", created.id)  # the stored name is kept, not the typed one
    assert row(await log.one()) == ("owner", owner.id, "webhook.remove", created.id, "plaza")
    await chat.bots.disable(owner, "helper")
    assert row(await log.one()) == ("owner", owner.id, "bot.disable", "helper", None)
    assert "s3cret-value" not in str(await chat.audit.newest())
    with pytest.raises(ChatError):
        await chat.hooks.create(plaza["member"], "plaza")  # only owners and admins
    await log.none()


async def test_operator_commands_are_audited_as_the_command_line(
    chat: Chat, plaza: dict[str, Actor], log: Log
) -> None:
    await chat.users.create("newbie", "password123", by=CLI)
    assert row(await log.one()) == ("cli", None, "user.create", "newbie", None)
    await chat.accounts.disable("newbie")
    assert row(await log.one()) == ("cli", None, "user.disable", "newbie", None)
    await chat.accounts.disable("newbie")  # disabled already: nothing changed
    await log.none()
    await chat.accounts.enable("newbie")
    assert row(await log.one()) == ("cli", None, "user.enable", "newbie", None)
    await chat.accounts.set_password("newbie", "another-password")
    entry = await log.one()
    assert row(entry) == ("cli", None, "user.set_password", "newbie", None) and entry.details == {}
    await chat.accounts.delete("newbie")
    entry = await log.one()
    assert row(entry) == ("cli", None, "user.delete", "newbie", None)
    assert entry.details["placeholder"].startswith("[deleted ")
    await chat.topic_admin.rename("plaza", "forum")
    entry = await log.one()
    assert row(entry) == ("cli", None, "topic.rename", None, "plaza") and entry.details == {"name": "forum"}
    await chat.topic_admin.delete("forum")
    entry = await log.one()
    assert row(entry) == ("cli", None, "topic.delete", None, "forum") and entry.details["members"] == 4
    await chat.search.reindex()
    assert row(await log.one()) == ("cli", None, "search.reindex", None, None)
    for refused in (
        chat.accounts.disable("ghost"),
        chat.topic_admin.rename("nowhere", "elsewhere"),
        chat.topic_admin.delete("lobby"),  # a default topic: forbidden
        chat.users.create("owner", "password123", by=CLI),  # taken: conflict
    ):
        with pytest.raises(ChatError):
            await refused
    await log.none()


async def test_a_fact_noted_in_a_transaction_that_fails_leaves_no_row(chat: Chat, log: Log) -> None:
    with pytest.raises(RuntimeError):
        async with chat.db.write() as repos:
            repos.note(Acted(Doer(None, "cli"), "topic.delete", None, "plaza"))
            raise RuntimeError("the action failed after noting it")
    await log.none()
    await chat.audit.record(admin_ui("admin"), "admin.login", details={"via": "page"})
    assert row(await log.one()) == ("admin-ui:admin", None, "admin.login", None, None)


async def test_the_listing_filters_by_actor_action_and_time_newest_first(
    chat: Chat, plaza: dict[str, Actor]
) -> None:
    owner = plaza["owner"]
    await chat.moderation.kick(owner, "plaza", "member", None)
    await chat.moderation.kick(owner, "plaza", "other", None)
    await chat.accounts.disable("mod")
    everything = (await chat.audit.newest()).entries
    assert [e.action for e in everything[:3]] == ["user.disable", "topic.kick", "topic.kick"]
    assert [e.target for e in (await chat.audit.newest(actor="OWNER", action="topic.kick")).entries] == [
        "other",
        "member",
    ]
    assert [e.target for e in (await chat.audit.newest(actor="cli")).entries] == ["mod"]
    assert len((await chat.audit.newest(limit=1)).entries) == 1
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert (await chat.audit.newest(since=later)).entries == []


async def test_the_row_and_the_action_commit_together_or_not_at_all(
    chat: Chat, plaza: dict[str, Actor], log: Log
) -> None:
    """A commit that fails after the audit row was written (a later handler refusing it) takes the
    kick with it: the member is still in the topic and the log holds nothing."""

    async def refuse_kicks(_repos: Any, recorded: Any) -> None:
        if any(isinstance(fact, Acted) and fact.action == "topic.kick" for fact in recorded):
            raise RuntimeError("the commit failed")

    chat.db.before_commit.append(refuse_kicks)
    try:
        with pytest.raises(RuntimeError):
            await chat.moderation.kick(plaza["mod"], "plaza", "member", None)
    finally:
        chat.db.before_commit.remove(refuse_kicks)
    await log.none()
    async with chat.db.read() as repos:
        topic = await repos.topics.by_name("plaza")
        assert topic is not None
        assert await repos.memberships.get(topic.id, plaza["member"].id) is not None
    await chat.moderation.kick(plaza["mod"], "plaza", "member", None)
    assert row(await log.one()) == ("mod", plaza["mod"].id, "topic.kick", "member", "plaza")


async def test_an_erasure_is_audited_by_whoever_asked_and_a_wrong_password_writes_none(
    chat: Chat, plaza: dict[str, Actor], log: Log
) -> None:
    """``user.erase``: the user's own request names the user, the operator's the command line; the
    name is the one before (the row outlives the account, as the log's retention says)."""
    member = plaza["member"]
    await chat.messages.send(member, Target(topic="plaza"), "something to erase")
    await log.new()
    with pytest.raises(ChatError):
        await chat.erasure.erase_me(member, "not the password")
    await log.none()
    await chat.erasure.erase_me(member, "password123")
    entry = await log.one()
    assert row(entry) == ("member", member.id, "user.erase", "member", None)
    assert entry.details == {"messages": 1, "memberships_removed": 2, "bots_disabled": 0}

    await chat.erasure.erase("other")
    entry = await log.one()
    assert row(entry) == ("cli", None, "user.erase", "other", None)
