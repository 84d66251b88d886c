"""``views.message_out``: the one way a message becomes what a client sees.

A plain message's JSON form (``MessageOut.wire``, what every transport sends) is written by hand
in ``message_out`` instead of by ``model_dump``; it must be exactly what ``model_dump`` makes,
byte for byte (field order included), for every variant a plain message has.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from db.records import PLAIN_BOT, Extras, Quote, links_only
from server.chat.kernel.views import message_out

SENT = datetime(2026, 11, 24, 0, 30, 5, 120000, tzinfo=UTC)
VARIANTS = {
    "plain": {},
    "no client_id": {"client_id": None},
    "edited": {"edited_at": SENT + timedelta(minutes=2)},
    "deleted": {"deleted": True},
    "blocked": {"blocked": True},
    "by a bot": {"extras": Extras(bot=True)},
    "by a bot, shared": {"extras": PLAIN_BOT},
    "with links, by a bot": {"extras": links_only(("https://a.example/",), bot=True)},
    "naive time": {"created_at": datetime(2026, 11, 24, 0, 30, 5)},
    "other zone": {"created_at": SENT.astimezone(timezone(timedelta(hours=5)))},
}


@pytest.mark.parametrize("variant", list(VARIANTS.values()), ids=list(VARIANTS))
def test_a_messages_wire_is_exactly_its_model_dump(variant: dict) -> None:
    fields = {"edited_at": None, "client_id": "c-1", "created_at": SENT, **variant}
    message = message_out(
        "public",
        "general",
        7,
        3,
        "alice",
        "hello",
        fields.pop("created_at"),
        fields.pop("edited_at"),
        fields.pop("client_id"),
        **fields,
    )
    assert orjson.dumps(message.wire) == orjson.dumps(message.model_dump(mode="json"))


@pytest.mark.parametrize(
    "extras", [PLAIN_BOT, links_only(("https://a.example/",), bot=True)], ids=["plain", "with links"]
)
def test_a_bots_plain_message_takes_the_quick_rendering(extras: Extras) -> None:
    """Every message a backend publishes is a bot's (PROTOCOL.md section 17): its JSON form is
    written here, not left to ``model_dump``."""
    message = message_out("public", "general", 7, 3, "hooks", "deployed", SENT, None, None, extras=extras)
    assert "wire" in message.__dict__
    assert message.wire["bot"] is True


def test_plain_wires_do_not_share_their_lists() -> None:
    first = message_out("public", "general", 1, 1, "alice", "a", SENT, None, None)
    second = message_out("public", "general", 2, 2, "alice", "b", SENT, None, None)
    first.wire["reactions"].append({"emoji": "x"})
    assert second.wire["reactions"] == []


def test_a_message_with_extras_is_dumped_by_the_model() -> None:
    quoted = Extras(reply_to=Quote(1, "bob", "hi"), mentions=("bob",))
    message = message_out("public", "general", 7, 3, "alice", "@bob yes", SENT, None, None, extras=quoted)
    assert message.wire["reply_to"] == {"id": 1, "sender": "bob", "excerpt": "hi"}
    assert message.wire == message.model_dump(mode="json")
