"""The other member of a direct conversation is found one way (``access.peer_in``: the ids in
its stored name), so every answer about a conversation names the same user, even once that
user's account was deleted and only its placeholder is left."""

from __future__ import annotations

from server.chat.kernel.events import MessageEdited, ToUser
from server.chat.kernel.schemas import Target


async def test_an_edit_names_the_conversation_as_the_list_does_after_the_peer_was_deleted(
    chat, sink, make_user
):
    alice, bob = await make_user("alice"), await make_user("bob")
    sent = await chat.messages.send(alice, Target(user="bob"), "hello")
    deleted = await chat.accounts.delete("bob")
    sink.clear()

    edited = await chat.messages.edit(alice, sent.id, "hello?")

    [listed] = (await chat.topics.conversations(alice)).topics
    assert edited.topic == listed.name == f"@{deleted.placeholder}"
    events = sink.of(MessageEdited)
    assert [(event.message.topic, event.audience) for event in events] == [
        (f"@{deleted.placeholder}", ToUser(alice.id)),
        ("@alice", ToUser(bob.id)),  # the placeholder keeps the id; no socket of it is open
    ]
