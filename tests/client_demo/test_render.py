"""How the demo draws the fields of PROTOCOL.md sections 8 and 10 (pure functions: no server needed).

The end-to-end tests (test_conversations.py) show the same lines coming from a real server;
these pin the details a server cannot easily be made to produce (a malformed field, colour).
"""

from __future__ import annotations

from typing import Any

from client_demo import render
from client_demo.mentions import HIGHLIGHT, RESET, highlight
from client_demo.models import Message

ME = render.Look(me="bob", color=True)


def message(**fields: Any) -> Message:
    base: dict[str, Any] = {
        "id": 14,
        "topic": "den",
        "kind": "public",
        "seq": 3,
        "sender": "alice",
        "body": "yes, agreed",
        "created_at": "2026-11-23T12:04:00Z",
        "edited_at": None,
        "client_id": None,
        "reply_to": None,
        "thread": None,
        "thread_summary": None,
        "reactions": [],
        "mentions": [],
        "mentions_all": False,
        "pinned": False,
        "files": [],
        "type": "text",
        "system": None,
    }
    base.update(fields)
    return base  # type: ignore[return-value]


def test_a_plain_message_is_drawn_as_before() -> None:
    assert render.message_line(message()).endswith("[den #3] alice: yes, agreed  (id 14)")


def test_a_reply_quotes_on_the_next_line() -> None:
    quoted = {"id": 12, "sender": "bob", "excerpt": "shall we\nmeet at 5?"}
    first, second = render.message_line(message(reply_to=quoted)).split("\n")
    assert first.endswith("alice: yes, agreed  (id 14)")
    assert second == "    > bob: shall we meet at 5?"
    gone = {"id": 12, "sender": "bob", "excerpt": ""}
    assert render.message_line(message(reply_to=gone)).endswith("    > bob: (deleted)")


def test_a_thread_reply_names_its_root_and_a_root_its_summary() -> None:
    assert "[den #3] [thread #12] alice: yes" in render.message_line(message(thread=12))
    summary = {"count": 2, "last_at": "2026-11-23T12:05:00Z", "participants": ["bob", "alice"]}
    line = render.message_line(message(thread_summary=summary))
    assert "yes, agreed  [thread: 2 replies, last " in line and line.endswith("(id 14)")


def test_reactions_are_chips_after_the_body_mine_starred() -> None:
    reactions = [
        {"emoji": "👍", "count": 2, "users": ["bob", "carol"], "me": True},
        {"emoji": ":tada:", "count": 1, "users": ["carol"], "me": False},
        {"emoji": "bad"},  # malformed: dropped, not a crash
    ]
    line = render.message_line(message(reactions=reactions, pinned=True, edited_at="2026-11-23T12:05:00Z"))
    assert line.endswith("alice: yes, agreed (edited) (pinned)  [👍 2*] [:tada: 1]  (id 14)")
    assert render.reactions_text([]) == "none"


def test_a_system_message() -> None:
    system = {"action": "pin", "actor": "alice", "id": 12}
    line = render.message_line(message(type="system", body="alice pinned a message", system=system))
    assert line.endswith("[den #3] * alice pinned a message  (message 12)")


def test_mentions_of_me_stand_out_in_colour_only() -> None:
    mentioning = message(body="hi @Bob. and @bobby, @all", mentions=["bob", "bobby"])
    plain = render.message_line(mentioning, render.Look(me="bob", color=False))
    assert plain.endswith("alice: hi @Bob. and @bobby, @all  (id 14)")
    coloured = render.message_line(mentioning, ME)
    assert f"hi {HIGHLIGHT}@Bob{RESET}. and @bobby, @all  (id 14)" in coloured
    everyone = render.message_line(message(body="@all look", mentions_all=True), ME)
    assert f"{HIGHLIGHT}@all{RESET} look" in everyone
    # Not mentioned (the server says so): nothing marked, even if the text has the name.
    assert HIGHLIGHT not in render.message_line(message(body="mail@bob"), ME)
    assert HIGHLIGHT not in render.message_line(message(body="@bob", sender="bob", mentions=["bob"]), ME)


def test_highlight_follows_the_servers_name_rule() -> None:
    assert highlight("x@bob @bob-", "bob", everyone=False) == f"x@bob {HIGHLIGHT}@bob{RESET}-"
    assert highlight("@bob.smith", "bob", everyone=False) == "@bob.smith"
    assert highlight("@bob.smith", "bob.smith", everyone=False) == f"{HIGHLIGHT}@bob.smith{RESET}"


def test_the_section_8_events() -> None:
    reaction = {
        "topic": "den",
        "id": 14,
        "reactions": [{"emoji": "👍", "count": 1, "users": [], "me": False}],
    }
    assert render.reactions_line(reaction) == "* reactions on message 14 in den: [👍 1]"
    summary = {"count": 3, "last_at": "2026-11-23T12:05:00Z", "participants": ["carol", "bob"]}
    thread = render.thread_line({"topic": "den", "root": 12, "thread_summary": summary})
    assert thread.startswith("* thread #12 in den: 3 replies (carol, bob), last ")
    empty = render.thread_line({"topic": "den", "root": 12, "thread_summary": None})
    assert empty == "* thread #12 in den: no replies"
    assert render.pins_line({"topic": "den", "pins": [message(id=12), message(id=9)]}) == (
        "* pins in den: 2 (ids 12, 9)"
    )
    assert render.pins_line({"topic": "den", "pins": []}) == "* pins in den: none"


def test_a_topic_shows_its_mentions_and_notify_level() -> None:
    topic: Any = {"name": "den", "kind": "public", "members": 3, "online": 1, "unread": 4}
    assert render.topic_summary(topic) == "public, 3 members, 1 online, 4 unread"  # an older server
    topic.update(mentions=1, notify="mentions", subscribed=True)
    assert render.topic_summary(topic) == (
        "public, 3 members, 1 online, 4 unread, 1 mention, notify mentions, subscribed"
    )
    topic.update(role="moderator")
    assert render.topic_summary(topic).endswith(", subscribed, you are moderator")
    topic.update(role=None)
    assert render.topic_summary(topic).endswith(", subscribed")


def test_a_system_message_gets_the_reason_its_body_lacks() -> None:
    muted = message(
        type="system",
        body="alice muted bob",
        system={"action": "mute", "actor": "alice", "target": "bob", "reason": "spam"},
    )
    assert render.message_line(muted).endswith("[den #3] * alice muted bob (spam)")
    kick = {"action": "kick", "actor": "alice", "target": "bob", "reason": "spam"}
    said = message(type="system", body="alice removed bob (spam)", system=kick)
    assert render.message_line(said).endswith("] * alice removed bob (spam)")


def test_a_blocked_users_message_is_folded() -> None:
    folded = message(blocked=True, body="buy cheap watches", edited_at="2026-11-23T12:05:00Z")
    assert render.message_line(folded).endswith("[den #3] [message from a blocked user]  (id 14)")
    assert "alice" not in render.message_line(folded)
    assert render.edited_line(folded).endswith("[den #3] [message from a blocked user] edited  (id 14)")
    assert "watches" not in render.edited_line(folded)


def test_member_news_and_a_ban_list_entry() -> None:
    joined = {"topic": "den", "username": "bob", "action": "joined"}
    assert render.member_news_line(joined) == "* bob joined den"
    assert render.member_news_line({**joined, "action": "left"}) == "* bob left den"
    ban = {"username": "dave", "by": "carol", "reason": "spam", "until": "2026-11-28T14:05:09Z"}
    assert render.ban_line(ban) == "dave, by carol, until 2026-11-28 14:05 UTC (spam)"
    assert render.ban_line({**ban, "until": None, "reason": None}) == "dave, by carol, until unbanned"


def test_topic_removed_and_an_archived_topic() -> None:
    assert render.removed_line({"topic": "den", "reason": "spam"}) == "* you were removed from den (spam)"
    assert render.removed_line({"topic": "den", "reason": None}) == "* you were removed from den"
    banned = {"topic": "den", "reason": "spam", "banned": True, "until": "2026-11-28T14:05:09.5Z"}
    assert render.removed_line(banned) == "* you were banned from den until 2026-11-28 14:05 UTC (spam)"
    forever = render.removed_line({**banned, "until": None})
    assert forever == "* you were banned from den until unbanned (spam)"
    topic: Any = {"name": "den", "kind": "public", "members": 2, "archived": True}
    assert render.topic_summary(topic).startswith("public (archived), 2 members")
