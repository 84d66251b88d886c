"""A command group finds its place by declaring it: a new ``server/cli/<group>.py`` needs no line
in ``server/cli/__init__.py``. These pin that each group is found once, in its place."""

from __future__ import annotations

import importlib
import pkgutil

import server.cli
from server.cli import groups


def test_every_module_with_commands_has_a_place_of_its_own() -> None:
    names = [info.name for info in pkgutil.iter_modules(server.cli.__path__)]
    modules = [importlib.import_module(f"server.cli.{name}") for name in names if name != "__main__"]
    with_commands = {m.__name__ for m in modules if hasattr(m, "commands")}
    assert with_commands == {m.__name__ for m in groups()}
    places = [m.PLACE for m in groups()]
    assert places == sorted(places) and len(places) == len(set(places))


def test_parley_help_lists_the_groups_after_the_built_in_commands() -> None:
    listed = server.cli._parser().format_help()
    order = [listed.index(f"    {name} ") for name in ("serve", "user", "bot", "backup", "export", "audit")]
    assert order == sorted(order)
