"""Group commit: concurrent sends share transactions, and each still gets its own outcome."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from db.models import Mention, Message
from db.records import Extras
from db.send_rows import RowKind
from db.sends import WITH_ROWS, NewMessage, Stored
from db.sends_sqlite import SqliteSendStore
from server.chat.conversations.writer import Destination, Pending
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.places import Place
from server.chat.kernel.schemas import Target

LOBBY = Target(topic="lobby")


async def stored(chat, topic_id: int) -> list[Message]:
    async with chat.db.read() as repos:
        result = await repos.session.execute(
            select(Message).where(Message.topic_id == topic_id).order_by(Message.seq)
        )
        return list(result.scalars())


def resolved(place: Place):
    async def resolve() -> Destination:
        return Destination(place)

    return resolve


def traced(store: SqliteSendStore, rows: list[NewMessage]) -> tuple[list[object], list[str]]:
    """Store one batch on the store's own connection (then closed): its outcomes, and every
    statement SQLite ran for it."""
    statements: list[str] = []
    store._connection().set_trace_callback(statements.append)
    try:
        return list(store._store(rows)), statements
    finally:
        store._close()


async def lobby_id(chat) -> int:
    topic = await chat.directory.topic("lobby")
    assert topic is not None
    return topic.topic_id


async def test_concurrent_sends_share_transactions_and_take_gapless_seqs_in_order(chat, make_user):
    users = [await make_user(f"user{i}") for i in range(5)]
    await chat.messages.send(users[0], LOBBY, "warm-up")  # the directory now knows the topic
    batches = chat.messages.writer.batches

    sent = await asyncio.gather(
        *(chat.messages.send(users[i % 5], LOBBY, f"m{i}", f"c{i}") for i in range(200))
    )

    assert chat.messages.writer.batches - batches < 200  # group commit: fewer transactions than sends
    rows = await stored(chat, await lobby_id(chat))
    assert [m.seq for m in rows] == list(range(1, 202))
    assert sorted(m.seq for m in sent) == list(range(2, 202))
    assert {(m.id, m.seq, m.body) for m in sent} == {(r.id, r.seq, r.body) for r in rows[1:]}
    # Each sender's own sends keep their submission order.
    by_body = {m.body: m.seq for m in sent}
    for i in range(5, 200):
        assert by_body[f"m{i}"] > by_body[f"m{i - 5}"]


async def test_a_client_id_repeated_inside_one_batch_stores_one_message(chat, make_user):
    alice = await make_user("alice")
    await chat.messages.send(alice, LOBBY, "warm-up")

    first, again, other = await asyncio.gather(
        chat.messages.send(alice, LOBBY, "once", "same"),
        chat.messages.send(alice, LOBBY, "once", "same"),
        chat.messages.send(alice, LOBBY, "another", "different"),
    )

    assert first == again
    assert other.id != first.id
    bodies = Counter(m.body for m in await stored(chat, await lobby_id(chat)))
    assert bodies == {"warm-up": 1, "once": 1, "another": 1}


async def test_a_client_id_stored_in_an_earlier_batch_returns_the_original(chat, make_user):
    alice = await make_user("alice")
    original = await chat.messages.send(alice, LOBBY, "hello", "c-1")

    again = await chat.messages.send(alice, LOBBY, "hello again", "c-1")

    assert again == original
    assert [m.body for m in await stored(chat, await lobby_id(chat))] == ["hello"]


async def test_a_send_the_database_refuses_fails_alone_and_its_batch_is_stored(chat, make_user):
    alice = await make_user("alice")
    topic_id = await lobby_id(chat)
    ghost = Actor(id=999_999, username="ghost")  # no such user: the foreign key refuses the row
    place = Place(topic_id, "lobby", "public")

    results = await asyncio.gather(
        *(chat.messages.writer.submit(alice, resolved(place), f"m{i}", None) for i in range(5)),
        chat.messages.writer.submit(ghost, resolved(place), "refused", None),
        *(chat.messages.writer.submit(alice, resolved(place), f"m{i}", None) for i in range(5, 10)),
        return_exceptions=True,
    )

    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1 and results[5] is failures[0]
    rows = await stored(chat, topic_id)
    assert [m.body for m in rows] == [f"m{i}" for i in range(10)]
    assert [m.seq for m in rows] == list(range(1, 11))


async def test_a_non_member_in_a_burst_is_refused_and_the_others_are_stored(chat, make_user):
    alice, mallory = await make_user("alice"), await make_user("mallory")
    await chat.topics.create(alice, "secret", private=True)

    results = await asyncio.gather(
        *(chat.messages.send(alice, Target(topic="secret"), f"m{i}") for i in range(10)),
        chat.messages.send(mallory, Target(topic="secret"), "let me in"),
        return_exceptions=True,
    )

    assert isinstance(results[10], ChatError) and results[10].code is ErrorCode.NOT_FOUND
    assert sorted(r.seq for r in results[:10] if not isinstance(r, BaseException)) == list(range(1, 11))


async def test_membership_changes_reach_the_send_path_at_once(chat, make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    await chat.topics.create(alice, "general")
    await chat.messages.send(alice, Target(topic="general"), "hi")  # members of general now cached

    await chat.topics.subscribe(bob, "general")
    assert (await chat.messages.send(bob, Target(topic="general"), "joined")).seq == 2

    await chat.topics.unsubscribe(bob, "general")
    with pytest.raises(ChatError) as refused:
        await chat.messages.send(bob, Target(topic="general"), "still here?")
    assert refused.value.code is ErrorCode.FORBIDDEN


async def test_one_senders_burst_is_stored_in_the_order_it_was_sent_even_when_nothing_is_cached(
    chat, make_user
):
    alice = await make_user("alice")
    await chat.topics.create(alice, "fresh")  # the directory has not looked this topic up yet

    sent = await asyncio.gather(
        *(chat.messages.send(alice, Target(topic="fresh"), f"m{i}") for i in range(50))
    )

    assert [m.seq for m in sent] == list(range(1, 51))


async def test_a_batch_is_inserted_in_few_statements_and_each_row_keeps_its_place(chat, make_user):
    """db/sends.py inserts a batch's rows with one multi-row INSERT per run of plain (or of
    conversation) rows, as many per statement as SQLite's variable limit allows; the ids still
    follow the batch order, each row gets the seq it was given and its mention rows."""
    alice, bob = await make_user("alice"), await make_user("bob")
    lobby = await lobby_id(chat)
    await chat.topics.create(alice, "other")
    found = await chat.directory.topic("other")
    assert found is not None
    other = found.topic_id
    store = SqliteSendStore(chat.db.engine.url.database)
    connection = store._connection()
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 40)  # 6 plain or 2 conversation rows each
    mention = Extras(mentions=("bob",))
    now = datetime.now(UTC)
    kinds = ["plain"] * 7 + ["mention"] * 3 + ["plain"] * 5 + ["mention"] + ["plain"] * 4
    rows = [
        NewMessage(
            topic_id=lobby if i % 2 else other,
            sender_id=alice.id,
            body=f"@bob word{i}" if kind == "mention" else f"word{i}",
            client_id=f"c{i}",
            created_at=now,
            **({"extras": mention, "mentioned": (bob.id,)} if kind == "mention" else {}),
        )
        for i, kind in enumerate(kinds)
    ]
    outcomes, statements = traced(store, rows)

    # (the trace repeats a statement each time it fires a trigger: counted once)
    inserts = {s for s in statements if s.startswith("INSERT INTO messages ")}
    assert len(inserts) == 2 + 2 + 1 + 1 + 1  # runs of 7, 3, 5, 1 and 4 rows

    assert all(isinstance(outcome, Stored) for outcome in outcomes)
    ids = [outcome.id for outcome in outcomes]
    assert ids == sorted(ids) and len(set(ids)) == len(rows)  # batch order
    for topic_id in (lobby, other):
        messages = await stored(chat, topic_id)
        mine = [(o.id, o.seq, r.body) for o, r in zip(outcomes, rows, strict=True) if r.topic_id == topic_id]
        assert [(m.id, m.seq, m.body) for m in messages][-len(mine) :] == mine
        assert [seq for _, seq, _ in mine] == list(range(mine[0][1], mine[0][1] + len(mine)))
    async with chat.db.read() as repos:
        mentioned = await repos.session.execute(select(Mention.message_id).where(Mention.user_id == bob.id))
    mentioning = [o.id for o, kind in zip(outcomes, kinds, strict=True) if kind == "mention"]
    assert sorted(mentioned.scalars()) == mentioning


async def test_linked_rows_share_the_plain_rows_statement_and_each_keeps_its_links(chat, make_user):
    """A message whose only extra is its links (PROTOCOL.md section 13) is inserted with the plain
    columns and ``links``, in the same statement as the plain rows around it (their links NULL):
    a run of plain and linked rows is one INSERT, a conversation row starts another."""
    alice, bob = await make_user("alice"), await make_user("bob")
    lobby = await lobby_id(chat)
    store = SqliteSendStore(chat.db.engine.url.database)
    now = datetime.now(UTC)
    kinds = ["plain", "linked", "plain", "linked", "mention", "plain"]
    rows = []
    for i, kind in enumerate(kinds):
        extras: dict[str, object] = {}
        if kind == "linked":
            extras = {"extras": Extras(links=(f"https://example.com/{i}",))}
        elif kind == "mention":
            extras = {"extras": Extras(mentions=("bob",)), "mentioned": (bob.id,)}
        rows.append(NewMessage(lobby, alice.id, f"m{i}", f"c{i}", now, **extras))  # type: ignore[arg-type]
    assert [row.shape for row in rows] == [0, 1, 0, 1, 2, 0]

    outcomes, statements = traced(store, rows)

    inserts = [s for s in dict.fromkeys(statements) if s.startswith("INSERT INTO messages ")]
    assert len(inserts) == 3  # plain and linked, the mention, the last plain one
    assert "links" in inserts[0] and "mentions" not in inserts[0]
    assert "links" not in inserts[2]
    messages = {m.id: m for m in await stored(chat, lobby)}
    links = [messages[o.id].links for o in outcomes]  # type: ignore[union-attr]
    assert links == [None, '["https://example.com/1"]', None, '["https://example.com/3"]', None, None]
    assert messages[outcomes[4].id].mentions == '["bob"]'  # type: ignore[union-attr]


async def test_the_seqs_of_a_batchs_topics_are_taken_in_few_statements_each_following_its_topic(
    chat, make_user
):
    """db/sends.py bumps ``last_seq`` of every topic of a batch with one ``UPDATE ... FROM (VALUES
    ...)`` per chunk the variable limit allows (two variables a topic), not one statement a topic,
    and reads the new ``last_seq`` values back as one row; each topic's new messages still take
    the seqs right after its last, in batch order, and each outcome is its own row's id."""
    alice = await make_user("alice")
    names = [f"room{i}" for i in range(7)]
    topic_ids = []
    for name in names:
        await chat.topics.create(alice, name)
        await chat.messages.send(alice, Target(topic=name), "first")  # each topic is at seq 1
        found = await chat.directory.topic(name)
        assert found is not None
        topic_ids.append(found.topic_id)
    store = SqliteSendStore(chat.db.engine.url.database)
    connection = store._connection()
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 12)  # 6 topics a statement (2 rows an insert)
    now = datetime.now(UTC)
    rows = [
        NewMessage(
            topic_id=topic_ids[i % 7], sender_id=alice.id, body=f"m{i}", client_id=None, created_at=now
        )
        for i in range(14)
    ]
    outcomes, statements = traced(store, rows)

    assert len([s for s in statements if s.startswith("UPDATE topics")]) == 2  # 7 topics, 6 a statement
    assert all(isinstance(outcome, Stored) for outcome in outcomes)
    by_body = {}
    for index, topic_id in enumerate(topic_ids):
        messages = await stored(chat, topic_id)
        assert [(m.seq, m.body) for m in messages] == [(1, "first"), (2, f"m{index}"), (3, f"m{index + 7}")]
        by_body.update({m.body: (m.id, m.seq) for m in messages})
    assert [(o.id, o.seq) for o in outcomes] == [by_body[row.body] for row in rows]


async def conversation_columns(chat, message_id: int) -> tuple[Message, tuple[object, ...]]:
    """The stored row and its conversation columns, in ``NewMessage.columns`` order."""
    async with chat.db.read() as repos:
        row = (await repos.session.execute(select(Message).where(Message.id == message_id))).scalar_one()
    columns = (row.reply_to_id, row.reply_to, row.thread_root_id, row.mentions, row.mentions_all)
    return row, (*columns, row.type, row.system, row.bot, row.files, row.links)


@pytest.mark.both_databases
async def test_a_plain_message_stores_what_the_full_statement_would_write(live_server) -> None:
    """PostgreSQL stores a batch of plain messages with a statement of six columns (the table's
    defaults fill the rest): the row must be what the statement with every column writes for a plain
    message (``NewMessage.columns``), on both databases."""
    chat = live_server.chat
    alice = await chat.users.authenticate(await live_server.register("alice"))
    sent = await chat.messages.send(alice, LOBBY, "plain", "c-plain")
    row, written = await conversation_columns(chat, sent.id)
    full = NewMessage(row.topic_id, alice.id, "plain", "c-plain", datetime.now(UTC)).columns()
    assert written == full


@pytest.mark.both_databases
async def test_a_linked_message_stores_what_the_full_statement_would_write(live_server) -> None:
    """A message with links and nothing else goes through the statement of the plain columns and
    ``links``: its row must be what the statement with every column writes, on both databases."""
    chat = live_server.chat
    alice = await chat.users.authenticate(await live_server.register("alice"))
    body = "see https://example.com/notes"
    sent = await chat.messages.send(alice, LOBBY, body, "c-linked")
    assert sent.links == ["https://example.com/notes"]
    row, written = await conversation_columns(chat, sent.id)
    extras = Extras(links=("https://example.com/notes",))
    full = NewMessage(row.topic_id, alice.id, body, "c-linked", datetime.now(UTC), extras).columns()
    assert written == full


@dataclass(frozen=True)
class Note:
    """A kind of row a test hook writes with a message (a mention row, under another name)."""

    message_id: int
    user_id: int
    topic_id: int
    seq: int


NOTE = RowKind(
    "INSERT INTO mentions (message_id, user_id, topic_id, seq) VALUES ({0}, {1}, {2}, {3})",
    lambda note: (note.message_id, note.user_id, note.topic_id, note.seq),
)


class NoteHook:
    """Writes a mention row for ``reader`` with every message; with ``boom`` it writes the row
    twice, so the second insert fails after the first was written."""

    def __init__(self, reader: int) -> None:
        self.reader = reader
        self.commits = 0

    def rows(self, pending: Pending):
        topic_id = pending.destination.place.topic_id  # type: ignore[union-attr]
        copies = 2 if pending.body == "boom" else 1

        def made(stored: Stored) -> list[Note]:
            return [Note(stored.id, self.reader, topic_id, stored.seq)] * copies

        return made

    def committed(self) -> None:
        self.commits += 1


@pytest.mark.both_databases
async def test_a_send_hooks_rows_are_written_in_the_batchs_transaction_and_none_of_a_failed_message(
    live_server, monkeypatch
) -> None:
    """A send hook (``SendHook``) gives rows of a kind the store knows (``WITH_ROWS``): each
    stored message writes its rows in its batch's transaction, and a message that fails (here: its
    second row repeats its first) leaves no row at all, not even the one inserted before the
    failure; the other sends of its batch are stored with their rows once."""
    monkeypatch.setitem(WITH_ROWS, Note, NOTE)
    chat = live_server.chat
    alice = await chat.users.authenticate(await live_server.register("alice"))
    bob = await chat.users.authenticate(await live_server.register("bob"))
    await chat.messages.send(alice, LOBBY, "warm-up")  # the directory now knows the topic
    hook = NoteHook(bob.id)
    chat.messages.writer.hooks = (hook,)
    batches = chat.messages.writer.batches

    results = await asyncio.gather(
        *(chat.messages.send(alice, LOBBY, body) for body in ("first", "boom", "last")),
        return_exceptions=True,
    )

    assert chat.messages.writer.batches == batches + 1  # one batch, then each alone
    first, boom, last = results
    assert isinstance(boom, Exception) and not isinstance(boom, ChatError)
    async with chat.db.read() as repos:
        noted = await repos.session.execute(select(Mention.message_id).where(Mention.user_id == bob.id))
        bodies = await repos.session.execute(select(Message.body).where(Message.body == "boom"))
    assert sorted(noted.scalars()) == sorted([first.id, last.id])  # type: ignore[union-attr]
    assert list(bodies.scalars()) == []
    assert hook.commits >= 1
