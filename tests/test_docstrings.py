"""Comments, docstrings and docs name files that exist (review 4.8: ``gateway/sink.py`` was named
for years after it was gone, and a move of the tree leaves many such names behind).

Python: every ``name.py`` in a comment or string of a module under ``server/`` or ``db/`` (and in
the Markdown there) is a file of this tree: as a path from the root or from the naming file's
folder, else as a path ending of a file under server/, db/ or tests/ (``sio/fanout.py``), else
as a library's (``socketio/async_admin.py``, found where the library is installed).

Docs: every path of the tree (``server/...``, ``db/...``, ``tests/...``, ``docs/...``, ...) that
README.md, docs/ and the Markdown under server/ and db/ name exists. ``bench/results`` is left
out: it records what was measured, under the paths of its day.
"""

from __future__ import annotations

import importlib.util
import io
import re
import tokenize
from functools import cache
from pathlib import Path

from server.config import Settings

ROOT = Path(__file__).resolve().parent.parent
CODE = ("server", "db")
SEARCHED = ("server", "db", "tests")
SKIPPED = ("db/migrations/versions",)
PY_NAME = re.compile(r"(?<![\w/.-])([A-Za-z_][\w/.-]*\.py)\b")
# A path, not a URL's (``@db/parley``) nor a pattern's (``bench/results/gc-*.md``).
TREE_PATH = re.compile(
    r"(?<![\w/.@:-])((?:server|db|tests|docs|web|deploy|bench|client_demo)/[\w./-]*)(?![\w./*<{-])"
)


# Rooms docs/LAYOUT.md describes as planned by issue 19, built on other branches: drop each from
# here when it lands (the test then checks it like any other path).
PLANNED: set[str] = set()  # paths a doc may name before they land


def modules() -> list[Path]:
    found = [p for top in CODE for p in sorted((ROOT / top).rglob("*.py"))]
    return [p for p in found if not any(p.relative_to(ROOT).as_posix().startswith(s) for s in SKIPPED)]


def markdown() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))] + [
        p for top in CODE for p in sorted((ROOT / top).rglob("*.md"))
    ]


def prose_of(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every comment and string of a module; every line of Markdown."""
    text = path.read_text()
    if path.suffix != ".py":
        return list(enumerate(text.splitlines(), 1))
    kinds = (tokenize.COMMENT, tokenize.STRING)
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [(token.start[0], token.string) for token in tokens if token.type in kinds]


@cache
def tree_files() -> tuple[str, ...]:
    return tuple(p.relative_to(ROOT).as_posix() for top in SEARCHED for p in (ROOT / top).rglob("*.py"))


def library_file(name: str) -> bool:
    package, _, rest = name.partition("/")
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return False
    places = list(spec.submodule_search_locations or []) if spec else []
    return bool(rest) and any((Path(place) / rest).is_file() for place in places)


def exists(name: str, near: Path) -> bool:
    if (ROOT / name).is_file() or (near.parent / name).is_file():
        return True
    if any(f == name or f.endswith("/" + name) for f in tree_files()):
        return True
    return library_file(name)


def test_every_python_file_named_in_server_and_db_exists():
    missing = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in modules() + markdown()
        if path.is_relative_to(ROOT / "server") or path.is_relative_to(ROOT / "db")
        for line, text in prose_of(path)
        for name in PY_NAME.findall(text)
        if not exists(name, path)
    ]
    assert not missing, "named but not in the tree:\n" + "\n".join(missing)


def test_every_path_the_docs_name_exists():
    missing = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in markdown()
        for line, text in prose_of(path)
        for name in (found.rstrip(".,:;") for found in TREE_PATH.findall(text))
        if not (ROOT / name).exists() and not (path.parent / name).exists() and name not in PLANNED
    ]
    assert not missing, "named but not in the tree:\n" + "\n".join(missing)


def test_a_file_that_is_gone_is_noticed(tmp_path):
    module = tmp_path / "gateway.py"
    module.write_text('"""The sink of every dialect (``sink.py``, ``serve.py``)."""\n# see gateway/gone.py\n')
    names = [name for _, text in prose_of(module) for name in PY_NAME.findall(text)]
    assert names == ["sink.py", "serve.py", "gateway/gone.py"]
    assert [exists(name, module) for name in names] == [True, True, False]  # the first two: edge/...


def test_every_setting_is_in_the_readme_table():
    """``Settings`` says each knob is documented in the README's table (review 4.8: one was not)."""
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"`PARLEY_{name.upper()}`" not in readme]
    assert not missing, f"settings not in the README table: {missing}"
