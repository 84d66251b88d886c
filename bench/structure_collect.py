"""A pytest plugin for ``bench.structure --tests``: counts the collected tests that need a live server.

Loaded by name (``-p structure_collect``, this folder on ``PYTHONPATH``) so that it works in any
checkout, an exported older commit included, whose own ``bench/`` does not have it. It reads the
fixture names from ``STRUCTURE_LIVE_FIXTURES`` (JSON, ``bench.structure.LIVE_SERVER_FIXTURES``)
and writes its counts to the file ``STRUCTURE_COLLECT_OUT`` names.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    live = set(json.loads(os.environ["STRUCTURE_LIVE_FIXTURES"]))
    by_fixture = dict.fromkeys(sorted(live), 0)
    needing = 0
    for item in session.items:
        used = live & set(getattr(item, "fixturenames", ()))
        needing += bool(used)
        for name in used:
            by_fixture[name] += 1
    import server  # the checkout's own, not the installed one: the caller checks

    report = {
        "collected": len(session.items),
        "live_server": needing,
        "by_fixture": by_fixture,
        "collection_errors": session.testsfailed,
        "server_from": str(Path(server.__file__ or "").parent),
    }
    Path(os.environ["STRUCTURE_COLLECT_OUT"]).write_text(json.dumps(report))
