"""``bench.structure`` counts a tiny fake ``server/chat`` as issue 37's before/after note needs.

The fake tree has what the real one has: a circle hidden from Python under ``TYPE_CHECKING``
(``a`` <-> ``b``), a subpackage (one room, ``pkg/``) with a relative import and an import inside a
function, ``from server.chat import x`` of a module and of a package's name, and importers of
``schemas`` outside the package. The counts are known by hand.
"""

from __future__ import annotations

from pathlib import Path

from bench.structure import measure

TREE = {
    "server/__init__.py": "",
    "server/app.py": "import server.chat.schemas as wire\n",
    "server/chat/__init__.py": 'VERSION = "1"\n',
    "server/chat/schemas.py": "class In: ...\n",
    "server/chat/errors.py": "class Oops(Exception): ...\n",
    "server/chat/a.py": "from server.chat import b\nfrom server.chat.pkg.c import C\n",
    "server/chat/b.py": (
        "from typing import TYPE_CHECKING\n\nfrom server.chat.pkg import c\n\n"
        "if TYPE_CHECKING:\n    from server.chat.a import A\n"
    ),
    "server/chat/pkg/__init__.py": "",
    "server/chat/pkg/c.py": "from ..errors import Oops\n\nclass C: ...\n",
    "server/chat/pkg/d.py": "from server.chat import VERSION\n\ndef late():\n    from . import c\n",
    "tests/test_wire.py": "from server.chat import schemas\n",
    "server/chat/service.py": (
        "class Chat:\n"
        "    def __init__(self, db, hub=None):\n"
        "        self.hub = hub or Hub()\n"  # a default for a part that may be passed: not built
        "        self.one = One(db)\n"
        "        self.two = None if db is None else Two(db)\n"
        "        self.hub.attach(self.one)\n"
    ),
    "server/chat_factory.py": "def build(chat):\n    chat.worker = Worker(chat)\n",
}


def fake_tree(root: Path) -> Path:
    for name, text in TREE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_arrows_circles_floors_and_rooms_of_a_tiny_tree(tmp_path: Path) -> None:
    report = measure(fake_tree(tmp_path))

    modules, rooms = report["modules_graph"], report["rooms_graph"]
    assert modules["arrow_list"] == [
        "a -> b",
        "a -> pkg.c",
        "b -> a",
        "b -> pkg.c",
        "pkg.c -> errors",
        "pkg.d -> __init__",
        "pkg.d -> pkg.c",
    ]
    assert modules["type_checking_only"] == ["b -> a"]
    assert modules["deferred_only"] == ["pkg.d -> pkg.c"]
    assert modules["circles"] == [["a", "b"]]
    assert modules["circles_runtime"] == []
    assert modules["floors"] == 3  # a+b, pkg.c, errors
    assert modules["floors_runtime"] == 4  # a, b, pkg.c, errors
    assert modules["longest_chain_runtime"] == ["a", "b", "pkg.c", "errors"]

    assert report["rooms"] == ["a.py", "b.py", "errors.py", "pkg/", "schemas.py", "service.py"]
    assert rooms["arrow_list"] == [
        "a.py -> b.py",
        "a.py -> pkg/",
        "b.py -> a.py",
        "b.py -> pkg/",
        "pkg/ -> __init__",
        "pkg/ -> errors.py",
    ]
    assert rooms["circles"] == [["a.py", "b.py"]]
    assert (rooms["floors"], rooms["floors_runtime"]) == (3, 4)

    folders = report["folders"]
    assert folders["server/chat"]["modules"] == 5
    assert folders["server/chat/pkg"]["modules"] == 2
    assert folders["server/chat"]["modules_with_subfolders"] == 7
    assert report["schemas_importers"]["exact"]["server"] == 1
    assert report["schemas_importers"]["exact"]["tests"] == 1


def test_the_size_of_chat_construction(tmp_path: Path) -> None:
    built = measure(fake_tree(tmp_path))["construction"]

    assert built["chat_init"] == {
        "lines": 5,
        "first_line": 2,
        "parameters": 2,
        "self_constructions": 2,
        "attach_calls": 1,
    }
    assert built["assigned_after_construction"] == ["server/chat_factory.py:2 chat.worker"]
