"""The Engine.IO boundary's contract: every library symbol the engine touches is digested, and
CONTRACT.md lists exactly the symbols contract.py digests.

A failure of the first test after a library upgrade names each symbol whose source changed:
re-read it against its row in server/edge/engine/CONTRACT.md, run the tests that row names,
then update the digest in server/edge/engine/contract.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from server.edge.engine import contract

CONTRACT_MD = Path(__file__).parents[3] / "server" / "edge" / "engine" / "CONTRACT.md"  # not in the wheel
ROW = re.compile(r"^\| \d+ \| `([\w.]+:[\w.]+)` \|", re.MULTILINE)


def test_every_library_symbol_the_engine_touches_has_the_source_it_was_checked_against():
    changed = contract.changed()
    assert not changed, "library source changed; re-read each against CONTRACT.md:\n" + "\n".join(
        f"  {symbol}: {new}" for symbol, new in changed.items()
    )


def test_contract_md_and_contract_py_list_the_same_symbols():
    listed = ROW.findall(CONTRACT_MD.read_text())
    assert len(listed) == len(set(listed)), "a symbol is listed twice in CONTRACT.md"
    assert set(listed) == set(contract.DIGESTS)


def test_the_contract_names_the_versions_it_was_checked_with():
    text = CONTRACT_MD.read_text()
    for library, version in contract.LIBRARIES.items():
        assert f"{library} {version}" in text
