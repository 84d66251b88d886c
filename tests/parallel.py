"""``--dist loadgroup`` groups that hold on every pytest (``make test`` runs ``-n 3``).

pytest-xdist 3.8 tells its controller a test's ``xdist_group`` by appending ``@group`` to the test's
node id on the worker, which pytest 9.2 no longer lets it change (pytest-dev/pytest-xdist#1386): the
groups are then silently ignored and grouped tests run on both workers at once. Here each worker
writes the group of every test it collected to a file in a directory the controller names, and the
controller's scheduler reads them: the tests of one group are one unit of work, run on one worker
one after another.

Any other test's unit is its module (xdist's ``loadfile``), not the test itself (``loadgroup``):
a module that shares one server among its tests (a module-scoped fixture) then makes it once, on
one worker. One test a unit spread a module over the workers in turns, and each of its pieces
set the module's fixtures up and tore them down again. xdist hands the units out largest first
(by number of tests), so the long groups start at once and the run ends on small modules.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

KEY = "parley_groups"


def group_of(item: pytest.Item) -> str | None:
    """The item's groups joined as xdist joins them, or None."""
    marks = item.iter_markers("xdist_group")
    names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks})
    return "_".join(names) or None


class GroupScheduling(LoadScopeScheduling):
    """xdist's scope scheduler with the workers' written groups, else the modules, as the scopes."""

    def __init__(self, config: pytest.Config, log: Any, directory: Path) -> None:
        super().__init__(config, log)
        self.directory = directory
        self.groups: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self.groups is None:  # scheduling starts once every worker has collected (and written)
            self.groups = {}
            for written in sorted(self.directory.glob("*.json")):
                self.groups.update(json.loads(written.read_text()))
        return self.groups.get(nodeid) or nodeid.split("::", 1)[0]


class Groups:
    """Registered only when xdist is active; the controller's and the workers' sides."""

    def __init__(self, config: pytest.Config) -> None:
        distributing = config.getoption("dist") == "loadgroup" and bool(config.getoption("tx"))
        controller = not hasattr(config, "workerinput")
        self.directory: Path | None = None
        if distributing and controller:
            self.directory = Path(tempfile.mkdtemp(prefix="parley-xdist-"))

    # Controller (the workers are configured before the scheduler is made).
    @pytest.hookimpl(tryfirst=True)  # before xdist's own loadgroup scheduler
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> GroupScheduling | None:
        return None if self.directory is None else GroupScheduling(config, log, self.directory)

    def pytest_configure_node(self, node: Any) -> None:
        if self.directory is not None:
            node.workerinput[KEY] = str(self.directory)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    # Worker.
    @pytest.hookimpl(trylast=True)  # after -k/-m deselection and tests/conftest.py's marks
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        directory = getattr(config, "workerinput", {}).get(KEY)
        if directory is None:
            return
        groups = {item.nodeid: group for item in items if (group := group_of(item))}
        name = config.workerinput["workerid"]  # type: ignore[attr-defined]
        written = Path(directory) / f"{name}.json.tmp"
        written.write_text(json.dumps(groups))
        written.rename(written.with_suffix(""))  # whole or absent for the controller's glob


def register(config: pytest.Config) -> None:
    """Use the groups (tests/conftest.py imports this module only when xdist is active)."""
    config.pluginmanager.register(Groups(config), "parley-groups")
