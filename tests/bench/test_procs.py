"""``bench.procs``: the server a bench starts runs from bytecode, as a deployed one does.

A revision the benches run (``--parley-rev``) is a ``git archive`` with no bytecode, and this
machine sets ``PYTHONDONTWRITEBYTECODE``: without compiling first, every start of that server
compiled its modules again, and the start-up figures measured the compiler.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from bench.procs import parley_command


def a_tree(root: Path, body: str = "X = 1\n") -> list[Path]:
    """A checkout's shape as ``git archive`` leaves it: the two packages, no ``__pycache__``."""
    modules = []
    for package in ("server", "db"):
        (root / package / "inner").mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
        module = root / package / "inner" / "module.py"
        module.write_text(body)
        modules.append(module)
    return modules


def compiled(module: Path) -> bool:
    return Path(importlib.util.cache_from_source(str(module))).is_file()


def test_a_source_tree_is_compiled_before_its_server_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # as PYTHONDONTWRITEBYTECODE has it
    modules = a_tree(tmp_path)
    assert not any(compiled(module) for module in modules)

    command = parley_command(tmp_path)

    assert all(compiled(module) for module in modules)
    assert command[0] == sys.executable  # a source tree runs through this interpreter, not the script


def test_a_source_tree_that_does_not_compile_is_refused_before_a_start(tmp_path: Path) -> None:
    a_tree(tmp_path, body="def broken(:\n")

    with pytest.raises(RuntimeError, match="does not compile"):
        parley_command(tmp_path)
