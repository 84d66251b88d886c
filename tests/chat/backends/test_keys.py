"""Server keys (PROTOCOL.md section 17), called on the service: a key is shown once and stored
hashed, holds the default scopes unless others are chosen, gets a bot named after its label (slugged,
with a suffix on a clash), is refused once revoked, and is never a user's token."""

from __future__ import annotations

import pytest

from db.backends.repository import ServerKeyRepository
from server.chat.backends.keys import bot_name_of
from server.chat.backends.schemas import DEFAULT_SCOPES
from server.chat.kernel.errors import ChatError, ErrorCode


async def refused(call, code: ErrorCode) -> ChatError:  # type: ignore[no-untyped-def]
    with pytest.raises(ChatError) as caught:
        await call
    assert caught.value.code is code, caught.value
    return caught.value


async def test_a_key_is_shown_once_stored_hashed_and_checked(chat):
    made = await chat.server_keys.create("Billing backend")
    assert made.key.startswith("psk_") and made.label == "Billing backend"
    assert set(made.scopes) == DEFAULT_SCOPES and "as_user" not in made.scopes
    key = await chat.server_keys.check(made.key)
    assert (key.id, key.label, key.scopes) == (made.id, "Billing backend", DEFAULT_SCOPES)
    assert key.bot_name == "Billing-backend"
    async with chat.db.read() as repos:
        bot = await repos.users.by_name("Billing-backend")
        listed = await repos.of(ServerKeyRepository).listed()
    assert bot is not None and bot.bot and bot.id == key.bot_id
    assert [record.id for record in listed] == [made.id]
    assert made.key not in repr(listed)  # only its hash is kept
    shown = await chat.server_keys.list()
    assert [(k.id, k.label, k.bot) for k in shown.keys] == [(made.id, "Billing backend", "Billing-backend")]


async def test_scopes_are_checked_and_chosen(chat):
    made = await chat.server_keys.create("pub", ["publish", "as_user"])
    key = await chat.server_keys.check(made.key)
    chat.server_keys.require(key, "publish")
    chat.server_keys.require(key, "as_user")
    with pytest.raises(ChatError) as caught:
        chat.server_keys.require(key, "members")
    assert caught.value.code is ErrorCode.FORBIDDEN
    await refused(chat.server_keys.create("x", ["publish", "root"]), ErrorCode.INVALID)
    await refused(chat.server_keys.create("x", []), ErrorCode.INVALID)
    await refused(chat.server_keys.create(""), ErrorCode.INVALID)
    await refused(chat.server_keys.create("a" * 61), ErrorCode.INVALID)
    assert [k.label for k in (await chat.server_keys.list()).keys] == ["pub"]


async def test_a_label_that_is_no_username_is_slugged_and_a_clash_gets_a_suffix(chat, make_user):
    await make_user("shop")
    first = await chat.server_keys.create("shop")
    second = await chat.server_keys.create("shop")
    odd = await chat.server_keys.create("é!")
    names = [(await chat.server_keys.check(made.key)).bot_name for made in (first, second, odd)]
    assert names == ["shop-2", "shop-3", "key"]
    assert bot_name_of("a b/c") == "a-b-c" and bot_name_of("x" * 40, 2) == "x" * 30 + "-2"


async def test_a_missing_unknown_or_revoked_key_is_unauthorized(chat):
    made = await chat.server_keys.create("gone")
    await chat.server_keys.check(made.key)  # cached now: the revocation must forget it
    await chat.server_keys.revoke(made.id)
    for secret in ("", "psk_nope", made.key, "pb_whatever"):
        await refused(chat.server_keys.check(secret), ErrorCode.UNAUTHORIZED)
    await refused(chat.server_keys.revoke(made.id), ErrorCode.NOT_FOUND)
    assert (await chat.server_keys.list()).keys == []


async def test_a_key_is_not_a_user_token(chat):
    made = await chat.server_keys.create("not-a-user")
    await refused(chat.users.authenticate(made.key), ErrorCode.UNAUTHORIZED)


async def test_making_and_revoking_a_key_is_audited(chat):
    made = await chat.server_keys.create("audited", ["users"])
    await chat.server_keys.revoke(made.id)
    rows = (await chat.audit.newest(10)).entries
    found = [(row.action, row.target, row.actor) for row in rows if row.action.startswith("server_key.")]
    assert ("server_key.create", "audited", "cli") in found
    assert ("server_key.revoke", "audited", "cli") in found
