"""What installing Parley promises: the Python it needs, a clean install, the README's commands."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
README = (ROOT / "README.md").read_text()


def test_the_python_the_readme_names_is_the_one_the_package_requires():
    required = PYPROJECT["project"]["requires-python"]
    assert required == ">=3.11"
    assert "Needs Python >= 3.11" in README
    assert 'python_version = "3.11"' in (ROOT / "pyproject.toml").read_text()  # mypy checks for it


def test_the_license_is_an_spdx_string_with_a_setuptools_that_reads_it():
    """A ``{text = ...}`` table made every install print setuptools' deprecation three times."""
    assert PYPROJECT["project"]["license"] == "MIT"
    [backend] = PYPROJECT["build-system"]["requires"]
    assert re.fullmatch(r"setuptools>=(\d+)", backend) and int(backend.split(">=")[1]) >= 77


def test_the_python_socketio_extra_in_the_readme_is_spelled_as_pip_23_finds_it():
    extras = re.findall(r"python-socketio\[([a-z_-]+)\]", README)
    assert extras and set(extras) == {"asyncio-client"}
