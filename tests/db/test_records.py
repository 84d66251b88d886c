"""The records' shortcuts build what their constructors build."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields, replace

import pytest

from db.records import PLAIN, PLAIN_BOT, Extras, links_only


def test_links_only_is_the_extras_of_links_and_nothing_else() -> None:
    links = ("https://a.example/1", "https://b.example/2")
    made = links_only(links)
    assert made == Extras(links=links)
    assert type(made) is Extras
    for f in fields(Extras):
        assert getattr(made, f.name) == (links if f.name == "links" else getattr(PLAIN, f.name)), f.name
    assert hash(made) == hash(Extras(links=links))
    assert replace(made, pinned=True) == Extras(links=links, pinned=True)


def test_links_only_marks_a_bots_message_as_the_constructor_does() -> None:
    links = ("https://a.example/1",)
    assert links_only(links, bot=True) == Extras(links=links, bot=True)
    assert links_only(links) == Extras(links=links)
    assert PLAIN_BOT == Extras(bot=True) and PLAIN_BOT.links == ()


def test_links_only_is_as_frozen_as_the_constructor_and_leaves_plain_alone() -> None:
    made = links_only(("https://a.example/",))
    with pytest.raises(FrozenInstanceError):
        made.links = ()  # type: ignore[misc]
    assert PLAIN == Extras() and PLAIN.links == ()
