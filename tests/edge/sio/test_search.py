"""Search over Socket.IO and REST (PROTOCOL.md section 9), on SQLite and on PostgreSQL.

One query-language table runs against both databases with the same expected answers: words,
phrases, prefixes, negation, operators, accents and case, and hostile input (unbalanced quotes,
FTS5 operators and column filters, SQL metacharacters, 256 characters, emoji, empty operators).
Then permissions (private topics and direct conversations of others, left topics, blocked
senders, deleted and edited messages right after the ack), pagination while messages arrive, REST,
and a Hypothesis property: a random query never fails and never returns what the searcher may not
read.

The tests that only read the corpus share one server per database (``corpus_server``, the corpus
sent once); the others change what a search finds (blocks, deletions, more messages in ``lobby``,
which everyone reads) and each has a server of its own (``live_server``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.contract import MESSAGE_FIELDS, error_code
from tests.shared_server import Names, databases_of, shared_server
from tests.support import Client, LiveServer, bearer, send

pytestmark = pytest.mark.both_databases
Corpus = tuple[LiveServer, Client, Client, dict[str, int], dict[int, str]]
SHARED = pytest.mark.asyncio(loop_scope="module")  # the tests on ``corpus_server``


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    databases_of(metafunc, "corpus_server")


# Label -> (sender, where, body). Sent in this order by the corpus fixture; alice searches.
CORPUS: list[tuple[str, str, dict[str, Any]]] = [
    ("deploying", "alice", {"topic": "lobby", "body": "Deploying the new release tonight"}),
    ("deploy", "alice", {"topic": "lobby", "body": "deploy failed: see https://ci.example.com/build/42"}),
    ("cafe", "alice", {"topic": "lobby", "body": "Café au lait is NAÏVE"}),
    ("letters", "alice", {"topic": "lobby", "body": "STRAẞE, Ørsted, Łódź!"}),
    ("fox", "alice", {"topic": "lobby", "body": "the quick brown fox"}),
    ("thinking", "alice", {"topic": "lobby", "body": "quick thinking saved the day"}),
    ("email", "alice", {"topic": "lobby", "body": "e-mail me at bob@example.com"}),
    ("version", "alice", {"topic": "lobby", "body": "version 1.2.3 is out"}),
    ("emoji", "alice", {"topic": "lobby", "body": "emoji 🎉 party time"}),
    ("sql", "alice", {"topic": "lobby", "body": "SELECT * FROM users; DROP TABLE messages; --"}),
    ("fts", "alice", {"topic": "lobby", "body": "NEAR the AND of OR NOT"}),
    ("quote", "alice", {"topic": "lobby", "body": 'it\'s a "quoted" <b>word</b> & more'}),
    ("cjk", "alice", {"topic": "lobby", "body": "日本語 テスト"}),
    ("bob", "bob", {"topic": "lobby", "body": "bob says hi"}),
    ("dev", "alice", {"topic": "dev", "body": "quick dev note"}),
    ("dm", "alice", {"to": "bob", "body": "secret quick plan"}),
    ("mention", "bob", {"topic": "lobby", "body": "hey @alice quick look"}),
    ("everyone", "bob", {"topic": "lobby", "body": "@all standup soon"}),
]
QUICK = {"fox", "thinking", "dev", "dm", "mention", "thread"}
EVERYTHING = {label for label, _, _ in CORPUS} | {"thread"}

# Query -> the labels alice finds (the same on both databases).
TABLE: list[tuple[str, set[str]]] = [
    # words, case, accents, no stemming, prefixes
    ("deploy", {"deploy"}),
    ("DEPLOYING", {"deploying"}),
    ("deploy*", {"deploy", "deploying"}),
    ("Deplo*", {"deploy", "deploying"}),
    ("cafe", {"cafe"}),
    ("CAFÉ", {"cafe"}),
    ("naive", {"cafe"}),
    ("naïve lait", {"cafe"}),
    # letters without a decomposition are their own letters (FTS5's unicode61), on both databases
    ("straße", {"letters"}),
    ("strasse", set()),
    ("ørsted", {"letters"}),
    ("orsted", set()),
    ("lodz", set()),
    ("łodz", {"letters"}),
    ("ŁÓDŹ", {"letters"}),
    ("quick", QUICK),
    ("quick fox", {"fox"}),
    ("qui*", QUICK),
    ("日本語", {"cjk"}),
    # phrases and negation
    ('"quick brown"', {"fox"}),
    ('"brown quick"', set()),
    ('"quick bro"*', {"fox"}),
    ("quick -fox", QUICK - {"fox"}),
    ('quick -"brown fox"', QUICK - {"fox"}),
    ("-quick", EVERYTHING - QUICK),
    # punctuation splits words, as FTS5's unicode61 does
    ("example", {"deploy", "email"}),
    ("bob", {"email", "bob"}),
    ("e-mail", {"email"}),
    ("mail", {"email"}),
    ("email", set()),
    ("1.2.3", {"version"}),
    ("2", {"version"}),
    ("42", {"deploy"}),
    ("it's", {"quote"}),
    ("<b>word</b>", {"quote"}),
    # operators
    ("from:bob", {"bob", "mention", "everyone"}),
    ("from:@BOB hi", {"bob"}),
    ("from:alice quick", QUICK - {"mention"}),
    ("from:nobody", set()),
    ("from:alice from:bob", set()),
    ("in:dev", {"dev"}),
    ("in:DEV quick", {"dev"}),
    ("in:@bob", {"dm"}),
    ("in:@bob in:dev", set()),
    ("is:thread", {"thread"}),
    ("is:mention", {"mention", "everyone"}),
    ("is:mention quick", {"mention"}),
    ("has:file", set()),
    ("has:file quick", set()),
    ("before:2000-01-01", set()),
    ("after:2000-01-01 fox", {"fox"}),
    ("before:2999-12-31 fox", {"fox"}),
    ("after:2999-12-31 fox", set()),
    ("before:2024-13-45 fox", set()),  # not a date: the words before, 2024, 13, 45
    # hostile input: never an error, searched as words
    ('"unbalanced', set()),
    ('quick"', QUICK),
    ('"quick', QUICK),
    ('""', set()),
    ("NEAR", {"fts"}),
    ("NEAR(quick fox)", set()),
    ("AND", {"fts"}),
    ("OR quick", set()),
    ("NOT", {"fts"}),
    ("quick NOT fox", set()),
    ("*", set()),
    ("-", set()),
    ("^quick", QUICK),
    ("body:quick", set()),
    ("users:drop", {"sql"}),
    ("'; DROP TABLE messages; --", {"sql"}),
    ("a' OR '1'='1", set()),
    ("%", set()),
    ("quick%", QUICK),
    ("\\", set()),
    ("x" * 256, set()),
    ("🎉", set()),
    ("party 🎉", {"emoji"}),
    ("from:", {"sql"}),  # an empty operator is a word: "FROM users"
    ("in:", set()),
    ("is:", {"cafe", "version"}),
    ("has:", set()),
    ("before:", set()),
    ("is:unknown", set()),
    ("   ", set()),
    ("quick\x00fox", {"fox"}),
]


async def corpus(live_server: LiveServer) -> tuple[Client, Client, dict[str, int], dict[int, str]]:
    """alice and bob, the public topic ``dev`` and the corpus; labels to ids and back."""
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")
    await alice.ok("topic:create", {"name": "dev"})
    ids: dict[str, int] = {}
    for label, sender, payload in CORPUS:
        ids[label] = (await send(alice if sender == "alice" else bob, payload))["id"]
    ids["thread"] = (await send(alice, {"topic": "lobby", "body": "quick reply", "thread": ids["fox"]}))["id"]
    return alice, bob, ids, {value: key for key, value in ids.items()}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def corpus_server(tmp_path_factory, request) -> AsyncIterator[Corpus]:  # type: ignore[no-untyped-def]
    """A server of the module with the corpus sent: ``(server, alice, bob, ids, names)``."""
    async with shared_server(tmp_path_factory, request.param) as server:
        yield (server, *await corpus(server))


async def search(client: Client, q: str, **extra: Any) -> dict[str, Any]:
    page: dict[str, Any] = await client.ok("search", {"q": q, **extra})
    return page


def labels(page: dict[str, Any], names: dict[int, str]) -> set[str]:
    return {names.get(hit["message"]["id"], str(hit["message"]["id"])) for hit in page["hits"]}


@SHARED
async def test_the_query_language_table(corpus_server):
    _server, alice, _bob, _ids, names = corpus_server
    wrong = []
    for q, expected in TABLE:
        found = labels(await search(alice, q, limit=100), names)
        if found != expected:
            wrong.append((q, sorted(found), sorted(expected)))
    assert wrong == []


@SHARED
async def test_a_hit_is_a_message_with_a_highlight_newest_first(corpus_server):
    _server, alice, _bob, ids, _names = corpus_server
    page = await search(alice, "quick")
    assert page["next"] is None
    hits = page["hits"]
    assert [hit["message"]["id"] for hit in hits] == sorted((ids[label] for label in QUICK), reverse=True)
    for hit in hits:
        assert MESSAGE_FIELDS <= set(hit["message"])
    dm = next(hit for hit in hits if hit["message"]["id"] == ids["dm"])
    assert dm["message"]["topic"] == "@bob" and dm["message"]["kind"] == "direct"
    assert dm["highlight"] == "secret <mark>quick</mark> plan"
    quote = await search(alice, "WORD")
    assert quote["hits"][0]["highlight"] == (
        "it&#x27;s a &quot;quoted&quot; &lt;b&gt;<mark>word</mark>&lt;/b&gt; &amp; more"
    )
    accents = await search(alice, "cafe naive")
    assert accents["hits"][0]["highlight"] == "<mark>Café</mark> au lait is <mark>NAÏVE</mark>"
    prefix = await search(alice, "deplo*")
    assert [hit["highlight"] for hit in prefix["hits"]] == [
        "<mark>deploy</mark> failed: see https://ci.example.com/build/42",
        "<mark>Deploying</mark> the new release tonight",
    ]


async def test_a_long_body_is_cut_around_the_first_match(live_server):
    alice = await live_server.user("alice")
    body = "a" * 1000 + " needle " + "b" * 1000
    await send(alice, {"topic": "lobby", "body": body})
    shown = (await search(alice, "needle"))["hits"][0]["highlight"]
    assert "<mark>needle</mark>" in shown
    assert shown.startswith("…") and shown.endswith("…")
    assert 150 <= len(shown.replace("<mark>", "").replace("</mark>", "")) <= 210


@SHARED
async def test_the_bob_side_sees_the_direct_conversation_named_after_alice(corpus_server):
    _server, _alice, bob, ids, _names = corpus_server
    hits = (await search(bob, "secret plan"))["hits"]
    assert [hit["message"]["id"] for hit in hits] == [ids["dm"]]
    assert hits[0]["message"]["topic"] == "@alice"


@SHARED
async def test_a_topic_or_with_argument_restricts(corpus_server):
    _server, alice, _bob, ids, names = corpus_server
    assert labels(await search(alice, "quick", topic="dev"), names) == {"dev"}
    assert labels(await search(alice, "quick", topic="LOBBY"), names) == {
        "fox",
        "thinking",
        "mention",
        "thread",
    }
    assert labels(await search(alice, "quick", **{"with": "bob"}), names) == {"dm"}
    assert labels(await search(alice, "quick in:dev", topic="dev"), names) == {"dev"}
    assert labels(await search(alice, "quick in:lobby", topic="dev"), names) == set()
    assert ids


# Permissions ---------------------------------------------------------------------------------


async def test_others_private_topics_and_conversations_are_never_found(live_server):
    alice = await live_server.user("alice")
    carol = await live_server.user("carol")
    await live_server.user("dave")
    await carol.ok("topic:create", {"name": "secret", "private": True})
    await send(carol, {"topic": "secret", "body": "hidden treasure"})
    await send(carol, {"to": "dave", "body": "hidden whisper"})
    assert (await search(alice, "hidden"))["hits"] == []
    assert (await search(alice, "from:carol"))["hits"] == []
    assert [hit["highlight"] for hit in (await search(carol, "hidden"))["hits"]] == [
        "<mark>hidden</mark> whisper",
        "<mark>hidden</mark> treasure",
    ]
    # A private topic of others answers exactly as one that does not exist.
    hidden = await alice.call("search", {"q": "hidden", "topic": "secret"})
    missing = await alice.call("search", {"q": "hidden", "topic": "nothere"})
    assert error_code(hidden) == error_code(missing) == "not_found"
    assert hidden["error"]["message"].replace("secret", "X") == missing["error"]["message"].replace(
        "nothere", "X"
    )
    assert error_code(await alice.call("search", {"q": "in:secret hidden"})) == "not_found"
    # No conversation with dave: nothing in it, whatever carol and dave said to each other.
    assert (await search(alice, "hidden", **{"with": "dave"}))["hits"] == []
    assert (await search(alice, "in:@dave"))["hits"] == []


async def test_a_user_who_left_finds_only_public_topics(live_server):
    alice = await live_server.user("alice")
    carol = await live_server.user("carol")
    await carol.ok("topic:create", {"name": "club", "private": True})
    await carol.ok("topic:invite", {"topic": "club", "username": "alice"})
    await carol.ok("topic:create", {"name": "open"})
    await alice.ok("topic:subscribe", {"topic": "open"})
    await send(carol, {"topic": "club", "body": "members only gossip"})
    await send(carol, {"topic": "open", "body": "public gossip"})
    assert len((await search(alice, "gossip"))["hits"]) == 2
    await alice.ok("topic:unsubscribe", {"topic": "club"})
    await alice.ok("topic:unsubscribe", {"topic": "open"})
    assert [hit["message"]["topic"] for hit in (await search(alice, "gossip"))["hits"]] == ["open"]


async def test_blocked_senders_are_left_out_for_the_blocker_only(live_server):
    alice, bob, _ids, names = await corpus(live_server)
    await block(live_server, "alice", "bob")
    assert labels(await search(alice, "from:bob"), names) == set()
    assert labels(await search(alice, "quick"), names) == QUICK - {"mention"}
    assert labels(await search(bob, "from:bob"), names) == {"bob", "mention", "everyone"}


async def test_a_block_by_the_event_takes_effect_at_once_and_an_unblock_restores(live_server):
    alice, _bob, _ids, names = await corpus(live_server)
    await alice.ok("user:block", {"username": "bob"})
    assert labels(await search(alice, "from:bob"), names) == set()
    await alice.ok("user:unblock", {"username": "bob"})
    assert labels(await search(alice, "from:bob"), names) == {"bob", "mention", "everyone"}


async def block(live_server: LiveServer, blocker: str, blocked: str) -> None:
    """``blocker`` blocks ``blocked``, straight in the table (PROTOCOL.md section 10's row)."""
    ids = {"a": await user_id(live_server, blocker), "b": await user_id(live_server, blocked)}
    async with live_server.chat.db.write() as repos:
        await repos.session.execute(
            text("INSERT INTO blocks (user_id, blocked_id, created_at) VALUES (:a, :b, :now)"),
            {**ids, "now": datetime.now(UTC)},
        )


async def user_id(live_server: LiveServer, name: str) -> int:
    async with live_server.chat.db.read() as repos:
        user = await repos.users.by_name(name)
    assert user is not None
    return user.id


async def test_deleted_and_edited_messages_right_after_the_ack(live_server):
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")
    gone = await send(alice, {"topic": "lobby", "body": "ephemeral words"})
    assert len((await search(bob, "ephemeral"))["hits"]) == 1
    await alice.ok("message:delete", {"id": gone["id"]})
    assert (await search(bob, "ephemeral"))["hits"] == []
    assert (await search(alice, "ephemeral"))["hits"] == []
    edited = await send(alice, {"topic": "lobby", "body": "original wording"})
    await alice.ok("message:edit", {"id": edited["id"], "body": "revised wording"})
    assert (await search(bob, "original"))["hits"] == []
    hits = (await search(bob, "revised"))["hits"]
    assert [hit["message"]["body"] for hit in hits] == ["revised wording"]
    assert hits[0]["message"]["edited_at"] is not None
    assert len((await search(bob, "wording"))["hits"]) == 1


async def test_an_archived_topic_is_still_searched(live_server):
    alice = await live_server.user("alice")
    await alice.ok("topic:create", {"name": "attic"})
    await send(alice, {"topic": "attic", "body": "dusty boxes"})
    await alice.ok("topic:archive", {"topic": "attic"})
    assert [hit["message"]["topic"] for hit in (await search(alice, "dusty"))["hits"]] == ["attic"]


# Pagination ----------------------------------------------------------------------------------


async def test_25_hits_in_pages_of_10_without_repeats_or_gaps_while_messages_arrive(live_server):
    alice = await live_server.user("alice")
    sent = [(await send(alice, {"topic": "lobby", "body": f"page item {n}"}))["id"] for n in range(25)]
    seen: list[int] = []
    cursor = None
    sizes = []
    for n in range(5):
        page = await search(alice, "item", limit=10, **({"cursor": cursor} if cursor else {}))
        sizes.append(len(page["hits"]))
        seen += [hit["message"]["id"] for hit in page["hits"]]
        await send(alice, {"topic": "lobby", "body": f"late item {n}"})  # newer: never on a later page
        cursor = page["next"]
        if cursor is None:
            break
    assert sizes == [10, 10, 5]
    assert seen == sorted(sent, reverse=True)


async def test_a_bad_payload_or_cursor_is_invalid(live_server):
    alice = await live_server.user("alice")
    for payload in (
        {},
        {"q": ""},
        {"q": "x" * 257},
        {"q": 5},
        {"q": "a", "limit": 0},
        {"q": "a", "limit": 101},
        {"q": "a", "cursor": "not-a-cursor"},
        {"q": "a", "cursor": "bm9wZQ"},
        {"q": "a", "topic": "lobby", "with": "alice"},
        {"q": "a", "topic": "bad name"},
    ):
        assert error_code(await alice.call("search", payload)) == "invalid", payload


# REST ----------------------------------------------------------------------------------------


@SHARED
async def test_rest_search_answers_as_the_event(corpus_server):
    live_server, *_ = corpus_server
    token = await live_server.register(Names().erin)
    http, auth = live_server.http, bearer(token)
    await http.post("/api/topics/dev/subscribe", headers=auth)
    first = await http.get("/api/search", params={"q": "quick", "limit": 2}, headers=auth)
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["hits"]) == 2 and page["next"]
    rest = await http.get(
        "/api/search", params={"q": "quick", "limit": 9, "cursor": page["next"]}, headers=auth
    )
    assert rest.status_code == 200
    ids = [hit["message"]["id"] for hit in page["hits"] + rest.json()["hits"]]
    assert len(ids) == len(set(ids)) == 5  # erin is not in alice and bob's conversation
    assert ids == sorted(ids, reverse=True)
    assert (await http.get("/api/search", params={"q": "quick"})).status_code == 401
    assert (await http.get("/api/search", params={"q": ""}, headers=auth)).status_code == 422
    assert (await http.get("/api/search", params={"q": "a", "limit": 101}, headers=auth)).status_code == 422
    hidden = await http.get("/api/search", params={"q": "x", "topic": "nope"}, headers=auth)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"


async def test_rest_search_refuses_what_the_event_refuses(live_server):
    """One model validates both (review 2026-11-24, finding 7): REST answered an empty page where
    the event answered ``invalid``."""
    http, auth = live_server.http, bearer(await live_server.register("erin"))
    for params in (
        {"q": "a", "topic": "lobby", "with": "alice"},
        {"q": "a", "topic": "bad name"},
        {"q": "a", "cursor": "x" * 129},
    ):
        response = await http.get("/api/search", params=params, headers=auth)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["code"] == "invalid"
    both = await http.get("/api/search", params={"q": "a", "topic": "lobby", "with": "alice"}, headers=auth)
    assert "at most one of 'topic' and 'with'" in both.json()["error"]["message"]


# Property ------------------------------------------------------------------------------------

QUERY_PIECES = st.sampled_from(
    [
        '"',
        "-",
        "*",
        ":",
        "from:",
        "in:",
        "is:",
        "has:",
        "before:",
        "after:",
        "@",
        "'",
        ";",
        "(",
        ")",
        "^",
        "NEAR",
        "AND",
        "OR",
        "NOT",
        "quick",
        "hidden",
        "bob",
        "carol",
        "lobby",
        "secret",
        "2026-11-23",
        " ",
        "é",
        "🎉",
        "\\",
        "%",
        "_",
        "mention",
        "thread",
        "file",
        "{",
        "}",
        "+",
    ]
)
QUERIES = (
    st.lists(st.one_of(QUERY_PIECES, st.text(min_size=1, max_size=5)), min_size=1, max_size=20)
    .map(lambda parts: "".join(parts)[:256])
    .filter(lambda q: q.strip("\x00") != "" and len(q) >= 1)
)


class World:
    """Built once per server by the first example: what alice may read, and what she may not."""

    def __init__(self, alice: Client, readable: set[int]) -> None:
        self.alice = alice
        self.readable = readable


WORLDS: dict[int, World] = {}


async def world_of(live_server: LiveServer) -> World:
    if id(live_server) in WORLDS:
        return WORLDS[id(live_server)]
    alice, bob, ids, _names = await corpus(live_server)
    carol = await live_server.user("carol")
    dave = await live_server.user("dave")
    await carol.ok("topic:create", {"name": "secret", "private": True})
    await send(carol, {"topic": "secret", "body": "hidden quick secret 2026-11-23"})
    await send(carol, {"to": "bob", "body": "hidden quick whisper"})
    await send(dave, {"topic": "lobby", "body": "quick blocked hidden"})
    gone = await send(alice, {"topic": "lobby", "body": "quick deleted hidden"})
    await alice.ok("message:delete", {"id": gone["id"]})
    await block(live_server, "alice", "dave")
    world = WORLDS[id(live_server)] = World(alice, set(ids.values()))
    assert bob
    return world


@settings(suppress_health_check=list(HealthCheck), max_examples=60, deadline=None)
@given(q=QUERIES)
async def test_random_queries_never_fail_and_never_show_what_the_searcher_may_not_read(live_server, q):
    world = await world_of(live_server)
    ack = await world.alice.call("search", {"q": q, "limit": 100})
    if not ack["ok"]:  # only a place the query names that alice may not read (or that is missing)
        assert ack["error"]["code"] == "not_found" and "in:" in q, (q, ack)
        return
    found = {hit["message"]["id"] for hit in ack["data"]["hits"]}
    assert found <= world.readable, q
