"""The newest migration, read from the revision files' text instead of through Alembic.

Importing Alembic is about a third of a second, and a restarted server's database is nearly always
already at the newest revision (a restart after a crash, which every client then reconnects to):
``db.migrate`` compares the stored revision with this one and loads Alembic only when they differ.
Each file in ``migrations/versions`` names itself and its parent in two plain assignments; the head
is the one revision no other names as its parent. Anything unexpected (a merge's tuple of parents,
two heads, no file) gives ``None``, and the caller then asks Alembic, which is never wrong, only
slow. ``tests/db/test_migrations.py`` checks this answer against Alembic's ``ScriptDirectory``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

VERSIONS = Path(__file__).resolve().parent / "migrations" / "versions"
_REVISION = re.compile(r"""^revision(?:\s*:\s*str)?\s*=\s*['"]([^'"]+)['"]\s*$""", re.MULTILINE)
_PARENT = re.compile(r"""^down_revision(?:\s*:[^=]+)?\s*=\s*(?:None|['"]([^'"]+)['"])\s*$""", re.MULTILINE)


@cache
def head_revision(versions: Path = VERSIONS) -> str | None:
    """The one revision that is nobody's parent, or ``None`` when the files do not say plainly."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision, parent = _REVISION.findall(text), _PARENT.findall(text)
        if not revision and not parent:
            continue  # __init__.py, or a helper module beside the migrations
        if len(revision) != 1 or len(parent) != 1:
            return None  # not the two plain assignments this reads
        revisions.add(revision[0])
        if parent[0]:
            parents.add(parent[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None
