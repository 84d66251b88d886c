"""The send store's shortcut builds the row its constructor builds."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields, replace
from datetime import UTC, datetime

import pytest

from db.records import PLAIN, links_only
from db.sends import LINKED_SHAPE, PLAIN_SHAPE, NewMessage, PinChange, new_message


def test_new_message_is_the_constructors_row() -> None:
    now = datetime.now(UTC)
    for extras, pin in [
        (PLAIN, None),
        (links_only(("https://a.example/",)), None),
        (PLAIN, PinChange(7, True, 3)),
    ]:
        values = (3, 4, "hello", "c-1", now, extras, (5,), pin, ("f1",), ())
        made = new_message(*values)
        built = NewMessage(*values)
        assert made == built and type(made) is NewMessage
        assert [getattr(made, f.name) for f in fields(NewMessage)] == list(values)
        assert made.shape == built.shape
        assert replace(made, body="other") == replace(built, body="other")


def test_new_message_is_frozen_and_shaped_as_the_constructors() -> None:
    now = datetime.now(UTC)
    plain = new_message(1, 2, "b", None, now, PLAIN, (), None, (), ())
    linked = new_message(1, 2, "b", None, now, links_only(("https://a.example/",)), (), None, (), ())
    assert (plain.shape, linked.shape) == (PLAIN_SHAPE, LINKED_SHAPE)
    with pytest.raises(FrozenInstanceError):
        plain.body = "changed"  # type: ignore[misc]
